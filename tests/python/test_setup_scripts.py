"""README's set-up, as users meet it. scripts/install-deps.sh runs no apt
when every package is there and prints nothing; as root it installs only
what is missing; a user without root (or sudo) gets one message naming the
missing packages and the command that installs them, and the script goes on
(exit 0), so the build can. scripts/quickstart.sh (command 1) runs to its
end as a user without root, in a checkout of their own.

apt-get is never really run: a stand-in first on PATH records its calls.
A package that is surely missing comes in through PARKIT_EXTRA_PACKAGES
(documented in the script). The non-root tests make a user (useradd) and
need root; every test that needs all packages present skips when some are
not (scripts/install-deps.sh --tests installs them)."""
import os
import pathlib
import pwd
import shutil
import subprocess
import tempfile

import pytest

from conftest import SOURCE_DIR

SCRIPT = os.path.join(SOURCE_DIR, "scripts", "install-deps.sh")
MISSING = "parkit-test-no-such-package"


def installed(package):
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                            capture_output=True, text=True).stdout
    return status == "install ok installed"


def wanted(*options):
    listed = subprocess.run(["bash", SCRIPT, *options, "--list"],
                            capture_output=True, text=True, check=True)
    return listed.stdout.split()


def need_everything_installed():
    if not shutil.which("dpkg-query"):
        pytest.skip("not a Debian/Ubuntu system (no dpkg-query)")
    absent = [p for p in wanted("--tests") if not installed(p)]
    if absent:
        pytest.skip(f"packages not installed here: {' '.join(absent)}")


def stand_in_apt(directory):
    """A directory holding an apt-get that records its arguments, one call
    a line, in directory/apt-calls (which exists only once it is called),
    and the path of that record."""
    bin_directory = directory / "bin"
    bin_directory.mkdir()
    calls = directory / "apt-calls"
    apt = bin_directory / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$*" >>"{calls}"\n')
    apt.chmod(0o755)
    return bin_directory, calls


def run_script(arguments, path_first, extra_packages="", user=None):
    """install-deps.sh ARGUMENTS with `path_first` ahead on PATH, as root
    or as `user` (a fresh environment, as after logging in)."""
    environment = {"PATH": f"{path_first}:/usr/local/bin:/usr/bin:/bin",
                   "PARKIT_EXTRA_PACKAGES": extra_packages,
                   "LANG": "C.UTF-8"}
    command = ["bash", SCRIPT, *arguments]
    if user:
        environment.update(HOME=user.home, USER=user.name,
                           LOGNAME=user.name)
        command = as_user(user, environment, command)
        environment = None
    return subprocess.run(command, capture_output=True, text=True,
                          env=environment, timeout=60)


class User:
    def __init__(self, name, home):
        self.name, self.home = name, home


def as_user(user, environment, command):
    return ["runuser", "-u", user.name, "--", "env", "-i",
            *(f"{k}={v}" for k, v in environment.items()), *command]


@pytest.fixture(scope="module")
def user():
    """A user without root, and without sudo, whose home is a fresh
    directory under /tmp; removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("making a user without root needs root")
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd or runuser missing")
    name = f"parkit-test-{os.getpid()}"
    home = tempfile.mkdtemp(prefix="parkit-user-", dir="/tmp")
    subprocess.run(["useradd", "--home-dir", home, "--no-create-home",
                    "--shell", "/bin/bash", name], check=True)
    try:
        entry = pwd.getpwnam(name)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        yield User(name, home)
    finally:
        subprocess.run(["userdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)


def user_directory(user, name):
    """A directory `name` in the user's home, owned by the user."""
    path = pathlib.Path(user.home) / name
    path.mkdir()
    entry = pwd.getpwnam(user.name)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


@pytest.mark.parametrize("options", [[], ["--tests"]],
                         ids=["command-1", "command-2"])
def test_everything_present_runs_no_apt_and_prints_nothing(tmp_path,
                                                           options):
    need_everything_installed()
    bin_directory, calls = stand_in_apt(tmp_path)
    done = run_script(options, bin_directory)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not calls.exists(), calls.read_text()


def test_root_installs_only_what_is_missing(tmp_path):
    need_everything_installed()
    if os.geteuid() != 0:
        pytest.skip("installing needs root")
    bin_directory, calls = stand_in_apt(tmp_path)
    done = run_script(["--tests"], bin_directory, extra_packages=MISSING)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"parkit: installing {MISSING}\n"
    assert calls.read_text().splitlines() == [
        "update -qq", f"install -y --no-install-recommends {MISSING} -qq"]


def test_command_1_leaves_out_the_test_packages():
    command_1, command_2 = wanted(), wanted("--tests")
    assert set(command_1) < set(command_2)
    for package in ("chromium", "slurm-wlm", "munge", "valgrind", "clang",
                    "python3-pytest", "clang-format", "libopenblas-dev"):
        assert package in command_2 and package not in command_1, package
    for package in ("cmake", "openmpi-bin", "libhdf5-openmpi-dev",
                    "hdf5-tools", "python3-h5py", "python3-matplotlib"):
        assert package in command_1, package


def test_user_without_root_with_everything_present(user):
    need_everything_installed()
    bin_directory, calls = stand_in_apt(user_directory(user, "present"))
    done = run_script(["--tests"], bin_directory, user=user)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not calls.exists(), calls.read_text()


def test_user_without_root_gets_one_message_and_goes_on(user):
    need_everything_installed()
    bin_directory, calls = stand_in_apt(user_directory(user, "missing"))
    done = run_script(["--tests"], bin_directory, extra_packages=MISSING,
                      user=user)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"parkit: warning: not installed: {MISSING};")
    assert f"apt-get install -y --no-install-recommends {MISSING})" \
        in lines[0], lines[0]
    assert not calls.exists(), calls.read_text()


def copy_checkout(destination):
    """The checkout's files (as `git ls-files` lists them, untracked ones
    not ignored included; no build trees, no results) under destination."""
    # safe.directory: the checkout may belong to another user than root.
    listed = subprocess.run(
        ["git", "-c", f"safe.directory={SOURCE_DIR}", "-C", SOURCE_DIR,
         "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True)
    for relative in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        source = os.path.join(SOURCE_DIR, relative)
        if not os.path.isfile(source):  # deleted but not yet committed
            continue
        target = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)


def test_quickstart_runs_to_the_end_without_root(user):
    need_everything_installed()
    if not os.path.isdir(os.path.join(SOURCE_DIR, ".git")) and \
            not os.path.isfile(os.path.join(SOURCE_DIR, ".git")):
        pytest.skip("the source tree is not a git checkout")
    checkout = os.path.join(user.home, "parkit")
    copy_checkout(checkout)
    subprocess.run(["chown", "-R", f"{user.name}:", checkout], check=True)
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": user.home,
                   "USER": user.name, "LOGNAME": user.name,
                   "LANG": "C.UTF-8"}
    done = subprocess.run(
        as_user(user, environment, ["bash", "scripts/quickstart.sh",
                                    "--quick", "--kernels", "montecarlo",
                                    "--probes", "sync"]),
        cwd=checkout, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not installed" not in done.stderr, done.stderr
    assert "threads or processes?" in done.stdout, done.stdout
    last = done.stdout.splitlines()[-1]
    assert last.startswith("report: "), done.stdout
    report = os.path.join(checkout, last[len("report: "):])
    assert os.path.isfile(report) and \
        report.startswith(os.path.join(checkout, "results")), report
    assert os.stat(report).st_uid == pwd.getpwnam(user.name).pw_uid
