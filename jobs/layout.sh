# Where the rest of parkit lies, for the scripts in jobs/ (sourced, after
# they set parkit_kit to the kit directory: the one that holds jobs/). The
# one rule: every script finds the parkit program, the analysis package and
# its Python through this file beside it. This copy describes a source
# checkout (the program in build/, the package in analysis/); `cmake
# --install` writes the installed tree's own copy (packaging/layout.sh.in),
# where the kit is PREFIX/share/parkit. PARKIT_BINARY and PARKIT_PYTHON
# override the program and the interpreter.
parkit_layout_binary=$parkit_kit/build/parkit
parkit_layout_pythonpath=$parkit_kit/analysis
parkit_layout_python=/usr/bin/python3
