# parkit's Spack recipe, in the form of Spack's builtin CMake + MPI packages
# (spack-packages: repos/spack_repo/builtin/packages/*/package.py). Kept in
# parkit's repository, beside the CMake options it passes; the test suite
# (tests/python/test_packaging.py) checks the two agree.
#
#   spack repo add packaging/spack/spack_repo/parkit
#   spack develop --path "$PWD" parkit@=main     # in a Spack environment
#   spack install parkit                         # or parkit+native
#   module load parkit                           # Spack's generated module

from spack_repo.builtin.build_systems.cmake import CMakePackage

from spack.package import *


class Parkit(CMakePackage):
    """Threads or processes? parkit runs the same numerical kernels as
    OpenMP threads in one process, as MPI ranks or as a hybrid of both,
    verifies every run and writes its timings and provenance to one HDF5
    file (parallel HDF5). Includes the job scripts, SLURM templates, the
    analysis package (HTML report, the main job's verdict) and JUBE and
    ReFrame definitions."""

    # parkit has no public repository yet: build a checkout with `spack
    # develop` (above), and set these where it is published.
    homepage = "https://parkit.invalid/"
    git = "https://parkit.invalid/parkit.git"

    license("MIT")

    version("main", branch="main")

    variant(
        "native",
        default=False,
        description="Compile for the build machine's CPU (-march=native); "
        "Spack's target= already gives the compiler the microarchitecture",
    )

    depends_on("c", type="build")
    depends_on("cmake@3.20:", type="build")
    depends_on("pkgconfig", type="build")

    depends_on("mpi")
    depends_on("hdf5@1.10:+mpi")
    depends_on("hwloc")
    depends_on("jansson")

    # The analysis package and its commands (parkit-report, the main job).
    extends("python")
    depends_on("python@3.9:", type=("build", "run"))
    depends_on("py-h5py+mpi", type="run")
    depends_on("py-numpy", type="run")
    depends_on("py-pandas", type="run")
    depends_on("py-matplotlib", type="run")

    def cmake_args(self):
        python = self.spec["python"]
        return [
            self.define_from_variant("PARKIT_NATIVE", "native"),
            self.define("BUILD_TESTING", self.run_tests),
            self.define("MPI_C_COMPILER", self.spec["mpi"].mpicc),
            self.define("PARKIT_INSTALL_PYTHON", python.command.path),
            self.define("PARKIT_INSTALL_PYTHONDIR", python.package.platlib),
        ]

    def setup_run_environment(self, env):
        # The kit: job scripts and SLURM templates (jobs/slurm/*.sbatch).
        env.set("PARKIT", join_path(self.prefix.share, "parkit"))
