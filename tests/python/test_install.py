"""parkit installed, away from its source: a copy of the tracked tree is
built (portable, without tests), installed with `cmake --install --prefix
P` into a prefix with a space in it, and packaged with `cpack -G DEB`; then
the build directory is removed and the copy moved away, and everything runs
from an empty directory with PATH=P/bin:/usr/bin:/bin and nothing else of
parkit's: a run, the main job and its HTML report, `parkit report --format
json`, the job scripts, the man page and the Python package under Lmod's
`module load parkit`, bash completion, and the installed threads.sbatch on
a local SLURM cluster with PARKIT unset. The Debian package's dependencies
are the packages of the libraries parkit loads plus what its scripts run;
where the suite may install into /usr (root, and PARKIT_TEST_DEB_INSTALL=1
or CI set), the package is installed with apt-get, checked the same way,
and removed again. Slow (a whole build): the release pass only."""
import glob
import json
import os
import re
import shutil
import subprocess

import h5py
import pytest

from conftest import SOURCE_DIR
from slurm_cluster import LocalSlurm, missing_packages

pytestmark = pytest.mark.skipif(
    os.environ.get("PARKIT_SANITIZED") == "1",
    reason="the release pass checks the install; a sanitizer build of the "
           "copy would only repeat it slower")

LMOD_INIT = "/usr/share/lmod/lmod/init/bash"
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
QUICK_RUN = ["threads", "montecarlo", "--estimate", "pi", "--samples",
             "1000000", "--reps", "3"]


def tracked_files():
    listed = subprocess.run(["git", "-C", SOURCE_DIR, "ls-files", "-z"],
                            capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name]


