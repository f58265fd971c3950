# sluice_add_plugin(<target> <source>...): a plugin shared object <target>.so. It exports only
# sluice_plugin_init: hidden visibility, and a version script that also keeps the standard
# library's template instances local, so that two plugins never share a symbol. It leaves no
# symbol undefined (-z defs), so that a mistake shows when linking, not when the agent loads it.
function(sluice_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE sluice::sdk)
  target_compile_features(${target} PRIVATE cxx_std_20)
  set_target_properties(${target} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
                                             CXX_VISIBILITY_PRESET hidden
                                             VISIBILITY_INLINES_HIDDEN ON)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(exports ${CMAKE_BINARY_DIR}/sluice_plugin_exports.map)
    if(NOT EXISTS ${exports})
      file(WRITE ${exports} "{\n  global: sluice_plugin_init;\n  local: *;\n};\n")
    endif()
    target_link_options(${target} PRIVATE LINKER:-z,defs LINKER:--version-script=${exports})
    set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${exports})
  endif()
endfunction()
