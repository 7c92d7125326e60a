/* Unit tests of drivers/run/topology on hwloc synthetic topologies: counts
 * of cores, PUs, NUMA nodes and caches, the last-level cache sums stream's
 * default size comes from, NUMA nodes of CPUs, the domains a CPU set spans
 * (the placement check's straddle test), and the fallbacks for machines
 * whose caches hwloc does not know or reports implausibly. Every expected
 * number is worked out by hand from the description string. */
#include "check.h"
#include "expect.h"
#include "topology.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MIB (INT64_C(1) << 20)
#define KIB (INT64_C(1) << 10)

/* Two sockets as a dual EPYC in NPS2 mode, scaled down: per package 2 NUMA
 * nodes of 64 GiB, per NUMA node 2 L3 caches of 32 MiB, per L3 4 cores with
 * 1 MiB L2 and 48 KiB L1d each, 2 hardware threads per core numbered as
 * Linux does (core k holds CPUs k and k + 32). So: 32 cores, 64 CPUs,
 * 4 NUMA nodes (node n: cores 8n .. 8n+7), 8 L3 (L3 j: cores 4j .. 4j+3). */
static const char *const two_sockets =
    "Package:2 NUMANode:2(memory=68719476736) L3Cache:2(size=33554432) "
    "L2Cache:4(size=1048576) L1dCache:1(size=49152) Core:1 "
    "PU:2(indexes=2*32:1*2)";

/* One socket, one NUMA node, one 16 MiB L3 over 8 cores with 512 KiB L2 and
 * 32 KiB L1d each, 2 hardware threads per core (core k: CPUs k and k + 8). */
static const char *const one_socket =
    "Package:1 NUMANode:1(memory=17179869184) L3Cache:1(size=16777216) "
    "L2Cache:8(size=524288) L1dCache:1(size=32768) Core:1 "
    "PU:2(indexes=2*8:1*2)";

/* Two packages, each a NUMA node with 2 cores of 2 threads, and no cache
 * information, as virtual machines whose sysfs has none. */
static const char *const no_caches = "Package:2 NUMANode:1 Core:2 PU:2";

/* What some Zen 5 virtual machines make hwloc report: a 508 MiB L3 per
 * core. */
static const char *const implausible_caches =
    "Package:1 NUMANode:1 L3Cache:2(size=532676608) L2Cache:1(size=1048576) "
    "Core:1 PU:1";

/* A large but real cache: 96 MiB L3 over 2 cores (48 MiB per core, as a
 * stacked-cache EPYC with 2 cores per CCD). */
static const char *const large_caches =
    "Package:1 NUMANode:1 L3Cache:1(size=100663296) Core:2 PU:1";

/* The CPUs listed, ended by -1. */
static cpu_set_t cpus_of(int first, ...) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  va_list more;
  va_start(more, first);
  for (int cpu = first; cpu >= 0; cpu = va_arg(more, int))
    CPU_SET(cpu, &cpus);
  va_end(more);
  return cpus;
}

static cpu_set_t cpu_range(int first, int last) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  for (int cpu = first; cpu <= last; ++cpu)
    CPU_SET(cpu, &cpus);
  return cpus;
}

static parkit_topology *load(const char *description) {
  parkit_topology *topology = NULL;
  if (parkit_topology_load_synthetic(description, &topology) != 0) {
    ++failures;
    fprintf(stderr, "cannot load '%s': %s\n", description,
            parkit_error_message());
  }
  return topology;
}

static void expect_last_level(const parkit_topology *topology,
                              const cpu_set_t *cpus, int level, int domains,
                              int fallback_domains, int64_t bytes,
                              const char *what) {
  parkit_last_level_caches caches =
      parkit_topology_last_level_caches(topology, cpus);
  EXPECT(caches.level == level && caches.domains == domains &&
             caches.fallback_domains == fallback_domains &&
             caches.bytes == bytes,
         "%s: level %d, %d domains (%d fallback), %" PRId64
         " bytes; got level %d, %d (%d), %" PRId64,
         what, level, domains, fallback_domains, bytes, caches.level,
         caches.domains, caches.fallback_domains, caches.bytes);
}

