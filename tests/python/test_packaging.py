"""What the build generates for the install tree, checked in the build tree:
the man page and the bash completion say what `parkit list --format json`
says (every kernel, option and choice) and complete as a user types; the
Spack recipe asks for what CMake looks for and passes only options CMake
declares."""
import ast
import glob
import os
import re
import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR, catalogue

MAN_PAGE = os.environ.get("PARKIT_MAN_PAGE", "")
COMPLETION = os.environ.get("PARKIT_COMPLETION", "")
RECIPE = os.path.join(SOURCE_DIR, "packaging", "spack", "spack_repo",
                      "parkit", "packages", "parkit", "package.py")


# ---- the man page -----------------------------------------------------------


@pytest.fixture(scope="module")
def man_text():
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    done = subprocess.run(["man", "-l", MAN_PAGE], capture_output=True,
                          text=True, env=dict(os.environ, MANWIDTH="200"))
    assert done.returncode == 0, done.stderr
    return re.sub(".\b", "", done.stdout)  # no overstrike (bold)


def test_man_page_renders_without_warnings():
    if shutil.which("groff") is None:
        pytest.skip("groff is not installed")
    done = subprocess.run(["groff", "-man", "-ww", "-z", MAN_PAGE],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_man_page_lists_every_kernel_option_and_status(man_text):
    listed = catalogue()
    text = re.sub(r"\s+", " ", man_text)
    for option in listed["common_options"]:
        assert f"--{option['name']}" in text, option["name"]
    for kernel in listed["kernels"]:
        section = text[text.index(f" {kernel['name']} {kernel['summary'][:20]}"):]
        for option in kernel["options"]:
            assert f"--{option['name']}" in section, (kernel["name"], option)
        for unit in kernel["rate_units"]:
            assert unit["unit"] in section, (kernel["name"], unit)
    for status in listed["exit_statuses"]:
        assert f"{status['status']} {status['meaning'][:30]}" in text
    for command in ("report", "launch", "splits"):
        assert f"usage: parkit {command}" in text


# ---- bash completion ----------------------------------------------------------


def complete(*words):
    """The completions bash offers for the last word of `parkit WORDS`."""
    array = " ".join("'" + w.replace("'", "'\\''") + "'"
                     for w in ("parkit",) + words)
    script = (f'source "{COMPLETION}"\nCOMP_WORDS=({array})\n'
              f"COMP_CWORD={len(words)}\n_parkit\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    done = subprocess.run(["bash", "-c", script], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return set(filter(None, done.stdout.split("\n")))


def kernel(name):
    return next(k for k in catalogue()["kernels"] if k["name"] == name)


def test_completion_offers_modes_commands_and_kernels():
    listed = catalogue()
    modes = {m["name"] for m in listed["modes"]}
    assert modes | {"list", "help", "report"} <= complete("")
    assert complete("thr") == {"threads"}
    kernels = {k["name"] for k in listed["kernels"]}
    for mode in modes:
        assert complete(mode, "") == kernels
    assert complete("help", "") == kernels


def test_completion_offers_each_kernels_options_and_choices():
    listed = catalogue()
    common = {f"--{o['name']}" for o in listed["common_options"]}
    for entry in listed["kernels"]:
        own = {f"--{o['name']}" for o in entry["options"]}
        assert complete("ranks", entry["name"], "--") == own | common | \
            {"--help"}, entry["name"]
        for option in entry["options"]:
            if option["type"] == "choice":
                assert complete("threads", entry["name"],
                                f"--{option['name']}", "") == \
                    set(option["choices"])
    estimate = next(o for o in kernel("montecarlo")["options"]
                    if o["name"] == "estimate")
    assert complete("threads", "montecarlo", "--estimate", "p") == \
        {c for c in estimate["choices"] if c.startswith("p")}
    assert complete("threads", "matmul", "--n", "") == set()
    writers = next(o for o in listed["common_options"]
                   if o["name"] == "writers")
    assert complete("hybrid", "stencil", "--writers", "") == \
        set(writers["choices"])


def test_completion_of_files_and_of_the_other_commands(tmp_path):
    (tmp_path / "with space").mkdir()
    prefix = str(tmp_path) + "/wi"
    assert complete("threads", "io", "--dir", prefix) == \
        {str(tmp_path / "with space")}
    assert complete("report", "--format", "") == \
        {"table", "csv", "markdown", "json"}
    assert complete("list", "--format", "") == {"text", "json"}
    assert complete("launch", "--align", "") == {"none", "numa", "l3cache"}
    assert complete("launch", "--nodes", "2", "") == \
        {m["name"] for m in catalogue()["modes"]}
    assert "montecarlo" in complete("launch", "ranks", "")
    assert complete("launch", "hybrid", "matmul", "2", "2", "--",
                    "--variant", "") == {"blocked", "reference"}
    assert "--baseline" in complete("splits", "--")


# ---- the Spack recipe -----------------------------------------------------------


def recipe():
    with open(RECIPE) as f:
        return ast.parse(f.read(), RECIPE)


def calls(tree, name):
    """The first positional arguments (strings) of every call of `name`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (
                getattr(node.func, "id", None) == name
                or getattr(node.func, "attr", None) == name) and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.append(node.args[0].value)
    return found


def cmake_declared():
    """The cache variables and options parkit's CMake files declare."""
    declared = set()
    for path in glob.glob(os.path.join(SOURCE_DIR, "**", "CMakeLists.txt"),
                          recursive=True):
        with open(path) as f:
            text = f.read()
        declared |= set(re.findall(r"option\((\w+)", text))
        declared |= set(re.findall(r"set\((\w+)\s[^)]*\bCACHE\b", text))
    return declared


def test_spack_recipe_depends_on_what_cmake_finds():
    tree = recipe()
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [(c.name, [b.id for b in c.bases]) for c in classes] == \
        [("Parkit", ["CMakePackage"])]
    depends = calls(tree, "depends_on")
    assert "mpi" in depends and "hwloc" in depends
    assert any(d.startswith("hdf5") and "+mpi" in d for d in depends)
    # Every pkg-config module CMake requires is a dependency.
    with open(os.path.join(SOURCE_DIR, "drivers", "CMakeLists.txt")) as f:
        modules = re.findall(r"pkg_check_modules\(\w+ REQUIRED "
                             r"IMPORTED_TARGET (\w+)\)", f.read())
    assert modules and all(m in depends for m in modules), (modules, depends)
    assert "native" in calls(tree, "variant")


def test_spack_recipe_passes_only_options_cmake_declares():
    tree = recipe()
    passed = set(calls(tree, "define")) | set(calls(tree, "define_from_variant"))
    ours = {name for name in passed if name.startswith("PARKIT_")}
    assert ours >= {"PARKIT_NATIVE", "PARKIT_INSTALL_PYTHONDIR",
                    "PARKIT_INSTALL_PYTHON"}
    assert ours <= cmake_declared(), ours - cmake_declared()
