# Run at build time (cmake -P, from packaging/CMakeLists.txt): writes the
# man page parkit(1) and the bash completion of parkit from what the program
# itself says, so that neither can drift from --help:
#   - `parkit list --format json`: modes, exit statuses, the options of every
#     kernel (the tables --help and `parkit help KERNEL` print), each
#     kernel's rate unit and outputs;
#   - the usage lines of `parkit report|launch|splits --help` (their own
#     parsers), whose "[--name VALUE]" words become completions.
# Inputs: PARKIT (the program), MAN_PAGE and COMPLETION (files to write).
cmake_minimum_required(VERSION 3.20)

function(run_parkit out)
  execute_process(COMMAND ${PARKIT} ${ARGN} OUTPUT_VARIABLE text
                  RESULT_VARIABLE status ERROR_VARIABLE errors)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "parkit ${ARGN} failed (${status}): ${errors}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

run_parkit(catalogue list --format json)
run_parkit(version_line --version)
string(REGEX REPLACE "^parkit ([^ \n]+).*" "\\1" version "${version_line}")
foreach(command report launch splits)
  run_parkit(usage_${command} ${command} --help)
endforeach()

# ---- reading the catalogue ---------------------------------------------------

# Sets `out` to the list of indices 0..LENGTH-1 of the array at the JSON path
# (empty for an empty array).
function(json_indices out)
  string(JSON count LENGTH "${catalogue}" ${ARGN})
  set(indices "")
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      list(APPEND indices ${i})
    endforeach()
  endif()
  set(${out} "${indices}" PARENT_SCOPE)
endfunction()

# ---- roff --------------------------------------------------------------------

# Text for a roff line: backslashes and minus signs escaped, and a leading
# \& so that a line starting with '.' or ' is no request.
function(roff text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  set(${out} "\\&${text}" PARENT_SCOPE)
endfunction()

# Appends to OUT one .TP entry per element of the catalogue's ARRAY: its
# KEY in bold, then its TEXT.
function(roff_tagged_list out array key text)
  json_indices(indices ${array})
  set(entries "")
  foreach(i ${indices})
    string(JSON tag GET "${catalogue}" ${array} ${i} ${key})
    string(JSON body GET "${catalogue}" ${array} ${i} ${text})
    roff("${body}" body)
    string(APPEND entries ".TP\n.B ${tag}\n${body}\n")
  endforeach()
  set(${out} "${${out}}${entries}" PARENT_SCOPE)
endfunction()

# One option as a .TP entry: "--name TYPE", then its help, default, allowed
# values and unit.
function(roff_option path out)
  string(JSON name GET "${catalogue}" ${path} name)
  string(JSON type GET "${catalogue}" ${path} type)
  string(JSON help GET "${catalogue}" ${path} help)
  string(JSON default GET "${catalogue}" ${path} default)
  string(JSON allowed GET "${catalogue}" ${path} allowed)
  string(JSON unit GET "${catalogue}" ${path} unit)
  roff("--${name}" flag)
  set(text ".TP\n.B ${flag}")
  if(NOT type STREQUAL "flag")
    string(APPEND text " \\fI${type}\\fR")
  endif()
  roff("${help}" help)
  string(APPEND text "\n${help}\n.br\n")
  if(type STREQUAL "flag")
    set(facts "takes no value")
  elseif(default STREQUAL "")
    set(facts "default: computed (see above); allowed: ${allowed}")
  else()
    set(facts "default: ${default}; allowed: ${allowed}")
  endif()
  if(NOT unit STREQUAL "1" AND NOT type STREQUAL "flag")
    string(APPEND facts "; unit: ${unit}")
  endif()
  roff("${facts}" facts)
  string(APPEND text "${facts}\n")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# A usage text as it is printed (no filling).
function(roff_verbatim text out)
  string(REGEX REPLACE "\n$" "" text "${text}")
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REPLACE "\n" "\n\\&" text "${text}")
  set(${out} ".nf\n\\&${text}\n.fi\n" PARENT_SCOPE)
endfunction()

# ---- the man page --------------------------------------------------------------

