# Runs lift86 with ARGS (a ;-list), and checks its exit status (STATUS) and that its stderr is
# one line matching REGEX. Usage: cmake -DLIFT86=... -DARGS=... -DSTATUS=2 -DREGEX=... -P expect.cmake
execute_process(COMMAND ${LIFT86} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc STREQUAL STATUS)
  message(FATAL_ERROR "exit status ${rc}, expected ${STATUS}\nstderr: ${err}")
endif()
if(NOT err MATCHES "${REGEX}")
  message(FATAL_ERROR "stderr does not match '${REGEX}':\n${err}")
endif()
string(REGEX MATCHALL "\n" lines "${err}")
list(LENGTH lines n)
if(n GREATER 1)
  message(FATAL_ERROR "expected a one-line error, got ${n} lines:\n${err}")
endif()
