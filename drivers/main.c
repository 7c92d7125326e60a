/*
 * parkit: run one kernel as threads, ranks or a hybrid, and record it.
 *
 * main() reads as the outline of a run:
 *   prolog  parse the command line, start MPI, check the launch and the
 *           input on every rank and agree on it before any collective work;
 *   work    warn about placement, run the kernel through the runner;
 *   epilog  write the HDF5 result file, print the summary, exit with the
 *           verification's verdict.
 * Bad input ends every rank together with one message and exit status 2.
 * A failure once the kernel has started aborts the whole job (the other
 * ranks may be inside a collective call) with a message naming the rank and
 * the phase, exit status 1. A failed verification exits with 3.
 * A stop signal (SIGUSR1, SIGTERM, SIGINT; see signals.h) ends the run after
 * the current repetition: the file holds the repetitions completed, exit
 * status 4; stopped before any repetition finished, or by a second signal
 * before the file was safe, the run leaves no file and exits with 5.
 */
#include "agreement.h"
#include "build_info.h"
#include "catalogue.h"
#include "check.h"
#include "cli.h"
#include "guard.h"
#include "launch_command.h"
#include "output_path.h"
#include "placement.h"
#include "probe.h"
#include "progress.h"
#include "provenance.h"
#include "report.h"
#include "result_file.h"
#include "run_record.h"
#include "runner.h"
#include "signals.h"
#include "summary.h"

#include <hdf5.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum exit_status {
  EXIT_VERIFIED = PARKIT_EXIT_VERIFIED,
  EXIT_RUN_FAILED = PARKIT_EXIT_RUN_FAILED,
  EXIT_BAD_INPUT = PARKIT_EXIT_BAD_INPUT,
  EXIT_NOT_VERIFIED = PARKIT_EXIT_NOT_VERIFIED,
  EXIT_INTERRUPTED = PARKIT_EXIT_INTERRUPTED,
  EXIT_ABANDONED = PARKIT_EXIT_ABANDONED,
};

typedef struct prepared_run {
  parkit_command command;
  parkit_placement placement;
  parkit_context context;
  parkit_provenance provenance;
  char path[4096];
  char scratch_dir[4096]; /* the directory of `path`: context.scratch_dir */
  double progress_after;  /* s, PARKIT_PROGRESS_AFTER (progress.h) */
} prepared_run;

/* Commands that need no MPI: list, help, --version. */
static int run_without_mpi(const parkit_command *command) {
  switch (command->kind) {
  case PARKIT_COMMAND_LIST:
    if (command->list_format == PARKIT_LIST_TEXT) {
      parkit_print_list(stdout);
    } else if (parkit_print_catalogue(stdout) != 0) {
      fprintf(stderr, "parkit: error: %s\n", parkit_error_message());
      return EXIT_RUN_FAILED;
    }
    break;
  case PARKIT_COMMAND_HELP:
    if (command->kernel)
      parkit_print_kernel_help(stdout, command->kernel);
    else
      parkit_print_usage(stdout);
    break;
  case PARKIT_COMMAND_VERSION:
    printf("parkit %s (%s)\n", PARKIT_VERSION, PARKIT_GIT_COMMIT);
    break;
  case PARKIT_COMMAND_RUN:
    break;
  }
  return EXIT_VERIFIED;
}

/* Collective. True when any rank failed; the message of the lowest failing
 * rank is then in `message` on rank 0. */
static bool any_rank_failed(bool failed, char *message, int size,
                            MPI_Comm world) {
  int rank = 0, ranks = 1;
  PARKIT_MPI_REQUIRE(MPI_Comm_rank(world, &rank));
  PARKIT_MPI_REQUIRE(MPI_Comm_size(world, &ranks));
  int candidate = failed ? rank : ranks, first = ranks;
  PARKIT_MPI_REQUIRE(
      MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, world));
  if (first == ranks)
    return false;
  if (first != 0)
    PARKIT_MPI_REQUIRE(MPI_Bcast(message, size, MPI_CHAR, first, world));
  return true;
}