set(man ".\\\" parkit(1), generated from `parkit list --format json` and the\n")
string(APPEND man ".\\\" commands' --help by cmake/parkit_docs.cmake. Do not edit.\n")
string(APPEND man ".TH PARKIT 1 \"\" \"parkit ${version}\" \"User Commands\"\n")
string(APPEND man ".SH NAME\nparkit \\- threads or processes? The same kernels, measured both ways\n")
string(APPEND man ".SH SYNOPSIS\n.nf\n")
string(APPEND man "\\fBparkit threads\\fR \\fIKERNEL\\fR [\\fIoptions\\fR]\n")
string(APPEND man "\\fBmpirun \\-np\\fR \\fIP\\fR \\fBparkit ranks\\fR \\fIKERNEL\\fR [\\fIoptions\\fR]\n")
string(APPEND man "\\fBmpirun \\-np\\fR \\fIP\\fR \\fBparkit hybrid\\fR \\fIKERNEL\\fR \\fB\\-\\-threads\\fR \\fIT\\fR [\\fIoptions\\fR]\n")
string(APPEND man "\\fBparkit list\\fR [\\fB\\-\\-format\\fR text|json]\n")
string(APPEND man "\\fBparkit help\\fR [\\fIKERNEL\\fR]\n")
string(APPEND man "\\fBparkit report\\fR \\fIPATH\\fR... [\\fB\\-\\-format\\fR table|csv|markdown|json]\n")
string(APPEND man "\\fBparkit launch\\fR [\\fIoptions\\fR] \\fIMODE KERNEL RANKS THREADS\\fR [\\fB\\-\\-\\fR] [\\fIparkit options\\fR]\n")
string(APPEND man "\\fBparkit splits\\fR [\\fIoptions\\fR]\n")
string(APPEND man "\\fBparkit \\-\\-version\\fR\n.fi\n")
string(APPEND man ".SH DESCRIPTION\n")
string(APPEND man "parkit runs the same numerical kernels as OpenMP threads in one process, as MPI\n")
string(APPEND man "ranks (processes, one thread each) or as a hybrid of both. Each run is verified,\n")
string(APPEND man "timed per rank and repetition, and written with its provenance to one HDF5 file.\n")
string(APPEND man "On stdout a run prints a short summary and one \\fBPARKIT\\fR key=value line for\n")
string(APPEND man "harnesses (see \\fBTHE KEY=VALUE LINE\\fR).\n")

string(APPEND man ".SH MODES\n")
roff_tagged_list(man modes name description)

string(APPEND man ".SH OPTIONS OF EVERY KERNEL\n")
json_indices(options common_options)
foreach(o ${options})
  roff_option("common_options;${o}" entry)
  string(APPEND man "${entry}")
endforeach()

string(APPEND man ".SH KERNELS\n")
string(APPEND man "Each kernel takes the options above and its own. \\fBparkit help\\fR \\fIKERNEL\\fR\n")
string(APPEND man "prints the same tables; \\fBparkit list \\-\\-format json\\fR prints them for programs.\n")
json_indices(kernels kernels)
foreach(k ${kernels})
  string(JSON name GET "${catalogue}" kernels ${k} name)
  string(JSON summary GET "${catalogue}" kernels ${k} summary)
  string(JSON kind GET "${catalogue}" kernels ${k} kind)
  roff("${summary}" summary)
  string(APPEND man ".SS ${name}\n${summary} (${kind} kernel).\n")
  json_indices(units kernels ${k} rate_units)
  set(unit_texts "")
  foreach(u ${units})
    string(JSON unit GET "${catalogue}" kernels ${k} rate_units ${u} unit)
    string(JSON when GET "${catalogue}" kernels ${k} rate_units ${u} when)
    if(when STREQUAL "")
      list(APPEND unit_texts "${unit}")
    else()
      list(APPEND unit_texts "${unit} (${when})")
    endif()
  endforeach()
  list(JOIN unit_texts ", " unit_texts)
  roff("Rate in ${unit_texts}." rate)
  string(APPEND man ".br\n${rate}\n")
  json_indices(options kernels ${k} options)
  foreach(o ${options})
    roff_option("kernels;${k};options;${o}" entry)
    string(APPEND man "${entry}")
  endforeach()
  set(headlines "")
  json_indices(outputs kernels ${k} outputs)
  foreach(o ${outputs})
    string(JSON headline GET "${catalogue}" kernels ${k} outputs ${o} headline)
    if(NOT headline STREQUAL "")
      string(JSON output GET "${catalogue}" kernels ${k} outputs ${o} name)
      string(JSON unit GET "${catalogue}" kernels ${k} outputs ${o} unit)
      if(headline STREQUAL "value")
        list(APPEND headlines "out_${output} (${unit})")
      else()
        list(APPEND headlines "out_${output} (${unit}, ${headline} element)")
      endif()
    endif()
  endforeach()
  if(headlines)
    list(JOIN headlines ", " headlines)
    roff("Headline outputs on the key=value line: ${headlines}." headlines)
    string(APPEND man ".PP\n${headlines}\n")
  endif()