def must(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, \
        f"{command}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """(prefix, .deb, the moved-away source) of a copy built, installed,
    packaged, and then taken away."""
    if shutil.which("git") is None or not os.path.exists(
            os.path.join(SOURCE_DIR, ".git")):  # a file in a git worktree
        pytest.skip("needs a git checkout to copy")
    root = tmp_path_factory.mktemp("install")
    source, build = root / "source", root / "build"
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.exists(os.path.join(SOURCE_DIR, name)):
            shutil.copy2(os.path.join(SOURCE_DIR, name), target)
    prefix = root / "the prefix"
    must(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
          "-DPARKIT_NATIVE=OFF", "-DBUILD_TESTING=OFF"])
    must(["cmake", "--build", build, "-j", "2", "--target", "parkit",
          "parkit_docs"])
    must(["cmake", "--install", build, "--prefix", prefix])
    must(["cpack", "-G", "DEB", "-B", root / "package"], cwd=build)
    (deb,) = glob.glob(str(root / "package" / "parkit_*.deb"))
    shutil.rmtree(build)
    moved = root / "moved-away"
    source.rename(moved)
    return prefix, deb, moved


def clean_environment(home, path):
    environment = {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8"}
    if os.geteuid() == 0:  # Open MPI refuses root without these
        environment.update(OMPI_ALLOW_RUN_AS_ROOT="1",
                           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return environment


@pytest.fixture
def empty(tmp_path):
    directory = tmp_path / "empty"
    directory.mkdir()
    return directory


def run_in(directory, command, path, timeout=300, extra=None):
    environment = clean_environment(directory, path)
    environment.update(extra or {})
    return subprocess.run(command, capture_output=True, text=True,
                          cwd=directory, env=environment, timeout=timeout)


def installed_path(prefix):
    return f"{prefix}/bin:/usr/bin:/bin"


# ---- the checks, for an install prefix and for /usr ------------------------


def check_a_run(directory, path):
    done = run_in(directory, ["parkit", *QUICK_RUN], path)
    assert done.returncode == 0, done.stderr
    (result,) = glob.glob(str(directory / "results" / "*.h5"))
    with h5py.File(result, "r") as f:
        assert f.attrs["verified"] == 1


def check_the_main_job_and_its_report(directory, path):
    done = run_in(directory, ["parkit-compare-modes", "--quick", "--kernels",
                              "montecarlo", "--probes", "", "--out",
                              "campaign"], path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "threads or processes?" in done.stdout
    for name in ("campaign.json", "answer.json", "answer.txt", "report.txt"):
        assert (directory / "campaign" / name).is_file(), name
    report = run_in(directory, ["parkit-report", "campaign"], path)
    assert report.returncode == 0, report.stderr
    page = directory / "campaign" / "report.html"
    assert report.stdout.strip() == str(page)
    assert "data:image/png;base64," in page.read_text()
    listed = run_in(directory, ["parkit", "report", "--format", "json",
                                "campaign"], path)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert runs and all(run["verified"] == 1 for run in runs)


def check_completion(directory, completion, path):
    kernels = {k["name"] for k in json.loads(run_in(
        directory, ["parkit", "list", "--format", "json"], path).stdout)[
            "kernels"]}
    script = (f'source "{completion}"\n'
              "COMP_WORDS=(parkit threads '')\nCOMP_CWORD=2\n_parkit\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    done = run_in(directory, ["bash", "-c", script], path)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == kernels


# ---- the install prefix -----------------------------------------------------


def test_the_tree_holds_everything_and_names_no_build_or_source(tree):
    prefix, _, moved = tree
    for part in ("bin/parkit", "bin/parkit-report", "bin/parkit-compare-modes",
                 "share/man/man1/parkit.1",
                 "share/bash-completion/completions/parkit",
                 "share/modulefiles/parkit/0.1.0",
                 "share/doc/parkit/README.md",
                 "share/doc/parkit/results/README.md",
                 "share/doc/parkit/kernels/README.md",
                 "share/parkit/jobs/layout.sh",
                 "share/parkit/jobs/slurm/threads.sbatch",
                 "share/parkit/schema/catalogue.schema.json",
                 "share/parkit/schema/report.schema.json",
                 "share/parkit/harness/jube/parkit.xml",
                 "share/parkit/harness/reframe/parkit_checks.py",
                 "lib/python3/dist-packages/parkit_analysis/key_values.py"):
        assert (prefix / part).exists(), part
    assert os.path.realpath(prefix / "bin" / "parkit-compare-modes") == \
        str(prefix / "share" / "parkit" / "jobs" / "compare_modes.sh")
    # No script, modulefile or document points back (the program's own
    # error messages quote its source files' paths, as compilers write them).
    original = str(moved.parent / "source")
    for path in glob.glob(str(prefix / "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                data = f.read()
            if data.startswith(b"\x7fELF"):
                continue
            assert original.encode() not in data, path
            assert SOURCE_DIR.encode() not in data, path


def test_parkit_runs_from_an_empty_directory(tree, empty):
    check_a_run(empty, installed_path(tree[0]))


def test_the_main_job_its_verdict_and_html_report(tree, empty):
    check_the_main_job_and_its_report(empty, installed_path(tree[0]))


def test_the_job_scripts_find_the_installed_parkit(tree, empty):
    prefix = tree[0]
    jobs = prefix / "share" / "parkit" / "jobs"
    path = "/usr/bin:/bin"  # not even P/bin: the scripts find it themselves
    done = run_in(empty, [jobs / "run.sh", "threads", "montecarlo", "1", "2",
                          "--estimate", "pi", "--samples", "100000",
                          "--quiet", "--out", "run.h5"], path)
    assert done.returncode == 0, done.stderr
    assert (empty / "run.h5").is_file()
    done = run_in(empty, [jobs / "sweep.sh", "--cores", "1", "--reps", "1",
                          "--kernels", "montecarlo", "--scaling", "strong",
                          "--montecarlo-samples", "100000", "--out",
                          "sweep"], path)
    assert done.returncode == 0, done.stderr
    generated = run_in(empty, [jobs / "make-sbatch.sh", "--kernel", "stream",
                               "--mode", "threads"], path)
    assert generated.returncode == 0, generated.stderr
    kit = str(prefix / "share" / "parkit")
    assert f"PARKIT=${{PARKIT:-{kit.replace(' ', chr(92) + ' ')}}}" in \
        generated.stdout, generated.stdout


@pytest.mark.skipif(not os.path.exists(LMOD_INIT),
                    reason="Lmod is not installed (apt-get install lmod)")
@pytest.mark.parametrize("kind", ["lua", "tcl"])
def test_module_load_gives_man_page_python_package_and_path(tree, empty,
                                                            tmp_path, kind):
    prefix = tree[0]
    modules = prefix / "share" / "modulefiles"
    if kind == "tcl":
        # The Tcl modulefile alone, from a path without spaces (Lmod's Tcl
        # reader fails on those; Environment Modules does not).
        modules = tmp_path / "tcl-modules"
        (modules / "parkit").mkdir(parents=True)
        shutil.copy(prefix / "share" / "modulefiles" / "parkit" / "0.1.0",
                    modules / "parkit" / "0.1.0")
    script = f"""
source {LMOD_INIT}
module use "{modules}"
module load parkit
module --location show parkit
command -v parkit
parkit --version
man -w parkit
man -w man
MANWIDTH=120 man parkit 2>/dev/null | col -b | head -n 5
/usr/bin/python3 -c 'import parkit_analysis; print(parkit_analysis.__file__)'
echo "PARKIT=$PARKIT"
if [ -f {BASH_COMPLETION} ]; then
  source {BASH_COMPLETION}
  __load_completion parkit && complete -p parkit
fi
module unload parkit
command -v parkit || echo "parkit gone"
"""
    done = run_in(empty, ["bash", "-c", script], "/usr/bin:/bin")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == str(prefix / "bin" / "parkit")
    assert lines[1].startswith("parkit 0.1.0")
    assert lines[2] == str(prefix / "share" / "man" / "man1" / "parkit.1")
    assert lines[3].startswith("/usr/share/man/")  # the system's pages stay
    assert "parkit - threads or processes?" in done.stdout
    assert str(prefix / "lib" / "python3" / "dist-packages" /
               "parkit_analysis" / "__init__.py") in lines
    assert f"PARKIT={prefix}/share/parkit" in lines
    if os.path.exists(BASH_COMPLETION):  # found through XDG_DATA_DIRS
        assert "complete -F _parkit parkit" in lines
    assert lines[-1] == "parkit gone"
    loaded = {"lua": modules / "parkit" / "0.1.0.lua",
              "tcl": modules / "parkit" / "0.1.0"}[kind]
    assert str(loaded) in done.stderr, done.stderr


def test_bash_completion_of_the_installed_parkit(tree, empty):
    prefix = tree[0]
    check_completion(empty, prefix / "share" / "bash-completion" /
                     "completions" / "parkit", installed_path(prefix))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing_packages()
    if reason:
        pytest.skip(f"SLURM tests skipped: {reason}")
    with LocalSlurm(tmp_path_factory.mktemp("slurm") / "cluster") as running:
        yield running


def check_sbatch(cluster, script, directory, path):
    """Submits `script` with PARKIT and PARKIT_BINARY unset, from an empty
    directory; checks the job, its STATUS marker and its file."""
    environment = clean_environment(directory, path)
    environment.update(SLURM_CONF=cluster.conf, OMPI_MCA_pml="ob1")
    submitted = subprocess.run(["sbatch", "--parsable", script],
                               capture_output=True, text=True,
                               env=environment, cwd=directory, check=True)
    (record,) = cluster.wait(submitted.stdout.strip().split(";")[0],
                             timeout=150)
    output = (directory / f"slurm-{record['JobId']}.out").read_text()
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), \
        output
    job = directory / "results" / "slurm" / \
        f"{record['JobName']}_{record['JobId']}"
    assert (job / "STATUS").read_text() == "COMPLETED 0\n"
    (result,) = glob.glob(str(job / "*.h5"))
    with h5py.File(result, "r") as f:
        assert f.attrs["verified"] == 1
        assert f.attrs["slurm_job_id"] == record["JobId"]


def test_the_installed_sbatch_runs_with_parkit_unset(tree, cluster, empty):
    prefix = tree[0]
    check_sbatch(cluster, prefix / "share" / "parkit" / "jobs" / "slurm" /
                 "threads.sbatch", empty, installed_path(prefix))


# ---- the Debian package -----------------------------------------------------


def library_packages(binary):
    """The Debian packages of the shared libraries `binary` links to
    directly (its NEEDED entries, found where ldd finds them)."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]",
                        must(["readelf", "-d", binary]).stdout)
    found = dict(re.findall(r"^\s*(\S+) => (\S+)",
                            must(["ldd", binary]).stdout, re.MULTILINE))
    packages = set()
    for name in needed:
        library = found[name]
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(library)],
                               capture_output=True, text=True)
        if owner.returncode != 0:  # dpkg records /lib, not /usr/lib
            owner = subprocess.run(["dpkg", "-S", library],
                                   capture_output=True, text=True)
        assert owner.returncode == 0, library
        packages.add(owner.stdout.split(":")[0])
    return packages


