"""The hardware parkit records and warns about, against hwloc's own tools:
the NUMA node of every thread against hwloc-calc, each node's caches and
last-level cache sums against lstopo's XML, stream's default size, and the
warning about threads that span NUMA nodes or caches.

Each check runs on this machine and on synthetic machines given to parkit
and to the tools alike through HWLOC_SYNTHETIC, hwloc's own variable (every
hwloc program then sees that topology; the CPUs keep their numbers, so
threads still run where the synthetic machine says they are): one NUMA
node and one L3 per CPU, several L3 in one NUMA node, no cache information
at all (some virtual machines), and the implausible 508 MB L3 per core that
hwloc reports on some Zen 5 virtual machines."""
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import h5py
import pytest

from conftest import key_values, mpirun, run_parkit

MIB = 1 << 20
FALLBACK_CACHE_BYTES = 32 * MIB   # topology.h: a cache of unknown size
PER_CORE_LIMIT = 256 * MIB        # topology.h: more per core is implausible
CPUS = sorted(os.sched_getaffinity(0))
WIDTH = max(CPUS) + 1             # synthetic machines have CPUs 0 .. WIDTH-1
MACHINES = {
    "this machine": None,
    "a NUMA node and an L3 per CPU":
        f"Package:{WIDTH} NUMANode:1 L3Cache:1(size=33554432) "
        "L2Cache:1(size=1048576) L1dCache:1(size=49152) Core:1 PU:1",
    "an L3 per CPU in one NUMA node":
        f"Package:1 NUMANode:1 L3Cache:{WIDTH}(size=16777216) "
        "L2Cache:1(size=524288) Core:1 PU:1",
    "no cache information": f"Package:{WIDTH} NUMANode:1 Core:1 PU:1",
    "a 508 MB L3 per core":
        f"Package:1 NUMANode:1 L3Cache:{WIDTH}(size=532676608) Core:1 PU:1",
}
QUICK = ["montecarlo", "--estimate", "pi", "--samples", "20000", "--reps",
         "1", "--warmup", "0"]


@pytest.fixture(scope="module", autouse=True)
def hwloc_tools():
    for tool in ("hwloc-calc", "lstopo-no-graphics"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install the Debian package "
                        "hwloc (scripts/install-deps.sh)")


def environment(description):
    """HWLOC_SYNTHETIC for a synthetic machine; unset for this one."""
    return {"HWLOC_SYNTHETIC": description}


def tool_environment(description):
    env = dict(os.environ)
    env.pop("HWLOC_SYNTHETIC", None)
    if description is not None:
        env["HWLOC_SYNTHETIC"] = description
    return env


def hwloc_numa_node(cpu, description):
    """hwloc-calc's NUMA node of CPU `cpu` (physical numbers in and out;
    the lowest where several NUMA nodes hold it)."""
    text = subprocess.run(
        ["hwloc-calc", "--physical", "--intersect", "NUMAnode", f"pu:{cpu}"],
        capture_output=True, text=True, check=True,
        env=tool_environment(description)).stdout.strip()
    return min(int(node) for node in text.split(","))


def parse_cpus(text):
    """'0-3,8' -> {0, 1, 2, 3, 8}"""
    cpus = set()
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def bitmap(text):
    """An hwloc cpuset string ('0x00000003', '0x1,0xffffffff') as an int."""
    return int("".join(chunk.replace("0x", "") for chunk in text.split(",")),
               16)


def lstopo_hardware(cpus, description):
    """What lstopo's XML says of the CPUs `cpus`, computed as results/
    README.md defines the node columns: the largest L1d, L2, L3 (of sane
    size) and its CPUs, the NUMA node count, and the distinct last-level
    caches (a CPU without cache: its package) with their sizes."""
    text = subprocess.run(["lstopo-no-graphics", "--of", "xml", "-"],
                          capture_output=True, text=True, check=True,
                          env=tool_environment(description)).stdout
    root = ElementTree.fromstring(text)
    mask = sum(1 << cpu for cpu in cpus)

    def sane_size(cache):
        cores = len(cache.findall(".//object[@type='Core']")) or \
            len(cache.findall(".//object[@type='PU']")) or 1
        size = int(cache.get("cache_size", "0"))
        return 0 if size == 0 or size / cores > PER_CORE_LIMIT else size

    largest = {}
    for cache in root.iter("object"):
        level = re.fullmatch(r"L(\d)Cache", cache.get("type"))
        if level and bitmap(cache.get("cpuset")) & mask:
            size = sane_size(cache)
            sharing = bin(bitmap(cache.get("cpuset"))).count("1")
            best = largest.get(int(level.group(1)))
            if best is None or size > best[0]:
                largest[int(level.group(1))] = (size, sharing)

    last_level = {}  # id of the cache (or package) -> its sane size

    def walk(element, caches, package):
        kind = element.get("type")
        if re.fullmatch(r"L\dCache", kind):
            caches = caches + [element]
        if kind == "Package":
            package = element
        if kind == "PU" and int(element.get("os_index")) in cpus:
            top = max(caches, key=lambda c: int(c.get("depth")), default=None)
            domain = top if top is not None else (package or root)
            last_level[id(domain)] = sane_size(top) if top is not None else 0
        for child in element.findall("object"):
            walk(child, caches, package)

    walk(root.find("object"), [], None)
    sizes = list(last_level.values())
    return {
        "cache_bytes": [largest.get(level, (0, 0))[0] for level in (1, 2, 3)],
        "cache_cpus": [largest.get(level, (0, 0))[1] for level in (1, 2, 3)],
        "numa_nodes": len({hwloc_numa_node(cpu, description) for cpu in cpus}),
        "llc_domains": len(sizes),
        "llc_fallback_domains": sizes.count(0),
        "llc_bytes": sum(size or FALLBACK_CACHE_BYTES for size in sizes),
    }


