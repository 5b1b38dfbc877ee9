# fwdsim_add_layer(NAME SOURCES ... [DEPENDS layer...] [PRIVATE_LIBS lib...])
#
# Declares one layer of the simulator as a static library `fwdsim_<NAME>`,
# exported as `fwdsim::<NAME>`.  DEPENDS names the layers beneath it that it
# may use: it is the layer graph's only statement of an edge, which
# fwdsim_write_layer_graph reads back from the link list and tests/layering
# checks every #include against.
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

# fwdsim_write_layer_graph(FILE)
#
# Writes the layer graph to FILE as CMake code: FWDSIM_LAYERS, the layers
# bottom-up, and per layer FWDSIM_LAYER_USES_<layer>, the layers its target
# links (PUBLIC or PRIVATE).  It is read from the targets' link lists, not
# from a second list, so an edge is written once, where the layer is
# declared.  Call it once every layer has been declared and linked.
# Read by tests/layering/check_layering.cmake and scripts/layer_graph.sh.
function(fwdsim_write_layer_graph file)
  get_property(targets GLOBAL PROPERTY FWDSIM_LAYER_TARGETS)
  list(TRANSFORM targets REPLACE "^fwdsim_" "" OUTPUT_VARIABLE layers)
  list(JOIN layers " " layer_list)
  set(text "# The fwdsim layer graph, written by fwdsim_write_layer_graph (cmake/FwdsimLayer.cmake)\n")
  string(APPEND text "# from each layer target's link list.  Generated: edit a layer's DEPENDS instead.\n")
  string(APPEND text "set(FWDSIM_LAYERS ${layer_list})\n")
  foreach(target IN LISTS targets)
    get_target_property(libs ${target} LINK_LIBRARIES)
    set(uses)
    foreach(lib IN LISTS libs)
      if(TARGET "${lib}")
        get_target_property(aliased ${lib} ALIASED_TARGET)
        if(aliased)
          set(lib ${aliased})
        endif()
      endif()
      if(lib IN_LIST targets)
        string(REGEX REPLACE "^fwdsim_" "" used ${lib})
        list(APPEND uses ${used})
      endif()
    endforeach()
    string(REGEX REPLACE "^fwdsim_" "" layer ${target})
    list(JOIN uses " " use_list)
    string(APPEND text "set(FWDSIM_LAYER_USES_${layer} ${use_list})\n")
  endforeach()
  file(CONFIGURE OUTPUT ${file} CONTENT "${text}" @ONLY)
endfunction()
