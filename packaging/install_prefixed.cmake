# Run by `cmake --install` (install(CODE) in packaging/CMakeLists.txt), when
# the prefix is known (CMAKE_INSTALL_PREFIX; DESTDIR, as CPack stages, is
# added by file(INSTALL)): writes the files that must name the prefix.
#   - the modulefiles (Tcl, for Environment Modules; Lua, for Lmod): PATH,
#     MANPATH, PYTHONPATH, XDG_DATA_DIRS (bash completion) and PARKIT of
#     this prefix;
#   - the sbatch scripts: SLURM runs a copy of the script from its spool
#     directory, so the installed ones name their kit as the default PARKIT
#     (a checkout's default is the submit directory).
# Inputs (set before the include): PARKIT_SOURCE_DIR, PARKIT_STAGE (a
# scratch directory), PROJECT_VERSION, CMAKE_INSTALL_BINDIR, _MANDIR,
# _DATADIR, PARKIT_INSTALL_PYTHONDIR, PARKIT_KIT_DIR.

function(full_path directory out)
  if(IS_ABSOLUTE "${directory}")
    set(${out} "${directory}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${directory}" PARENT_SCOPE)
  endif()
endfunction()

full_path("${CMAKE_INSTALL_BINDIR}" PARKIT_MODULE_BINDIR)
full_path("${CMAKE_INSTALL_MANDIR}" PARKIT_MODULE_MANDIR)
full_path("${PARKIT_INSTALL_PYTHONDIR}" PARKIT_MODULE_PYTHONDIR)
full_path("${PARKIT_KIT_DIR}" PARKIT_MODULE_KIT)
full_path("${CMAKE_INSTALL_DATADIR}" datadir)
set(PARKIT_MODULE_DATADIR "${datadir}")
set(PARKIT_MODULE_PREFIX "${CMAKE_INSTALL_PREFIX}")

file(REMOVE_RECURSE "${PARKIT_STAGE}")
configure_file("${PARKIT_SOURCE_DIR}/packaging/parkit.modulefile.in"
               "${PARKIT_STAGE}/modulefiles/${PROJECT_VERSION}" @ONLY)
configure_file("${PARKIT_SOURCE_DIR}/packaging/parkit.lua.in"
               "${PARKIT_STAGE}/modulefiles/${PROJECT_VERSION}.lua" @ONLY)
file(INSTALL "${PARKIT_STAGE}/modulefiles/${PROJECT_VERSION}"
     "${PARKIT_STAGE}/modulefiles/${PROJECT_VERSION}.lua"
     DESTINATION "${datadir}/modulefiles/parkit")

file(GLOB scripts "${PARKIT_SOURCE_DIR}/jobs/slurm/*.sbatch")
set(default [=[${PARKIT:-$SLURM_SUBMIT_DIR}]=])
foreach(script ${scripts})
  get_filename_component(name "${script}" NAME)
  file(READ "${script}" text)
  string(FIND "${text}" "${default}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "${script} does not source lib.sh from ${default}")
  endif()
  string(REPLACE "${default}" "\${PARKIT:-${PARKIT_MODULE_KIT}}" text
         "${text}")
  file(WRITE "${PARKIT_STAGE}/slurm/${name}" "${text}")
endforeach()
file(GLOB staged "${PARKIT_STAGE}/slurm/*.sbatch")
file(INSTALL ${staged} DESTINATION "${PARKIT_MODULE_KIT}/jobs/slurm")