def run(arguments, description, tmp_path, launcher=None, env=None):
    # --replace: a test may run twice into its one file.
    result = run_parkit(arguments + ["--out", tmp_path / "run.h5", "--replace"],
                        launcher=launcher,
                        env={**environment(description), **(env or {})})
    assert result.returncode == 0, result.stderr
    return result, tmp_path / "run.h5"


@pytest.mark.parametrize("machine", MACHINES)
def test_each_thread_has_the_numa_node_hwloc_calc_gives(machine, tmp_path):
    # Threads bound one per core: they sit on different CPUs.
    description = MACHINES[machine]
    _, path = run(["threads"] + QUICK + ["--threads", len(CPUS)],
                  description, tmp_path,
                  env={"OMP_PLACES": "cores", "OMP_PROC_BIND": "close"})
    with h5py.File(path, "r") as f:
        cpus, nodes = f["ranks/thread_cpu"][:], f["ranks/thread_numa"][:]
    assert cpus.shape == nodes.shape == (1, len(CPUS))
    for cpu, node in zip(cpus.flat, nodes.flat):
        assert node == hwloc_numa_node(cpu, description), (cpu, node)


@pytest.mark.skipif(len(CPUS) < 2, reason="needs 2 CPUs for 2 bound ranks")
@pytest.mark.parametrize("machine", ["this machine",
                                     "a NUMA node and an L3 per CPU"])
def test_ranks_bound_to_cores_record_their_numa_nodes(machine, tmp_path):
    description = MACHINES[machine]
    launcher = mpirun(2, "--map-by", "core", "--bind-to", "core")
    if description:
        launcher += ["-x", f"HWLOC_SYNTHETIC={description}"]
    _, path = run(["ranks"] + QUICK, None, tmp_path, launcher=launcher)
    with h5py.File(path, "r") as f:
        cpus, nodes = f["ranks/thread_cpu"][:], f["ranks/thread_numa"][:]
    assert nodes.shape == (2, 1) and cpus[0, 0] != cpus[1, 0]
    for cpu, node in zip(cpus.flat, nodes.flat):
        assert node == hwloc_numa_node(cpu, description), (cpu, node)


@pytest.mark.parametrize("machine", MACHINES)
def test_node_caches_are_what_lstopo_reports(machine, tmp_path):
    description = MACHINES[machine]
    _, path = run(["threads"] + QUICK + ["--threads", "1"], description,
                  tmp_path)
    with h5py.File(path, "r") as f:
        cpus = parse_cpus(f["nodes/cpuset"][0].decode())
        recorded = {name: f["nodes/" + name][0].tolist()
                    for name in ("cache_bytes", "cache_cpus", "numa_nodes",
                                 "llc_domains", "llc_fallback_domains",
                                 "llc_bytes")}
        job = (f.attrs["last_level_cache_bytes"],
               f.attrs["last_level_cache_fallback_domains"])
    assert cpus == set(CPUS)
    expected = lstopo_hardware(cpus, description)
    assert recorded == expected
    assert job == (expected["llc_bytes"], expected["llc_fallback_domains"])


def test_the_synthetic_machines_give_the_sums_worked_out_by_hand(tmp_path):
    # The same numbers as lstopo gives, from the descriptions alone.
    expected = {
        "a NUMA node and an L3 per CPU": (len(CPUS) * 32 * MIB, 0,
                                          [49152, MIB, 32 * MIB]),
        "an L3 per CPU in one NUMA node": (len(CPUS) * 16 * MIB, 0,
                                           [0, 512 * 1024, 16 * MIB]),
        "no cache information": (len(CPUS) * FALLBACK_CACHE_BYTES, len(CPUS),
                                 [0, 0, 0]),
        "a 508 MB L3 per core": (len(CPUS) * FALLBACK_CACHE_BYTES, len(CPUS),
                                 [0, 0, 0]),
    }
    for machine, (total, fallback, sizes) in expected.items():
        _, path = run(["threads"] + QUICK + ["--threads", "1"],
                      MACHINES[machine], tmp_path)
        with h5py.File(path, "r") as f:
            assert f.attrs["last_level_cache_bytes"] == total, machine
            assert f.attrs["last_level_cache_fallback_domains"] == fallback
            assert f["nodes/cache_bytes"][0].tolist() == sizes, machine


