# lift86_check_png(PATH WIDTH HEIGHT FAILURES_VAR): appends a line to FAILURES_VAR unless PATH is a
# PNG of WIDTH x HEIGHT pixels (the IHDR chunk after the 8-byte signature: length, type, then width
# and height as big-endian u32). Shared by the screenshot tests (tests/guest, tests/linux).
function(lift86_check_png path width height failures_var)
  set(failures "${${failures_var}}")
  if(NOT EXISTS ${path})
    string(APPEND failures "no screenshot ${path}\n")
  else()
    file(READ ${path} head LIMIT 24 HEX)
    string(SUBSTRING "${head}" 32 8 w)
    string(SUBSTRING "${head}" 40 8 h)
    math(EXPR w "0x0${w}")
    math(EXPR h "0x0${h}")
    if(NOT w EQUAL width OR NOT h EQUAL height)
      string(APPEND failures "screenshot ${path} is ${w}x${h}, not ${width}x${height}\n")
    endif()
  endif()
  set(${failures_var} "${failures}" PARENT_SCOPE)
endfunction()