def package_names(depends):
    return {alternative.split()[0] for item in depends.split(",")
            for alternative in item.split("|")}


def test_the_package_depends_on_what_parkit_needs_at_run_time(tree):
    prefix, deb, _ = tree
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    depends = package_names(must(["dpkg-deb", "-f", deb, "Depends"]).stdout)
    needed = library_packages(prefix / "bin" / "parkit")
    assert needed and needed <= depends, needed - depends
    assert {"openmpi-bin", "python3", "python3-h5py", "python3-numpy",
            "python3-pandas", "python3-matplotlib"} <= depends
    contents = must(["dpkg-deb", "-c", deb]).stdout
    for part in ("./usr/bin/parkit", "./usr/share/man/man1/parkit.1",
                 "./usr/lib/python3/dist-packages/parkit_analysis/",
                 "./usr/share/parkit/jobs/slurm/threads.sbatch"):
        assert part in contents, part


def may_install_packages():
    if os.geteuid() != 0:
        return "installing the package needs root"
    if os.environ.get("PARKIT_TEST_DEB_INSTALL") != "1" and \
            not os.environ.get("CI"):
        return ("installing into /usr only in CI or with "
                "PARKIT_TEST_DEB_INSTALL=1")
    if shutil.which("apt-get") is None:
        return "apt-get is not there"
    if subprocess.run(["dpkg", "-s", "parkit"],
                      capture_output=True).returncode == 0:
        return "a parkit package is installed already: not touching it"
    return ""


