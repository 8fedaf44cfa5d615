# Shared start of the boot-test scripts (run_*.cmake, given by lift86_boot_test() in
# CMakeLists.txt): include() it, then call
#   lift86_boot_script_start(VAR...)
# It checks that the named -D variables are set, makes the test a skip when the Linux guest has
# not been built (a failure under CI=true, where it must be there), and defaults ENGINE to the
# interpreter. A macro, so that its return() ends the calling script.
macro(lift86_boot_script_start)
  foreach(_var ${ARGN})
    if(NOT DEFINED ${_var})
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: ${_var} not set")
    endif()
  endforeach()
  if(NOT EXISTS ${GUEST}/vmlinuz OR NOT EXISTS ${GUEST}/initrd.gz)
    if("$ENV{CI}" STREQUAL "true")
      message(FATAL_ERROR "the Linux guest is missing in ${GUEST}: build the linux_guest target (scripts/test.sh does)")
    endif()
    message("SKIP: the Linux guest is missing in ${GUEST} (cmake --build build --target linux_guest)")
    return()   # CTest's SKIP_REGULAR_EXPRESSION turns this into a skip
  endif()
  if(NOT ENGINE)
    set(ENGINE interp)
  endif()
endmacro()
