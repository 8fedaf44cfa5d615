# lift86_embed_file(<target> <file> <function>)
#
# Compiles the bytes of <file> (typically a build product: an option ROM from nasm, an ACPI
# table from iasl) into <target> as
#
#     namespace lift86 { std::span<const uint8_t> <function>(); }
#
# so lift86 carries it inside its binary instead of looking for it at run time. Declare the
# function in a header next to the others (roms/roms.hpp). <target> is created as a static
# library if it does not exist yet. Call it in the directory that builds <file> and defines
# <target> (a custom command's output reaches only targets of its own directory). The C++ file
# is regenerated whenever <file> changes.
set(LIFT86_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake CACHE INTERNAL "roms/embed_file.cmake")

function(lift86_embed_file target file function)
  if(NOT function MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "lift86_embed_file: '${function}' is not a C++ identifier")
  endif()
  get_filename_component(file ${file} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  get_filename_component(name ${file} NAME)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded/${function}.cpp)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${file} -DOUTPUT=${out} -DFUNCTION=${function} -P ${LIFT86_EMBED_SCRIPT}
    DEPENDS ${file} ${LIFT86_EMBED_SCRIPT}
    COMMENT "embed ${name} as lift86::${function}()"
    VERBATIM)
  if(NOT TARGET ${target})
    add_library(${target} STATIC)
  endif()
  target_sources(${target} PRIVATE ${out})
endfunction()