@pytest.fixture(scope="module")
def debian_install(tree):
    reason = may_install_packages()
    if reason:
        pytest.skip(f"package install skipped: {reason}")
    deb = tree[1]
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        must(["apt-get", "install", "-y", "--no-install-recommends", deb],
             env=environment, timeout=600)
        yield "/usr"
    finally:
        subprocess.run(["apt-get", "remove", "-y", "parkit"],
                       capture_output=True, env=environment, timeout=600)
        assert not os.path.exists("/usr/bin/parkit")
        assert not os.path.exists("/usr/share/parkit")


def test_the_package_installs_and_runs_from_usr(debian_install, cluster,
                                                tmp_path):
    path = "/usr/bin:/bin"
    for name, check in (("run", check_a_run),
                        ("main-job", check_the_main_job_and_its_report)):
        directory = tmp_path / name
        directory.mkdir()
        check(directory, path)
    done = run_in(tmp_path, ["bash", "-c",
                             "man -w parkit; /usr/bin/python3 -c 'import "
                             "parkit_analysis; print(parkit_analysis.__file__)'"],
                  path)
    assert done.stdout.split() == [
        "/usr/share/man/man1/parkit.1",
        "/usr/lib/python3/dist-packages/parkit_analysis/__init__.py"], \
        done.stdout + done.stderr
    check_completion(tmp_path, "/usr/share/bash-completion/completions/parkit",
                     path)
    directory = tmp_path / "slurm"
    directory.mkdir()
    check_sbatch(cluster, "/usr/share/parkit/jobs/slurm/threads.sbatch",
                 directory, path)
