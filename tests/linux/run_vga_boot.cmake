# The Linux guest on the VGA text console (issue 4): -kernel through SeaBIOS, which leaves the VGA
# in text mode 3, and no console=ttyS0, so the kernel's messages and /init's interactive shell
# go to the screen (vgacon). lift86.serial-shell=1 makes /init also start a shell on the serial
# port, where this test types `poweroff -f` once the screen's shell has had time to show its
# prompt. At exit lift86 writes the screen as text (--screen-text, read from VGA memory) and as a
# PNG (--screenshot); the text must show kernel messages, /init's banner and the shell prompt.
# MODE=seabios (default) boots -kernel through SeaBIOS; MODE=direct with --direct-boot, where
# lift86 runs the VGA BIOS's initialisation itself (machine/vga_post.cpp).
#   cmake -DLIFT86=... -DGUEST=<dir> -DOUT=<prefix> [-DMODE=seabios|direct] -P run_vga_boot.cmake
include(${CMAKE_CURRENT_LIST_DIR}/boot_test_common.cmake)
lift86_boot_script_start(LIFT86 GUEST OUT)
set(extra "")
if(MODE STREQUAL "direct")
  set(extra --direct-boot)
endif()
set(png ${OUT}.png)
set(text ${OUT}.txt)
set(input ${OUT}.input)
file(REMOVE ${png} ${text})
# Slack lines first: bytes that arrive before the serial shell opens the port are lost.
string(REPEAT "\n" 64 slack)
file(WRITE ${input} "${slack}sleep 2; poweroff -f\n")
execute_process(COMMAND ${LIFT86} -kernel ${GUEST}/vmlinuz -initrd ${GUEST}/initrd.gz
                -append "isapnp=0 cryptomgr.notests lift86.serial-shell=1" -m 256 -display none -serial stdio
                -no-reboot --max-insns 40000000000 --screenshot ${png} --screen-text ${text} --engine ${ENGINE} ${extra}
                INPUT_FILE ${input} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 900)
set(failures "")
if(NOT rc EQUAL 0)
  string(APPEND failures "lift86 exited with ${rc} (expected 0 after the guest's poweroff): ${err}\n")
endif()
if(NOT EXISTS ${text})
  string(APPEND failures "no screen text ${text}\n")
else()
  file(READ ${text} screen)
  # Kernel messages (printk timestamps), /init's banner, the prompt (PS1='lift86:\w\$ '), and the
  # kernel's last words.
  foreach(want "\\[ *[0-9]+\\.[0-9]+\\] " "lift86-linux-ready" "lift86:[^ \n]*#" "reboot: Power down")
    if(NOT screen MATCHES "${want}")
      string(APPEND failures "not on the VGA screen: '${want}'\n")
    endif()
  endforeach()
endif()
include(${CMAKE_CURRENT_LIST_DIR}/../cmake/check_png.cmake)
lift86_check_png(${png} 720 400 failures)   # 80x25 text mode, 9x16 cells
if(failures)
  if(EXISTS ${text})
    file(READ ${text} screen)
  endif()
  message(FATAL_ERROR "VGA boot test failed:\n${failures}--- screen ---\n${screen}\n--- serial ---\n${out}")
endif()