endforeach()

string(APPEND man ".SH OTHER COMMANDS\n")
string(APPEND man ".SS parkit list\nEvery kernel, its options, types, defaults and units; \\fB\\-\\-format json\\fR\n")
string(APPEND man "prints the catalogue (schema: share/parkit/schema/catalogue.schema.json).\n")
string(APPEND man ".SS parkit help\nOne kernel's options, or the usage.\n")
foreach(command report launch splits)
  roff_verbatim("${usage_${command}}" usage)
  string(APPEND man ".SS parkit ${command}\n${usage}")
endforeach()

string(APPEND man ".SH THE KEY=VALUE LINE\n")
string(APPEND man "Every finished run prints exactly one line\n.PP\n.nf\n")
string(APPEND man "\\&PARKIT kernel=NAME mode=MODE ranks=P threads=T ... rate=R rate_unit=U verified=1 out_NAME=V ... file=PATH\n.fi\n.PP\n")
string(APPEND man "Keys are fixed names, the kernel's option names and \\fBout_\\fR\\fINAME\\fR for its headline\n")
string(APPEND man "outputs. A value is bare (bytes 0x21\\-0x7E other than \\(dq, \\e and =) or double-quoted;\n")
string(APPEND man "inside quotes \\e\\e, \\e\\(dq, \\en, \\et, \\er and \\exHH are escapes and valid UTF\\-8 is kept as it is,\n")
string(APPEND man "so a value never breaks the line. The parser: parkit_analysis.key_values.\n")

string(APPEND man ".SH EXIT STATUS\n")
roff_tagged_list(man exit_statuses status meaning)

string(APPEND man ".SH ENVIRONMENT\n")
string(APPEND man ".TP\n.B OMP_NUM_THREADS\nthe default of \\fB\\-\\-threads\\fR.\n")
string(APPEND man ".TP\n.B OMPI_ALLOW_RUN_AS_ROOT, OMPI_ALLOW_RUN_AS_ROOT_CONFIRM\nOpen MPI refuses to run as root without both set to 1.\n")
string(APPEND man ".TP\n.B PARKIT_BINARY\nthe parkit program the job scripts run (default: the one installed beside them).\n")
string(APPEND man ".SH FILES\n")
string(APPEND man ".TP\n.I results/\nthe default output directory of a run (\\fB\\-\\-out\\fR).\n")
string(APPEND man ".TP\n.I share/doc/parkit/results/README.md\nthe layout of the result files, the catalogue and the report JSON.\n")
string(APPEND man ".TP\n.I share/parkit/jobs/\nthe job scripts (run.sh, sweep.sh, compare_modes.sh, slurm/*.sbatch).\n")
string(APPEND man ".SH SEE ALSO\n\\fBparkit\\-report\\fR (HTML report), \\fBparkit\\-compare\\-modes\\fR (the main job),\n")
string(APPEND man "\\fBmpirun\\fR(1), \\fBsbatch\\fR(1), \\fBh5dump\\fR(1)\n")
file(WRITE ${MAN_PAGE} "${man}")

# ---- bash completion -----------------------------------------------------------

# Single-quoted shell word.
function(shell_word text out)
  string(REPLACE "'" "'\\''" text "${text}")
  set(${out} "'${text}'" PARENT_SCOPE)
endfunction()

