# Boots the Linux test guest on lift86 and checks the scripted run (issue 4's boot test):
# every line of check.expected must appear on the serial console, in order, and lift86 must end
# by itself when the guest powers off (ACPI S5: exit status 0).
#   cmake -DLIFT86=... -DGUEST=<dir> -DEXPECTED=check.expected -DOUT=<file> [-DMODE=direct|seabios|disk] -P run_linux_boot.cmake
include(${CMAKE_CURRENT_LIST_DIR}/boot_test_common.cmake)
lift86_boot_script_start(LIFT86 GUEST EXPECTED OUT)
if(NOT MODE)
  set(MODE direct)
endif()
set(common -m 256 -display none -serial file:${OUT} -no-reboot --max-insns 40000000000 --engine ${ENGINE})
# direct: lift86 enters the kernel itself (--direct-boot); seabios: the same -kernel as QEMU
# boots it, through SeaBIOS and lift86's Linux boot option ROM (roms/linuxboot.asm).
if(MODE STREQUAL "direct" OR MODE STREQUAL "seabios")
  set(cmd ${LIFT86} -kernel ${GUEST}/vmlinuz -initrd ${GUEST}/initrd.gz
      -append "console=ttyS0 isapnp=0 cryptomgr.notests lift86.check=1" ${common})
  if(MODE STREQUAL "direct")
    list(APPEND cmd --direct-boot)
  endif()
else()
  set(cmd ${LIFT86} -hda ${GUEST}/disk.img -snapshot ${common})
endif()
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc TIMEOUT 1500 ERROR_VARIABLE err)
file(READ ${OUT} console)
string(REPLACE "\r" "" console "${console}")
file(STRINGS ${EXPECTED} want REGEX "^[^#]")
if(MODE STREQUAL "disk")
  # Booted from disk.img, the check also reads the kernel and initrd back through the IDE driver.
  list(INSERT want -1 "lift86-check: disk sda1 ok")
endif()
# The check ends with `poweroff -f`: the kernel finds the ACPI tables (from SeaBIOS, or placed by
# lift86 for --direct-boot), writes the \_S5 sleep type to PM1a_CNT and lift86 ends with status 0.
# Without ACPI the guest would fall back to `reboot -f`, which -no-reboot also turns into exit 0:
# the kernel's "Power down" tells the two apart.
list(APPEND want "reboot: Power down")
set(pos 0)
foreach(line IN LISTS want)
  string(SUBSTRING "${console}" ${pos} -1 rest)
  string(FIND "${rest}" "${line}" at)
  if(at EQUAL -1)
    string(LENGTH "${console}" n)
    math(EXPR from "${n} - 3000")
    if(from LESS 0)
      set(from 0)
    endif()
    string(SUBSTRING "${console}" ${from} -1 tail)
    message(FATAL_ERROR "missing on the console (in order): '${line}'\nlift86 exit ${rc}: ${err}\n--- console tail ---\n${tail}")
  endif()
  math(EXPR pos "${pos} + ${at} + 1")
endforeach()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lift86 exited with ${rc} (expected 0 after the guest's poweroff): ${err}")
endif()
