"""The conventions check (tests/conventions/check_conventions.py, run by
CTest as `conventions`) finds what it is for: violations planted into
copies of real kernel and driver files are reported, one line each, and
the clean originals are not."""
import os
import subprocess

import pytest

from conftest import SOURCE_DIR

CHECK = os.path.join(SOURCE_DIR, "tests", "conventions", "check_conventions.py")


def check(path, as_path):
    return subprocess.run(["/usr/bin/python3", CHECK, "--root", SOURCE_DIR,
                           "--as-path", as_path, str(path)],
                          capture_output=True, text=True)


def planted(tmp_path, original, old, new):
    text = open(os.path.join(SOURCE_DIR, original)).read()
    assert old in text, (original, old)
    path = tmp_path / os.path.basename(original)
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_originals_are_clean():
    for original in ("kernels/work/stencil.c", "kernels/work/stream.c",
                     "kernels/probes/sync.c", "kernels/interface/outputs.c"):
        done = check(os.path.join(SOURCE_DIR, original), original)
        assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("original, old, new, rule, words", [
    ("kernels/work/stream.c", "state->context.comm));",
     "MPI_COMM_WORLD));", "kernel", "MPI_COMM_WORLD in a kernel"),
    ("kernels/work/stencil.c", '  parkit_phase_begin(ctx, "halo");',
     "  double started = MPI_Wtime();", "kernel",
     "MPI_Wtime in a work kernel"),
    ("kernels/work/stencil.c", '  parkit_phase_begin(ctx, "halo");',
     '  printf("halo\\n");', "kernel", "printf in a work kernel"),
    ("kernels/work/stencil.c", '  parkit_phase_begin(ctx, "halo");',
     "  if (ctx->rank < 0)\n    exit(1);", "kernel",
     "exit in a work kernel"),
    ("kernels/work/stencil.c",
     "  PARKIT_MPI_CALL(MPI_Waitall(8, requests, MPI_STATUSES_IGNORE));",
     "  MPI_Waitall(8, requests, MPI_STATUSES_IGNORE);", "unchecked",
     "MPI_Waitall is neither checked"),
    ("kernels/probes/sync.c", "#include \"probe.h\"",
     "#include \"probe.h\"\n#include \"runner.h\"", "layering",
     "includes \"runner.h\" from drivers"),
    ("kernels/interface/outputs.c", '#include "check.h"',
     '#include "check.h"\n#include "gemm.h"', "layering",
     "includes \"gemm.h\" from numerics"),
])
def test_a_planted_violation_is_found(tmp_path, original, old, new, rule,
                                      words):
    done = check(planted(tmp_path, original, old, new), original)
    assert done.returncode == 1, done.stdout
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and f": {rule}: " in lines[0] and \
        words in lines[0], done.stdout