# Appends to `types` the entries "[PREFIX--name]=TYPE" (and to `choices`
# "[PREFIX--name]='a b'") of the option table at the JSON path, and sets
# `names` to its options.
function(option_entries prefix)
  json_indices(options ${ARGN})
  set(entries "${types}")
  set(choice_entries "${choices}")
  set(option_names "")
  foreach(o ${options})
    string(JSON name GET "${catalogue}" ${ARGN} ${o} name)
    string(JSON type GET "${catalogue}" ${ARGN} ${o} type)
    string(APPEND entries " [${prefix}--${name}]=${type}")
    list(APPEND option_names "--${name}")
    if(type STREQUAL "choice")
      json_indices(word_indices ${ARGN} ${o} choices)
      set(choice_list "")
      foreach(w ${word_indices})
        string(JSON word GET "${catalogue}" ${ARGN} ${o} choices ${w})
        list(APPEND choice_list "${word}")
      endforeach()
      list(JOIN choice_list " " choice_list)
      shell_word("${choice_list}" choice_list)
      string(APPEND choice_entries " [${prefix}--${name}]=${choice_list}")
    endif()
  endforeach()
  list(JOIN option_names " " option_names)
  set(types "${entries}" PARENT_SCOPE)
  set(choices "${choice_entries}" PARENT_SCOPE)
  set(names "${option_names}" PARENT_SCOPE)
endfunction()

# The "[--name VALUE]" words of a usage text: VALUE a|b|c is a choice, PATH a
# file, any other word a number, none a flag.
function(usage_entries command usage)
  string(REGEX MATCHALL "\\[--[a-z-]+( [^]]+)?\\]" words "${usage}")
  set(entries "${types}")
  set(choice_entries "${choices}")
  set(option_names "")
  foreach(word ${words})
    string(REGEX REPLACE "^\\[(--[a-z-]+).*" "\\1" name "${word}")
    list(APPEND option_names "${name}")
    if(word MATCHES "^\\[--[a-z-]+ ([a-z0-9|-]+\\|[a-z0-9|-]+)\\]$")
      string(REPLACE "|" " " list "${CMAKE_MATCH_1}")
      string(APPEND entries " [${command}:${name}]=choice")
      string(APPEND choice_entries " [${command}:${name}]='${list}'")
    elseif(word MATCHES " PATH\\]$")
      string(APPEND entries " [${command}:${name}]=text")
    elseif(word MATCHES " ")
      string(APPEND entries " [${command}:${name}]=integer")
    else()
      string(APPEND entries " [${command}:${name}]=flag")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES option_names)
  list(JOIN option_names " " option_names)
  set(types "${entries}" PARENT_SCOPE)
  set(choices "${choice_entries}" PARENT_SCOPE)
  set(names "${option_names}" PARENT_SCOPE)
endfunction()

set(types "")
set(choices "")
set(kernel_names "")
set(mode_names "")
json_indices(modes modes)
foreach(m ${modes})
  string(JSON name GET "${catalogue}" modes ${m} name)
  list(APPEND mode_names ${name})
endforeach()
list(JOIN mode_names " " mode_names)
option_entries(":" common_options)
set(common_names "${names}")
set(kernel_options "")
foreach(k ${kernels})
  string(JSON name GET "${catalogue}" kernels ${k} name)
  list(APPEND kernel_names ${name})
  option_entries("${name}:" kernels ${k} options)
  string(APPEND kernel_options " [${name}]='${names}'")
endforeach()
list(JOIN kernel_names " " kernel_names)
set(command_options "")
foreach(command report launch splits)
  usage_entries(${command} "${usage_${command}}")
  string(APPEND command_options " [${command}]='${names} --help'")
endforeach()