static void expect_domains(const parkit_topology *topology,
                           const cpu_set_t *cpus, parkit_domain_kind kind,
                           int count, int fewest_cores, const char *what) {
  parkit_domains domains = parkit_topology_domains(topology, cpus, kind);
  EXPECT(domains.count == count && domains.fewest_cores == fewest_cores,
         "%s: %d domains, fewest %d cores; got %d, %d", what, count,
         fewest_cores, domains.count, domains.fewest_cores);
}

static void expect_counts(const parkit_topology *topology,
                          const cpu_set_t *cpus, int cores, int pus,
                          int numa_nodes, const char *what) {
  int got_cores = parkit_topology_cores(topology, cpus);
  int got_pus = parkit_topology_pus(topology, cpus);
  int got_numa = parkit_topology_numa_nodes(topology, cpus);
  EXPECT(got_cores == cores && got_pus == pus && got_numa == numa_nodes,
         "%s: %d cores, %d PUs, %d NUMA nodes; got %d, %d, %d", what, cores,
         pus, numa_nodes, got_cores, got_pus, got_numa);
}

static void test_two_sockets(void) {
  parkit_topology *topology = load(two_sockets);
  if (topology == NULL)
    return;
  cpu_set_t all;
  parkit_topology_cpus(topology, &all);
  cpu_set_t expected = cpu_range(0, 63);
  EXPECT(CPU_EQUAL(&all, &expected), "CPUs 0-63");
  expect_counts(topology, &all, 32, 64, 4, "whole machine");
  expect_last_level(topology, &all, 3, 8, 0, 8 * 32 * MIB, "whole machine");
  expect_domains(topology, &all, PARKIT_DOMAIN_NUMA, 4, 8, "whole machine");
  expect_domains(topology, &all, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 8, 4,
                 "whole machine");

  cpu_set_t one_core = cpus_of(5, 37, -1);
  expect_counts(topology, &one_core, 1, 2, 1, "core 5");
  expect_last_level(topology, &one_core, 3, 1, 0, 32 * MIB, "core 5");
  expect_domains(topology, &one_core, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 1, 1,
                 "core 5");

  cpu_set_t one_l3 = cpus_of(4, 5, 6, 7, 36, 37, 38, 39, -1);
  expect_counts(topology, &one_l3, 4, 8, 1, "L3 1");
  expect_last_level(topology, &one_l3, 3, 1, 0, 32 * MIB, "L3 1");
  expect_domains(topology, &one_l3, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 1, 4,
                 "L3 1");
  expect_domains(topology, &one_l3, PARKIT_DOMAIN_NUMA, 1, 4, "L3 1");

  /* Cores 2, 3 (L3 0) and 4, 5 (L3 1), all in NUMA node 0. */
  cpu_set_t two_l3 = cpu_range(2, 5);
  expect_counts(topology, &two_l3, 4, 4, 1, "CPUs 2-5");
  expect_last_level(topology, &two_l3, 3, 2, 0, 64 * MIB, "CPUs 2-5");
  expect_domains(topology, &two_l3, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 2, 2,
                 "CPUs 2-5");
  expect_domains(topology, &two_l3, PARKIT_DOMAIN_NUMA, 1, 4, "CPUs 2-5");

  /* Cores 6, 7 (L3 1, NUMA 0), 8 (L3 2, NUMA 1) and 40, the second thread
   * of core 8. */
  cpu_set_t two_numa = cpus_of(6, 7, 8, 40, -1);
  expect_counts(topology, &two_numa, 3, 4, 2, "CPUs 6-8,40");
  expect_domains(topology, &two_numa, PARKIT_DOMAIN_NUMA, 2, 1, "CPUs 6-8,40");
  expect_domains(topology, &two_numa, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 2, 1,
                 "CPUs 6-8,40");

  /* One package: cores 16 .. 31, CPUs 16-31 and 48-63. */
  cpu_set_t package = cpu_range(16, 31), second_threads = cpu_range(48, 63);
  CPU_OR(&package, &package, &second_threads);
  expect_counts(topology, &package, 16, 32, 2, "package 1");
  expect_last_level(topology, &package, 3, 4, 0, 4 * 32 * MIB, "package 1");

  const int cpu[] = {0, 33, 47, 7, 16, 63, 31, 24, 64, -1};
  const int node[] = {0, 0, 1, 0, 2, 3, 3, 3, -1, -1};
  for (size_t i = 0; i < sizeof cpu / sizeof cpu[0]; ++i)
    EXPECT(parkit_topology_numa_node(topology, cpu[i]) == node[i],
           "CPU %d in NUMA node %d, got %d", cpu[i], node[i],
           parkit_topology_numa_node(topology, cpu[i]));

  parkit_cache caches[8];
  int count = parkit_topology_caches(topology, 2, &one_core, caches, 8);
  EXPECT(count == 1 && caches[0].level == 2 && caches[0].bytes == MIB &&
             CPU_EQUAL(&caches[0].cpus, &one_core),
         "one 1 MiB L2 of CPUs 5,37; got %d", count);
  count = parkit_topology_caches(topology, 3, &all, caches, 8);
  EXPECT(count == 8, "8 L3, got %d", count);
  for (int i = 0; i < count && i < 8; ++i) {
    cpu_set_t shared = cpu_range(4 * i, 4 * i + 3),
              siblings = cpu_range(4 * i + 32, 4 * i + 35);
    CPU_OR(&shared, &shared, &siblings);
    EXPECT(caches[i].bytes == 32 * MIB && CPU_EQUAL(&caches[i].cpus, &shared),
           "L3 %d: 32 MiB over cores %d-%d", i, 4 * i, 4 * i + 3);
  }
  count = parkit_topology_caches(topology, 1, &all, caches, 8);
  EXPECT(count == 32 && caches[7].bytes == 48 * KIB, "32 L1d of 48 KiB, got %d",
         count);

  parkit_hardware_summary summary;
  parkit_topology_summarize(topology, &two_numa, &summary);
  EXPECT(summary.numa_nodes == 2 && summary.cache_bytes[0] == 48 * KIB &&
             summary.cache_bytes[1] == MIB &&
             summary.cache_bytes[2] == 32 * MIB && summary.cache_cpus[0] == 2 &&
             summary.cache_cpus[1] == 2 && summary.cache_cpus[2] == 8 &&
             summary.last_level.domains == 2 &&
             summary.last_level.bytes == 64 * MIB,
         "summary of CPUs 6-8,40");
  parkit_topology_free(topology);
}

