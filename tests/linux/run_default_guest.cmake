# `lift86` with no arguments boots the Linux guest to a shell (issue 4's default guest). With no
# screen (DISPLAY/WAYLAND_DISPLAY unset, as on a server or in CI) the shell is on the terminal,
# over the serial port. The test types commands on that serial input -- uname, /proc/cpuinfo, a
# computation whose answer it knows, `poweroff -f` -- and expects their output and lift86 ending
# by itself with status 0 (ACPI power-off; no -no-reboot here). The input starts with 64 empty
# lines: bytes typed before the kernel's 8250 driver opens the port are lost (FIFO resets), as on
# hardware and on QEMU, so the commands must come after some slack.
include(${CMAKE_CURRENT_LIST_DIR}/boot_test_common.cmake)
lift86_boot_script_start(LIFT86 GUEST INPUT)
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=DISPLAY --unset=WAYLAND_DISPLAY ${LIFT86} --engine ${ENGINE}
                INPUT_FILE ${INPUT} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 900)
string(REPLACE "\r" "" out "${out}")
if(NOT out MATCHES "lift86-linux-ready")
  message(FATAL_ERROR "no ready banner from the default guest (exit ${rc}):\n${out}\n${err}")
endif()
if(NOT out MATCHES "Linux [^\n]* 6\\.[0-9]+\\.[^\n]*686[^\n]*i686 GNU/Linux")
  message(FATAL_ERROR "`uname -a` did not answer on the serial console (exit ${rc}):\n${out}\n${err}")
endif()
foreach(want "vendor_id[ \t]*: GenuineIntel" "cpu family[ \t]*: 6" "flags[ \t]*: fpu [^\n]*cmov"
             "e071f707df7bbeee2a6a1eb48011ddd0  -" "lift86-sum 42")
  if(NOT out MATCHES "${want}")
    message(FATAL_ERROR "missing on the serial console: '${want}' (exit ${rc}):\n${out}\n${err}")
  endif()
endforeach()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lift86 exited with ${rc} after the guest's poweroff, expected 0:\n${err}")
endif()
