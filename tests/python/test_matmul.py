"""matmul beyond the split matrix: the fast GEMM engine against the plain
reference loop, the micro-kernel each run recorded, forcing one the CPU
lacks, and the memory formula against the peak resident size."""
import glob
import os

import h5py
import numpy as np
import pytest

from conftest import CONFIGS, RESULTS, key_values, run_parkit

# Output `microkernel` codes (results/README.md) and the CPU flags each needs.
MICROKERNELS = {"portable": (0, set()), "avx2": (1, {"avx2", "fma"}),
                "avx512": (2, {"avx512f"})}


def cpu_flags():
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def supported(name):
    return MICROKERNELS[name][1] <= cpu_flags()


def best_supported():
    return max(MICROKERNELS[name][0] for name in MICROKERNELS
               if supported(name))


def matmul_files():
    configs = [c for c in CONFIGS if c.startswith("matmul")]
    return {config: sorted(glob.glob(os.path.join(RESULTS, config, "*.h5")))
            for config in configs}


def outputs(path):
    with h5py.File(path, "r") as f:
        return {name: d[()] for name, d in f["outputs"].items()}


def test_every_available_microkernel_has_a_configuration():
    for name in MICROKERNELS:
        if supported(name) and name != "portable":
            assert f"matmul-{name}" in CONFIGS, name
    assert {"matmul", "matmul-reference", "matmul-portable"} <= set(CONFIGS)


def test_fast_agrees_with_reference_within_recorded_tolerance():
    files = matmul_files()
    reference = outputs(os.path.join(RESULTS, "matmul-reference",
                                     "threads_p1_t1.h5"))
    tolerance = float(reference["tolerance"])
    for config, paths in files.items():
        assert paths, config
        for path in paths:
            got = outputs(path)
            assert float(got["tolerance"]) == tolerance, path
            worst = float(np.max(np.abs(got["cx"] - reference["cx"]) /
                                 reference["bound"]))
            assert worst <= tolerance, \
                f"{path}: C x differs from the reference loop by " \
                f"{worst:.3g} x bound > {tolerance:.3g}"


def test_each_run_records_the_microkernel_that_ran():
    for config, paths in matmul_files().items():
        name = config.split("-", 1)[1] if "-" in config else "auto"
        expected = {"reference": -1, "auto": best_supported()}.get(
            name, MICROKERNELS.get(name, (None,))[0])
        for path in paths:
            assert int(outputs(path)["microkernel"]) == expected, path


@pytest.mark.parametrize("name", sorted(MICROKERNELS))
def test_forcing_a_microkernel(tmp_path, name):
    result = run_parkit(["threads", "matmul", "--n", "37", "--reps", "1",
                         "--microkernel", name, "--out", tmp_path / "r.h5"])
    if supported(name):
        assert result.returncode == 0, result.stderr
        assert key_values(result.stdout)["verified"] == "1"
        assert int(outputs(tmp_path / "r.h5")["microkernel"]) == \
            MICROKERNELS[name][0]
    else:
        assert result.returncode == 2, result.stderr
        assert f"parkit: error: --microkernel {name}: this CPU lacks" in \
            result.stderr, result.stderr
        assert not os.listdir(tmp_path)


def peak_and_formula(tmp_path, n):
    path = tmp_path / f"n{n}.h5"
    result = run_parkit(["threads", "matmul", "--n", n, "--reps", "1",
                         "--warmup", "0", "--threads", "1", "--out", path])
    assert result.returncode == 0, result.stderr
    with h5py.File(path, "r") as f:
        peak = int(np.max(f["ranks/peak_resident_bytes"][()]))
        formula = int(f["outputs/memory_bytes"][()])
        flags = f["provenance"].attrs["compile_flags"]
    # AddressSanitizer adds one shadow byte per 8 bytes it watches.
    if "-fsanitize=address" in flags:
        formula = int(formula * 1.125)
    return peak, formula


def test_memory_formula_matches_peak_resident_growth(tmp_path):
    """What matmul adds to the process between two sizes is what its
    memory formula says (within 3%): the formula counts every buffer.
    Both sizes are large on purpose: Linux keeps ru_maxrss across exec, so
    a small run's peak is this Python process's size, not parkit's."""
    small_peak, small_formula = peak_and_formula(tmp_path, 1400)
    large_peak, large_formula = peak_and_formula(tmp_path, 2000)
    assert large_peak >= large_formula
    growth, predicted = large_peak - small_peak, large_formula - small_formula
    assert abs(growth - predicted) <= 0.03 * predicted, \
        (small_peak, small_formula, large_peak, large_formula)