static void test_one_socket(void) {
  parkit_topology *topology = load(one_socket);
  if (topology == NULL)
    return;
  cpu_set_t all;
  parkit_topology_cpus(topology, &all);
  cpu_set_t expected = cpu_range(0, 15);
  EXPECT(CPU_EQUAL(&all, &expected), "CPUs 0-15");
  expect_counts(topology, &all, 8, 16, 1, "whole machine");
  expect_last_level(topology, &all, 3, 1, 0, 16 * MIB, "whole machine");
  expect_domains(topology, &all, PARKIT_DOMAIN_NUMA, 1, 8, "whole machine");
  expect_domains(topology, &all, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 1, 8,
                 "whole machine");

  cpu_set_t siblings = cpus_of(3, 11, -1);
  expect_counts(topology, &siblings, 1, 2, 1, "core 3");
  cpu_set_t first_threads = cpu_range(0, 7);
  expect_counts(topology, &first_threads, 8, 8, 1, "CPUs 0-7");
  /* One CPU uses the whole shared L3. */
  cpu_set_t one = cpus_of(6, -1);
  expect_last_level(topology, &one, 3, 1, 0, 16 * MIB, "CPU 6");
  /* A CPU hwloc does not know counts as a core of its own. */
  cpu_set_t with_unknown = cpus_of(0, 8, 500, -1);
  expect_counts(topology, &with_unknown, 2, 2, 1, "CPUs 0,8,500");
  EXPECT(parkit_topology_numa_node(topology, 500) == -1, "CPU 500 unknown");
  EXPECT(parkit_topology_numa_node(topology, 15) == 0, "CPU 15 in node 0");

  parkit_hardware_summary summary;
  parkit_topology_summarize(topology, &all, &summary);
  EXPECT(summary.numa_nodes == 1 && summary.cache_bytes[0] == 32 * KIB &&
             summary.cache_bytes[1] == 512 * KIB &&
             summary.cache_bytes[2] == 16 * MIB && summary.cache_cpus[2] == 16,
         "summary of the socket");
  parkit_topology_free(topology);
}

