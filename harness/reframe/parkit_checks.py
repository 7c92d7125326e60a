"""parkit under ReFrame (4.x; not packaged for Debian: pip install
reframe-hpc). One check per kernel x mode, each run by the system
partition's launcher (mpirun or srun: configure the partition's launcher
and its processor count as for any MPI test):

    module load parkit                       # parkit on PATH
    reframe -c $PARKIT/harness/reframe/parkit_checks.py -r
    reframe -c .../parkit_checks.py -r -S workers=16 -n 'parkit_check%kernel=stream'

Sanity: exactly one PARKIT line, with verified=1 (the kernel's own
verification; parkit exits 3 otherwise). Performance variables: the rate
(unit: the line's rate_unit), the median repetition time (s), and the
kernel's headline outputs out_NAME (units from `parkit list --format json`,
which the job writes to catalogue.json). The patterns are in
parkit_line.py beside this file.
"""
import json
import os

import reframe as rfm
import reframe.utility.sanity as sn
from reframe.core.builtins import (parameter, run_after, run_before,
                                   sanity_function, variable)
from reframe.utility import import_module_from_file

parkit_line = import_module_from_file(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "parkit_line.py"))


@rfm.simple_test
class parkit_check(rfm.RunOnlyRegressionTest):
    descr = "parkit: one kernel in one mode, verified, with its rate"
    valid_systems = ["*"]
    valid_prog_environs = ["*"]
    executable = "parkit"
    kernel = parameter(["montecarlo", "stream", "matmul", "pingpong", "sync"])
    mode = parameter(["threads", "ranks", "hybrid"])
    # Cores each run uses: threads 1 x W, ranks W x 1, hybrid W/2 x 2.
    workers = variable(int, value=2)
    # The kernel's options (small problems: seconds per run).
    kernel_arguments = variable(dict, value={
        "montecarlo": ["--estimate", "pi", "--samples", "4000000"],
        "stream": ["--n", "2000000"],
        "matmul": ["--n", "512"],
        "pingpong": ["--max_bytes", "1048576"],
        "sync": ["--iterations", "1000"],
    })
    repetitions = variable(int, value=5)

    @run_after("init")
    def set_launch(self):
        if self.mode == "threads":
            ranks = 1
        elif self.mode == "ranks":
            ranks = self.workers
        else:
            ranks = max(1, self.workers // 2) if self.workers >= 4 else 1
        threads = self.workers // ranks
        self.num_tasks = ranks
        self.num_cpus_per_task = threads
        self.env_vars = {"OMP_NUM_THREADS": str(threads),
                         "OMP_PLACES": "cores", "OMP_PROC_BIND": "close"}
        self.executable_opts = [self.mode, self.kernel]
        if self.mode != "ranks":
            self.executable_opts += ["--threads", str(threads)]
        self.executable_opts += self.kernel_arguments.get(self.kernel, [])
        self.executable_opts += ["--reps", str(self.repetitions), "--quiet",
                                 "--out", "results"]
        self.postrun_cmds = [f"{self.executable} list --format json "
                             "> catalogue.json"]

    @sanity_function
    def verified(self):
        return sn.all([
            sn.assert_eq(sn.count(sn.extractall(r"^PARKIT ", self.stdout)), 1),
            sn.assert_eq(sn.extractsingle(parkit_line.SANITY, self.stdout,
                                          "value", int), 1)])

    def headline_units(self):
        """{out_NAME: unit} of this kernel's headline outputs."""
        with open(os.path.join(self.stagedir, "catalogue.json")) as listed:
            catalogue = json.load(listed)
        kernel = next(k for k in catalogue["kernels"]
                      if k["name"] == self.kernel)
        return {parkit_line.HEADLINE_PREFIX + output["name"]: output["unit"]
                for output in kernel["outputs"] if output["headline"]}

    @run_before("performance")
    def set_performance_variables(self):
        unit = sn.evaluate(sn.extractsingle(parkit_line.RATE_UNIT,
                                            self.stdout, "value"))
        self.perf_variables = {
            "rate": sn.make_performance_function(
                sn.extractsingle(parkit_line.RATE, self.stdout, "value",
                                 float), unit),
            "time_median": sn.make_performance_function(
                sn.extractsingle(parkit_line.TIME_MEDIAN, self.stdout,
                                 "value", float), "s"),
        }
        line = sn.evaluate(sn.extractsingle(r"^PARKIT .*$", self.stdout))
        units = self.headline_units()
        for key in parkit_line.keys(line):
            if key in units:
                self.perf_variables[key] = sn.make_performance_function(
                    sn.extractsingle(parkit_line.field(key), self.stdout,
                                     "value", float), units[key])