@pytest.mark.parametrize("machine", ["this machine", "no cache information"])
def test_stream_default_size_is_four_times_the_last_level_caches(machine,
                                                                 tmp_path):
    result, path = run(["threads", "stream", "--threads", "1", "--reps", "1",
                        "--warmup", "0"], MACHINES[machine], tmp_path)
    with h5py.File(path, "r") as f:
        cache = f.attrs["last_level_cache_bytes"]
        elements = f["outputs/array_elements"][()]
    assert cache > 0
    assert elements == 4 * cache // 8
    assert key_values(result.stdout)["n"] == "0"


def spans(description):
    """(NUMA nodes, L3 caches of sane size) that this process's CPUs span,
    from the tools."""
    hardware = lstopo_hardware(set(CPUS), description)
    caches = hardware["llc_domains"] - hardware["llc_fallback_domains"]
    return hardware["numa_nodes"], caches


@pytest.mark.parametrize("machine", MACHINES)
def test_threads_spread_over_domains_are_warned_about_where_they_are(
        machine, tmp_path):
    description = MACHINES[machine]
    result, _ = run(["threads"] + QUICK + ["--threads", len(CPUS)],
                    description, tmp_path)
    numa, caches = spans(description)
    spread = len(CPUS) > 1 and (numa > 1 or caches > 1)
    assert ("which span" in result.stderr) == spread, result.stderr


@pytest.mark.skipif(len(CPUS) < 2, reason="needs 2 CPUs")
def test_threads_over_numa_nodes_get_one_rank_per_numa_node(tmp_path):
    result, _ = run(["threads"] + QUICK + ["--threads", len(CPUS)],
                    MACHINES["a NUMA node and an L3 per CPU"], tmp_path)
    with h5py.File(tmp_path / "run.h5", "r") as f:
        cpuset = f["ranks/cpuset"][0].decode()
    assert f"warning: the {len(CPUS)} threads of rank 0 may run on CPUs " \
        f"{cpuset} of node " in result.stderr, result.stderr
    assert f"which span {len(CPUS)} NUMA nodes and {len(CPUS)} L3 caches: " \
        "threads of one rank then share data across NUMA nodes and caches" \
        in result.stderr, result.stderr
    assert "one rank per domain keeps them together" in result.stderr
    assert f"fix: OMP_NUM_THREADS=1 OMP_PLACES=cores OMP_PROC_BIND=close " \
        f"mpirun -np {len(CPUS)} --map-by ppr:1:numa:PE=1 --bind-to core " \
        "-x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND parkit hybrid " \
        "montecarlo --threads 1" in result.stderr, result.stderr


@pytest.mark.skipif(len(CPUS) < 2, reason="needs 2 CPUs")
def test_threads_over_caches_get_one_rank_per_cache(tmp_path):
    result, _ = run(["threads"] + QUICK + ["--threads", len(CPUS)],
                    MACHINES["an L3 per CPU in one NUMA node"], tmp_path)
    assert f"which span {len(CPUS)} L3 caches: threads of one rank then " \
        "share data across caches" in result.stderr, result.stderr
    assert f"mpirun -np {len(CPUS)} --map-by ppr:1:l3cache:PE=1 --bind-to " \
        "core -x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND parkit " \
        "hybrid montecarlo --threads 1" in result.stderr, result.stderr


def test_one_thread_per_rank_is_not_warned_about(tmp_path):
    result, _ = run(["threads"] + QUICK + ["--threads", "1"],
                    MACHINES["a NUMA node and an L3 per CPU"], tmp_path)
    assert "warning" not in result.stderr, result.stderr


@pytest.mark.skipif(len(CPUS) < 2, reason="needs 2 CPUs")
def test_splits_follow_the_domains(tmp_path):
    """Where a node has several NUMA nodes or L3 domains, `parkit splits`
    (the main job's and the sweeps' list) adds one rank per domain, and
    `parkit launch` starts it with the matching mapping."""
    def splits(machine):
        listed = run_parkit(["splits", "--format", "json"],
                            env=environment(MACHINES[machine]))
        assert listed.returncode == 0, listed.stderr
        return json.loads(listed.stdout)
    numa = splits("a NUMA node and an L3 per CPU")
    assert numa["numa_domains_per_node"] == len(CPUS)
    assert {"mode": "ranks", "nodes": 1, "ranks": len(CPUS), "threads": 1,
            "align": "numa", "baseline": False} in numa["splits"]
    assert numa["last_level_cache_bytes"] == len(CPUS) * 33554432
    caches = splits("an L3 per CPU in one NUMA node")
    assert caches["numa_domains_per_node"] == 1
    assert [s["align"] for s in caches["splits"]].count("l3cache") == 1
    launched = run_parkit(["launch", "--align", "l3cache", "--program",
                           "parkit", "ranks", "montecarlo", len(CPUS), 1],
                          env=environment(MACHINES["an L3 per CPU in one "
                                                   "NUMA node"]))
    assert "--map-by ppr:1:l3cache:PE=1 --bind-to core" in launched.stdout
