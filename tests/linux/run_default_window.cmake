# `lift86` with no arguments on a machine with a screen: the default guest opens a window whose
# console is the VGA text screen (issue 4). Run headless through SDL's offscreen video driver,
# with DISPLAY set so that lift86 chooses the window; on the virtual clock (the default guest
# otherwise runs on the host's, where an idle guest retires few instructions), cut by --max-insns
# (exit status 3) once the shell has had ample time to print its prompt, then the screen (read from VGA memory) must show
# /init's banner and the prompt, and nothing on the terminal but lift86's own stop message.
#   cmake -DLIFT86=... -DGUEST=<dir> -DOUT=<prefix> [-DENGINE=interp] -P run_default_window.cmake
include(${CMAKE_CURRENT_LIST_DIR}/boot_test_common.cmake)
lift86_boot_script_start(LIFT86 GUEST OUT)
file(REMOVE ${OUT}.txt ${OUT}.png)
execute_process(COMMAND ${CMAKE_COMMAND} -E env DISPLAY=:lift86-test SDL_VIDEODRIVER=offscreen --unset=WAYLAND_DISPLAY
                ${LIFT86} --engine ${ENGINE} --clock virtual --max-insns 2000000000 --screen-text ${OUT}.txt --screenshot ${OUT}.png
                INPUT_FILE /dev/null OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 900)
if(NOT rc EQUAL 3)
  message(FATAL_ERROR "expected exit status 3 (--max-insns), got ${rc}: ${err}")
endif()
file(READ ${OUT}.txt screen)
foreach(want "lift86-linux-ready" "lift86:[^ \n]*#")
  if(NOT screen MATCHES "${want}")
    message(FATAL_ERROR "not on the window's screen: '${want}'\n--- screen ---\n${screen}\n--- stderr ---\n${err}")
  endif()
endforeach()
if(NOT out STREQUAL "")
  message(FATAL_ERROR "with a window the terminal stays quiet; got on stdout:\n${out}")
endif()