/* Checks the kernel's own rules and that the problem fits in memory.
 * Collective over the node's ranks (they sum their memory needs). */
static int check_problem(prepared_run *run, char *message, size_t size) {
  const parkit_kernel *kernel = run->command.kernel;
  if (kernel->validate &&
      kernel->validate(&run->context, run->command.options, message, size) != 0)
    return -1;
  double mine = kernel->memory_bytes(&run->context, run->command.options);
  double on_node = 0;
  PARKIT_MPI_REQUIRE(MPI_Allreduce(&mine, &on_node, 1, MPI_DOUBLE, MPI_SUM,
                                   run->placement.node_comm));
  double available = parkit_memory_available();
  if (available > 0 && on_node > available) {
    snprintf(message, size,
             "%s needs %.0f bytes (%.2f GiB) on node %s (%d rank%s), but only "
             "%.0f bytes (%.2f GiB) are available; choose a smaller problem "
             "or more nodes",
             kernel->name, on_node, on_node / 1073741824.0, run->placement.host,
             run->placement.node_size, run->placement.node_size == 1 ? "" : "s",
             available, available / 1073741824.0);
    return -1;
  }
  return 0;
}

/* The command line, the mode against the launch, the thread count and the
 * progress delay. Not collective: every rank parses the same argv (and
 * environment) to the same answer. */
static int check_input(prepared_run *run, int argc, char **argv, MPI_Comm world,
                       char *message, size_t size) {
  int rank = 0, ranks = 1;
  PARKIT_MPI_REQUIRE(MPI_Comm_rank(world, &rank));
  PARKIT_MPI_REQUIRE(MPI_Comm_size(world, &ranks));
  if (parkit_command_parse(argc, argv, &run->command, message, size) != 0)
    return -1;
  const parkit_fault *fault = &run->command.fault;
  if (fault->kind != PARKIT_FAULT_NONE && fault->rank >= ranks) {
    snprintf(message, size,
             "--inject-fault '%s': rank %ld does not exist; allowed: 0 to %d",
             run->command.common[PARKIT_COMMON_INJECT_FAULT].text, fault->rank,
             ranks - 1);
    return -1;
  }
  int threads = 1;
  if (parkit_choose_threads(&run->command, &run->placement, ranks, &threads,
                            message, size) != 0 ||
      parkit_progress_after_from_environment(&run->progress_after, message,
                                             size) != 0)
    return -1;
  run->context = (parkit_context){
      .comm = MPI_COMM_NULL,
      .rank = rank,
      .size = ranks,
      .threads = threads,
      .seed = (uint64_t)run->command.common[PARKIT_COMMON_SEED].integer,
      .last_level_cache_bytes = run->placement.job_last_level_cache_bytes,
  };
  return 0;
}

/* The output location is checked (and created) by rank 0 only, after all
 * other input checks passed, so bad input leaves nothing behind. */
static int prepare_output(prepared_run *run, char *message, size_t size) {
  parkit_output_request request = {
      .out = run->command.common[PARKIT_COMMON_OUT].text,
      .kernel = run->command.kernel->name,
      .mode = parkit_mode_name(run->command.mode),
      .ranks = run->context.size,
      .threads = run->context.threads,
      .replace = run->command.common[PARKIT_COMMON_REPLACE].flag,
  };
  return parkit_output_path_prepare(&request, run->path, sizeof run->path,
                                    message, size);
}

/* Kernels keep their scratch files beside the result file. */
static void set_scratch_dir(prepared_run *run) {
  parkit_path_directory(run->path, run->scratch_dir, sizeof run->scratch_dir);
  run->context.scratch_dir = run->scratch_dir;
}

/* Prolog. Returns EXIT_VERIFIED to go on, or the exit status to stop with;
 * on failure rank 0 has printed the reason. Collective. */
