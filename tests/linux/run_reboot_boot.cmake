# `reboot` and `poweroff` in the Linux guest (issue 4): with lift86.reboot-test=1 /init reboots
# once and powers off on the second boot (a flag in CMOS NVRAM tells them apart).
#  1. Without -no-reboot the reset restarts the machine: SeaBIOS runs again, the option ROM loads
#     the kernel from fw_cfg again, the second boot powers off, lift86 exits 0.
#  2. With -no-reboot the guest's reboot ends lift86 (exit 0, a note on stderr), as on QEMU
#     (booted with --direct-boot: the firmware path is what 1 tests).
#   cmake -DLIFT86=... -DGUEST=<dir> -DOUT=<prefix> -P run_reboot_boot.cmake
include(${CMAKE_CURRENT_LIST_DIR}/boot_test_common.cmake)
lift86_boot_script_start(LIFT86 GUEST OUT)
set(boot ${LIFT86} -kernel ${GUEST}/vmlinuz -initrd ${GUEST}/initrd.gz -m 256 -display none
    -append "console=ttyS0 isapnp=0 cryptomgr.notests quiet lift86.modules=0 lift86.reboot-test=1" --max-insns 40000000000 --engine ${ENGINE})

execute_process(COMMAND ${boot} -serial file:${OUT}.reset.console RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 900)
file(READ ${OUT}.reset.console console)
if(NOT console MATCHES "lift86-reboot: first boot, rebooting.*lift86-linux-ready.*lift86-reboot: second boot, powering off.*reboot: Power down")
  message(FATAL_ERROR "reboot then power-off not seen on the console (exit ${rc}): ${err}\n${console}")
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lift86 exited with ${rc} after the second boot's power-off, expected 0: ${err}")
endif()

execute_process(COMMAND ${boot} -serial file:${OUT}.noreboot.console -no-reboot --direct-boot RESULT_VARIABLE rc ERROR_VARIABLE err TIMEOUT 900)
file(READ ${OUT}.noreboot.console console)
if(NOT console MATCHES "lift86-reboot: first boot, rebooting" OR console MATCHES "second boot")
  message(FATAL_ERROR "with -no-reboot the first boot's reboot must end the run (exit ${rc}): ${err}\n${console}")
endif()
if(NOT rc EQUAL 0 OR NOT err MATCHES "reset the machine; ending \\(-no-reboot\\)")
  message(FATAL_ERROR "with -no-reboot lift86 must end with 0 and say why; got ${rc}: ${err}")
endif()
