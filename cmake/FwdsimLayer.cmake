# fwdsim_add_layer(NAME SOURCES ... [DEPENDS layer...] [PRIVATE_LIBS lib...])
#
# Declares one layer of the simulator as a static library `fwdsim_<NAME>`,
# exported as `fwdsim::<NAME>`.  DEPENDS names the layers beneath it that it
# may use; tests/layering checks that its #includes agree.
function(fwdsim_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  set(target fwdsim_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(fwdsim::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${name}
    POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set(deps)
  foreach(dep IN LISTS ARG_DEPENDS)
    list(APPEND deps fwdsim_${dep})
  endforeach()
  target_link_libraries(${target}
    PUBLIC ${deps} ${ARG_PUBLIC_LIBS}
    PRIVATE ${ARG_PRIVATE_LIBS} $<BUILD_INTERFACE:fwdsim_warnings>)
  set_property(GLOBAL APPEND PROPERTY FWDSIM_LAYER_TARGETS ${target})
endfunction()