set(completion [=[# bash completion for parkit: modes, kernels, their options and the values
# of choice options. Generated from `parkit list --format json` and the
# commands' --help by cmake/parkit_docs.cmake; do not edit.
_parkit_modes='@MODES@'
_parkit_kernels='@KERNELS@'
_parkit_common_options='@COMMON@'
declare -A _parkit_kernel_options=(@KERNEL_OPTIONS@ )
declare -A _parkit_command_options=(@COMMAND_OPTIONS@ )
# The type of each option's value, keyed "KERNEL:--name" (":--name" for the
# options of every kernel, "COMMAND:--name" for report, launch, splits).
declare -A _parkit_option_types=(@TYPES@ )
declare -A _parkit_option_choices=(@CHOICES@ )

_parkit_words() { # WORDS: the completions of the current word among WORDS
  local IFS=$' \t\n'
  COMPREPLY=($(compgen -W "$1" -- "${COMP_WORDS[COMP_CWORD]}"))
}

_parkit_files() { # file and directory names (with spaces intact)
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
}

# Completes the value of option $1 of KERNEL-or-COMMAND $2; returns 1 when
# $1 takes no value (the current word is then an option or an argument).
_parkit_value() {
  local type=${_parkit_option_types[$2:$1]:-${_parkit_option_types[:$1]:-}}
  case $type in
  choice)
    _parkit_words "${_parkit_option_choices[$2:$1]:-${_parkit_option_choices[:$1]:-}}" ;;
  text) _parkit_files ;;
  integer | number) COMPREPLY=() ;;
  *) return 1 ;;
  esac
}

_parkit() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local command=${COMP_WORDS[1]:-}
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    _parkit_words "$_parkit_modes list help report launch splits --help --version"
    return
  fi
  case $command in
  threads | ranks | hybrid)
    if [ "$COMP_CWORD" -eq 2 ]; then
      _parkit_words "$_parkit_kernels"
      return
    fi
    local kernel=${COMP_WORDS[2]}
    _parkit_value "$prev" "$kernel" && return
    _parkit_words "${_parkit_kernel_options[$kernel]:-} $_parkit_common_options --help"
    ;;
  list)
    case $prev in
    --format) _parkit_words "text json" ;;
    *) _parkit_words "--format" ;;
    esac
    ;;
  help)
    [ "$COMP_CWORD" -eq 2 ] && _parkit_words "$_parkit_kernels"
    ;;
  report)
    _parkit_value "$prev" report && return
    if [[ $cur == -* ]]; then
      _parkit_words "${_parkit_command_options[report]}"
    else
      _parkit_files
    fi
    ;;
  launch)
    _parkit_value "$prev" launch && return
    # After "--": the kernel's options; before: launch's own, then MODE
    # KERNEL RANKS THREADS.
    local i word separator=0 positional=()
    for ((i = 2; i < COMP_CWORD; ++i)); do
      word=${COMP_WORDS[i]}
      if [ "$word" = -- ]; then
        separator=1
      elif [ "$separator" -eq 0 ] && [[ $word != -* ]] &&
        ! _parkit_takes_value "${COMP_WORDS[i - 1]}" launch; then
        positional+=("$word")
      fi
    done
    if [ "$separator" -eq 1 ]; then
      local kernel=${positional[1]:-}
      _parkit_value "$prev" "$kernel" && return
      _parkit_words "${_parkit_kernel_options[$kernel]:-} $_parkit_common_options"
    elif [[ $cur == -* ]]; then
      _parkit_words "${_parkit_command_options[launch]} --"
    elif [ ${#positional[@]} -eq 0 ]; then
      _parkit_words "$_parkit_modes"
    elif [ ${#positional[@]} -eq 1 ]; then
      _parkit_words "$_parkit_kernels"
    fi
    ;;
  splits)
    _parkit_value "$prev" splits && return
    _parkit_words "${_parkit_command_options[splits]}"
    ;;
  esac
}

_parkit_takes_value() { # OPTION COMMAND: whether OPTION is followed by a value
  local type=${_parkit_option_types[$2:$1]:-}
  [ -n "$type" ] && [ "$type" != flag ]
}

complete -F _parkit parkit
]=])
string(REPLACE "@MODES@" "${mode_names}" completion "${completion}")
string(REPLACE "@KERNELS@" "${kernel_names}" completion "${completion}")
string(REPLACE "@COMMON@" "${common_names}" completion "${completion}")
string(REPLACE "@KERNEL_OPTIONS@" "${kernel_options}" completion "${completion}")
string(REPLACE "@COMMAND_OPTIONS@" "${command_options}" completion "${completion}")
string(REPLACE "@TYPES@" "${types}" completion "${completion}")
string(REPLACE "@CHOICES@" "${choices}" completion "${completion}")
file(WRITE ${COMPLETION} "${completion}")