static int prepare(prepared_run *run, int argc, char **argv, MPI_Comm world) {
  char message[1024] = "";
  int rank = 0;
  PARKIT_MPI_REQUIRE(MPI_Comm_rank(world, &rank));
  bool failed = parkit_placement_init(&run->placement, world) != 0;
  if (failed)
    snprintf(message, sizeof message, "%s", parkit_error_message());
  if (any_rank_failed(failed, message, sizeof message, world)) {
    if (rank == 0)
      fprintf(stderr, "parkit: error: %s\n", message);
    return EXIT_RUN_FAILED;
  }
  failed = check_input(run, argc, argv, world, message, sizeof message) != 0;
  bool input_failed = any_rank_failed(failed, message, sizeof message, world);
  if (!input_failed) /* collective: the same answer on every rank */
    input_failed = parkit_command_agree(&run->command, world, message,
                                        sizeof message) != 0;
  if (!input_failed) {
    failed = check_problem(run, message, sizeof message) != 0;
    input_failed = any_rank_failed(failed, message, sizeof message, world);
  }
  if (!input_failed) {
    failed = rank == 0 && prepare_output(run, message, sizeof message) != 0;
    input_failed = any_rank_failed(failed, message, sizeof message, world);
  }
  if (input_failed) {
    if (rank == 0)
      fprintf(stderr, "parkit: error: %s\n", message);
    return EXIT_BAD_INPUT;
  }
  PARKIT_MPI_REQUIRE(
      MPI_Bcast(run->path, sizeof run->path, MPI_CHAR, 0, world));
  set_scratch_dir(run);
  return EXIT_VERIFIED;
}

/* Ends every rank after a failure inside the kernel or the writer. A result
 * file being written is removed first: nothing half-written stays behind. */
static _Noreturn void abort_run(const prepared_run *run, const char *phase) {
  fprintf(stderr, "parkit: error: rank %d of %d (host %s) failed in %s: %s\n",
          run->context.rank, run->context.size, run->placement.host, phase,
          parkit_error_message());
  fflush(stderr);
  parkit_result_file_discard();
  MPI_Abort(MPI_COMM_WORLD, EXIT_RUN_FAILED);
  exit(EXIT_RUN_FAILED);
}

/* The watchdog: from here on, a rank that hangs says so and ends, and the
 * launcher ends the others (the crash handlers are in place since start-up,
 * install_crash_handlers). */
static void start_guard(const prepared_run *run) {
  long watchdog = (long)run->command.common[PARKIT_COMMON_WATCHDOG].integer;
  if (watchdog > 0 && parkit_watchdog_start(watchdog, EXIT_RUN_FAILED) != 0)
    abort_run(run, "start");
}

/* Right after MPI_Init (which installs Open MPI's own handlers): a rank that
 * crashes anywhere in parkit says so, naming its rank, host and phase. */
