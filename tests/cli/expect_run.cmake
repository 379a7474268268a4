# Runs the weft binary as a user would and checks exit codes and output.
# The last stdout and stderr are kept in LAST_OUT and LAST_ERR for the
# caller; IN names a file for
# stdin (default /dev/null).
function(expect_run)
  cmake_parse_arguments(A "" "CODE;OUT;ERR;IN" "ARGS" ${ARGN})
  if(NOT DEFINED A_IN)
    set(A_IN /dev/null)
  endif()
  execute_process(COMMAND ${WEFT} ${A_ARGS} INPUT_FILE ${A_IN} RESULT_VARIABLE code OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  set(LAST_OUT "${out}" PARENT_SCOPE)
  set(LAST_ERR "${err}" PARENT_SCOPE)
  if(NOT code EQUAL A_CODE)
    message(FATAL_ERROR "weft ${A_ARGS}: exit ${code}, expected ${A_CODE}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(DEFINED A_OUT AND NOT out MATCHES "${A_OUT}")
    message(FATAL_ERROR "weft ${A_ARGS}: stdout '${out}' does not match '${A_OUT}'")
  endif()
  if(DEFINED A_ERR AND NOT err MATCHES "${A_ERR}")
    message(FATAL_ERROR "weft ${A_ARGS}: stderr '${err}' does not match '${A_ERR}'")
  endif()
endfunction()
