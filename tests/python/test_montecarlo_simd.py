"""montecarlo's hot-loop paths (--simd): every path this CPU runs gives the
same outputs, bit for bit, for EP and pi; the path that ran is recorded as
simd_lanes. (tests/unit/test_montecarlo_simd.c checks the paths' pieces.)"""
import h5py
import numpy as np
import pytest

from conftest import key_values, run_parkit

PATHS = {"generic": None, "avx2": 4, "avx512": 8}
PROBLEMS = {"ep": ["--estimate", "ep", "--class", "S"],
            "pi": ["--estimate", "pi", "--samples", "1000003"]}


def run_path(tmp_path, problem, path):
    """The outputs of one run on `path`, or None when this CPU cannot."""
    out = tmp_path / f"{problem}-{path}.h5"
    result = run_parkit(["threads", "montecarlo"] + PROBLEMS[problem] +
                        ["--simd", path, "--threads", "2", "--reps", "1",
                         "--warmup", "0", "--quiet", "--out", out])
    if result.returncode != 0:
        assert "parkit: error: --simd " + path in result.stderr, result.stderr
        assert not out.exists()
        return None
    assert key_values(result.stdout)["verified"] == "1"
    with h5py.File(out, "r") as f:
        return {name: np.asarray(f["outputs"][name][()])
                for name in f["outputs"]}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_every_path_gives_the_same_bits(tmp_path, problem):
    reference = run_path(tmp_path, problem, "generic")
    assert reference is not None, "the generic path must always run"
    ran = ["generic"]
    for path in ["avx2", "avx512", "auto"]:
        got = run_path(tmp_path, problem, path)
        if got is None:
            continue
        ran.append(path)
        if path != "auto":
            assert got["simd_lanes"] == PATHS[path]
        assert got.keys() == reference.keys()
        for name in reference:
            if name == "simd_lanes":
                continue
            assert got[name].tobytes() == reference[name].tobytes(), \
                f"{name}: {path} gives {got[name]!r}, generic " \
                f"{reference[name]!r}"
    assert "auto" in ran, "auto must always run"