static int install_crash_handlers(void) {
  int rank = 0, size = 1;
  PARKIT_MPI_CALL(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  PARKIT_MPI_CALL(MPI_Comm_size(MPI_COMM_WORLD, &size));
  char host[PARKIT_HOST_TEXT];
  parkit_host_name(host, sizeof host);
  return parkit_guard_install(rank, size, host);
}

static void start_context(prepared_run *run, MPI_Comm world) {
  if (MPI_Comm_dup(world, &run->context.comm) != MPI_SUCCESS ||
      MPI_Comm_set_errhandler(run->context.comm, MPI_ERRORS_RETURN) !=
          MPI_SUCCESS) {
    parkit_error_set(__FILE__, __LINE__,
                     "cannot create the kernel's communicator");
    abort_run(run, "setup");
  }
  omp_set_dynamic(0);
  omp_set_num_threads(run->context.threads);
}

/* A stop signal came before any timed repetition finished: nothing worth a
 * result file. Every rank agreed on it in the runner. */
static int abandon(prepared_run *run, parkit_run_result *result) {
  if (run->context.rank == 0)
    fprintf(stderr, "parkit: error: stopped by a signal before any timed "
                    "repetition finished; no result file written\n");
  parkit_run_result_free(result);
  (void)MPI_Comm_free(&run->context.comm); /* the end: nothing depends on it */
  return EXIT_ABANDONED;
}

static int work_and_epilog(prepared_run *run, int argc, char **argv,
                           int thread_level, MPI_Comm world) {
  const parkit_command *command = &run->command;
  bool quiet = command->common[PARKIT_COMMON_QUIET].flag;
  start_guard(run);
  if (parkit_provenance_collect(&run->provenance, argc, argv, thread_level,
                                world) != 0)
    abort_run(run, "provenance");
  if (parkit_warn_about_placement(&run->placement, command,
                                  run->context.threads, argc, argv, world) != 0)
    abort_run(run, "placement check");
  start_context(run, world);
  parkit_runner_settings settings = {
      .repetitions = (int)command->common[PARKIT_COMMON_REPS].integer,
      .warmup = (int)command->common[PARKIT_COMMON_WARMUP].integer,
      .batch = (int)command->common[PARKIT_COMMON_BATCH].integer,
      .nodes = run->placement.node_count,
      .progress = !quiet,
      .progress_after = run->progress_after,
      .fault = &command->fault,
      .interference = {.node_comm = run->placement.node_comm,
                       .node_leader = run->placement.node_rank == 0,
                       .node_cpus = &run->placement.node_cpus,
                       .threads = run->context.threads},
      .topology = run->placement.topology,
  };
  parkit_run_result result;
  const char *phase = NULL;
  if (parkit_run_kernel(command->kernel, &run->context, command->options,
                        &settings, &result, &phase) != 0)
    abort_run(run, phase);
  if (result.repetitions_completed == 0)
    return abandon(run, &result);
  parkit_run_record record = {.command = command,
                              .context = &run->context,
                              .placement = &run->placement,
                              .result = &result,
                              .provenance = &run->provenance};
  parkit_utc_now(record.finished_utc, sizeof record.finished_utc);
  PARKIT_MPI_REQUIRE(MPI_Bcast(record.finished_utc, sizeof record.finished_utc,
                               MPI_CHAR, 0, world));
  snprintf(record.path, sizeof record.path, "%s", run->path);
  parkit_guard_phase("write");
  if (parkit_fault_point(&command->fault, "write", run->context.rank) != 0 ||
      parkit_result_file_write(&record, world) != 0)
    abort_run(run, "writing the result file");
  parkit_guard_phase("finish");
  if (run->context.rank == 0) {
    if (!quiet)
      parkit_print_summary(stdout, &record);
    parkit_print_key_values(stdout, &record);
    fflush(stdout);
  }
  int status = result.verdict.passed ? EXIT_VERIFIED : EXIT_NOT_VERIFIED;
  if (!result.verdict.passed && run->context.rank == 0)
    fprintf(stderr, "parkit: error: %s verification failed: %s\n",
            command->kernel->name, result.verdict.message);
  if (result.interrupted && run->context.rank == 0)
    fprintf(stderr,
            "parkit: warning: stopped by a signal after %d of %d timed "
            "repetitions; the result file holds those (interrupted=1)\n",
            result.repetitions_completed, result.repetitions);
  if (result.interrupted && status == EXIT_VERIFIED)
    status = EXIT_INTERRUPTED;
  parkit_run_result_free(&result);
  (void)MPI_Comm_free(&run->context.comm); /* the end: nothing depends on it */
  return status;
}

/* MPI with threads that do not call it (FUNNELED: only the thread that
 * called the kernel does), errors returned on MPI_COMM_WORLD, HDF5's
 * errors as messages instead of printed stacks. Returns 0, or -1 with the
 * error set (MPI then finalized where it started). */
static int start_mpi(int *argc, char ***argv, int *thread_level) {
  int code = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, thread_level);
  if (code != MPI_SUCCESS) {
    parkit_error_set(__FILE__, __LINE__, "MPI_Init_thread failed (code %d)",
                     code);
    return -1;
  }
  int failed = 0;
  if (*thread_level < MPI_THREAD_FUNNELED) {
    parkit_error_set(__FILE__, __LINE__,
                     "the MPI library grants thread level %d, below "
                     "MPI_THREAD_FUNNELED (%d), which parkit needs (its "
                     "OpenMP threads share a process with MPI); use an MPI "
                     "built with thread support",
                     *thread_level, MPI_THREAD_FUNNELED);
    failed = 1;
  } else if ((code = MPI_Comm_set_errhandler(
                  MPI_COMM_WORLD, MPI_ERRORS_RETURN)) != MPI_SUCCESS) {
    parkit_error_mpi(__FILE__, __LINE__, "MPI_Comm_set_errhandler", code);
    failed = 1;
  } else if (H5Eset_auto2(H5E_DEFAULT, NULL, NULL) < 0) {
    parkit_error_hdf5(__FILE__, __LINE__, "H5Eset_auto2");
    failed = 1;
  }
  if (failed)
    (void)MPI_Finalize(); /* ending with an error already */
  return failed ? -1 : 0;
}

