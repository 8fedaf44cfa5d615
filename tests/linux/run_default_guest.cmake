# `lift86` with no arguments boots the Linux guest to a shell on the terminal (issue 4's default
# guest): types `uname -a` and `reboot -f` on its serial input and expects the kernel's answer and
# lift86 ending by itself (a guest reboot ends the default run). The input starts with 64 empty
# lines: bytes typed before the kernel's 8250 driver opens the port are lost (FIFO resets), as on
# hardware and on QEMU, so the commands must come after some slack.
if(NOT EXISTS ${GUEST}/vmlinuz)
  if("$ENV{CI}" STREQUAL "true")
    message(FATAL_ERROR "the Linux guest is missing in ${GUEST}: build the linux_guest target (scripts/test.sh does)")
  endif()
  message("SKIP: the Linux guest is missing in ${GUEST}")
  return()
endif()
execute_process(COMMAND ${LIFT86} INPUT_FILE ${INPUT} OUTPUT_VARIABLE out ERROR_VARIABLE err
                RESULT_VARIABLE rc TIMEOUT 1500)
string(REPLACE "\r" "" out "${out}")
if(NOT out MATCHES "lift86-linux-ready")
  message(FATAL_ERROR "no ready banner from the default guest (exit ${rc}):\n${out}\n${err}")
endif()
if(NOT out MATCHES "Linux [^\n]* 6\\.[0-9]+\\.[^\n]*686[^\n]*i686 GNU/Linux")
  message(FATAL_ERROR "`uname -a` did not answer on the serial console (exit ${rc}):\n${out}\n${err}")
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lift86 exited with ${rc} after the guest's reboot, expected 0:\n${err}")
endif()