static void test_no_caches(void) {
  parkit_topology *topology = load(no_caches);
  if (topology == NULL)
    return;
  cpu_set_t all;
  parkit_topology_cpus(topology, &all);
  expect_counts(topology, &all, 4, 8, 2, "whole machine");
  /* Each package stands for a last-level cache of the fallback size. */
  expect_last_level(topology, &all, 0, 2, 2, 2 * PARKIT_FALLBACK_CACHE_BYTES,
                    "whole machine");
  cpu_set_t first_package = cpu_range(0, 3);
  expect_last_level(topology, &first_package, 0, 1, 1,
                    PARKIT_FALLBACK_CACHE_BYTES, "package 0");
  /* No known cache: no cache domain to straddle. */
  expect_domains(topology, &all, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 0, 0,
                 "whole machine");
  parkit_cache caches[4];
  EXPECT(parkit_topology_caches(topology, 3, &all, caches, 4) == 0, "no L3");
  parkit_hardware_summary summary;
  parkit_topology_summarize(topology, &all, &summary);
  EXPECT(summary.cache_bytes[0] == 0 && summary.cache_bytes[1] == 0 &&
             summary.cache_bytes[2] == 0 && summary.cache_cpus[2] == 0 &&
             summary.last_level.fallback_domains == 2,
         "summary without caches");
  parkit_topology_free(topology);
}

static void test_implausible_caches(void) {
  parkit_topology *topology = load(implausible_caches);
  if (topology == NULL)
    return;
  cpu_set_t all;
  parkit_topology_cpus(topology, &all);
  expect_counts(topology, &all, 2, 2, 1, "whole machine");
  expect_last_level(topology, &all, 3, 2, 2, 2 * PARKIT_FALLBACK_CACHE_BYTES,
                    "508 MiB L3 per core");
  expect_domains(topology, &all, PARKIT_DOMAIN_LAST_LEVEL_CACHE, 0, 0,
                 "508 MiB L3 per core");
  parkit_cache caches[2];
  int count = parkit_topology_caches(topology, 3, &all, caches, 2);
  EXPECT(count == 2 && caches[0].bytes == 0 &&
             caches[0].reported_bytes == INT64_C(532676608),
         "the L3 is listed, of unknown size");
  parkit_hardware_summary summary;
  parkit_topology_summarize(topology, &all, &summary);
  EXPECT(summary.cache_bytes[1] == MIB && summary.cache_bytes[2] == 0,
         "L2 1 MiB, L3 unknown");
  parkit_topology_free(topology);

  topology = load(large_caches);
  if (topology == NULL)
    return;
  parkit_topology_cpus(topology, &all);
  expect_last_level(topology, &all, 3, 1, 0, 96 * MIB, "96 MiB over 2 cores");
  parkit_topology_free(topology);
}

static void test_bad_description(void) {
  parkit_topology *topology = NULL;
  parkit_error_clear();
  EXPECT(parkit_topology_load_synthetic("Banana:2 PU:2", &topology) != 0 &&
             topology == NULL,
         "an unreadable description fails");
  EXPECT(strstr(parkit_error_message(), "Banana:2") != NULL,
         "the message names it: %s", parkit_error_message());
  parkit_error_clear();
}

static void test_this_machine(void) {
  parkit_topology *topology = NULL;
  EXPECT(parkit_topology_load(&topology) == 0, "loads: %s",
         parkit_error_message());
  if (topology == NULL)
    return;
  cpu_set_t mine;
  EXPECT(sched_getaffinity(0, sizeof mine, &mine) == 0, "affinity");
  int cores = parkit_topology_cores(topology, &mine);
  EXPECT(cores >= 1 && cores <= CPU_COUNT(&mine), "%d cores of %d CPUs", cores,
         CPU_COUNT(&mine));
  EXPECT(parkit_topology_pus(topology, &mine) == CPU_COUNT(&mine),
         "every CPU of this process is in the topology");
  parkit_last_level_caches caches =
      parkit_topology_last_level_caches(topology, &mine);
  EXPECT(caches.domains >= 1 && caches.bytes > 0, "some last-level cache");
  parkit_topology_free(topology);
}

int main(void) {
  test_two_sockets();
  test_one_socket();
  test_no_caches();
  test_implausible_caches();
  test_bad_description();
  test_this_machine();
  if (failures) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("topology: all tests passed\n");
  return 0;
}