int main(int argc, char **argv) {
  /* The spawn probe's helper processes: before anything else, MPI_Init
   * included (see kernels/probes/probe.h). */
  if (argc >= 2 && strcmp(argv[1], PARKIT_PROBE_CHILD_ARGUMENT) == 0)
    return parkit_probe_child_main(argc, argv);
  /* report reads result files only; launch and splits print commands: no
   * MPI, no mpirun. */
  if (argc >= 2 && strcmp(argv[1], "report") == 0)
    return parkit_report_main(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "launch") == 0)
    return parkit_launch_main(argc - 2, argv + 2);
  if (argc >= 2 && strcmp(argv[1], "splits") == 0)
    return parkit_splits_main(argc - 2, argv + 2);
  parkit_command command;
  char message[1024];
  /* list, help and --version (and their mistakes) need no MPI. */
  bool parsed =
      parkit_command_parse(argc, argv, &command, message, sizeof message) == 0;
  if (parsed && command.kind != PARKIT_COMMAND_RUN)
    return run_without_mpi(&command);
  parkit_command_free(&command);
  parkit_mode mode;
  if (argc < 2 || !parkit_mode_parse(argv[1], &mode)) {
    fprintf(stderr, "parkit: error: %s\n", message);
    return EXIT_BAD_INPUT;
  }

  /* Stop signals during MPI_Init are stop requests too (signals.h). */
  if (parkit_signals_install() != 0) {
    fprintf(stderr, "parkit: error: %s\n", parkit_error_message());
    return EXIT_RUN_FAILED;
  }
  int thread_level = MPI_THREAD_SINGLE;
  if (start_mpi(&argc, &argv, &thread_level) != 0) {
    fprintf(stderr, "parkit: error: %s\n", parkit_error_message());
    return EXIT_RUN_FAILED;
  }
  if (install_crash_handlers() != 0 || parkit_signals_install() != 0) {
    fprintf(stderr, "parkit: error: %s\n", parkit_error_message());
    (void)MPI_Finalize(); /* ending with an error already */
    return EXIT_RUN_FAILED;
  }

  prepared_run run;
  memset(&run, 0, sizeof run);
  int status = prepare(&run, argc, argv, MPI_COMM_WORLD);
  if (status == EXIT_VERIFIED)
    status = work_and_epilog(&run, argc, argv, thread_level, MPI_COMM_WORLD);
  parkit_watchdog_disarm();
  parkit_command_free(&run.command);
  parkit_placement_free(&run.placement);
  if (MPI_Finalize() != MPI_SUCCESS && status == EXIT_VERIFIED) {
    fprintf(stderr, "parkit: error: MPI_Finalize failed after the run (its "
                    "result file is complete)\n");
    status = EXIT_RUN_FAILED;
  }
  return status;
}
