cmake_minimum_required(VERSION 3.25)
# Checks that every file of a layer (src/<layer>/, include/fwdsim/<layer>/)
# includes only its own headers and those of the layers its target links
# directly, as the generated layer graph says (docs/architecture.md, "The
# layer graph").  Direct, not transitive: a layer that includes another
# names it in its own DEPENDS, so the graph shows every edge the code has.
# A folder that is no layer of the graph, and an include of a header that
# lies in no layer's folder, are reported too.
#
# Run as: cmake -DSOURCE_DIR=<repo> -DGRAPH=<build>/layer_graph.cmake -P check_layering.cmake

foreach(var IN ITEMS SOURCE_DIR GRAPH)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_layering.cmake needs -D${var}=...")
  endif()
endforeach()
if(NOT EXISTS ${GRAPH})
  message(FATAL_ERROR "no layer graph at ${GRAPH} (configure the build first)")
endif()
include(${GRAPH})

set(violations "")
file(GLOB folders LIST_DIRECTORIES true ${SOURCE_DIR}/src/* ${SOURCE_DIR}/include/fwdsim/*)
foreach(folder IN LISTS folders)
  get_filename_component(name ${folder} NAME)
  if(IS_DIRECTORY ${folder} AND NOT name IN_LIST FWDSIM_LAYERS)
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${folder})
    string(APPEND violations "  ${rel}/: '${name}' is no layer of the graph\n")
  endif()
endforeach()

foreach(layer IN LISTS FWDSIM_LAYERS)
  set(allowed ${layer} ${FWDSIM_LAYER_USES_${layer}})
  file(GLOB_RECURSE files
    ${SOURCE_DIR}/src/${layer}/*.cpp ${SOURCE_DIR}/src/${layer}/*.h
    ${SOURCE_DIR}/include/fwdsim/${layer}/*.h)
  foreach(file IN LISTS files)
    file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*<fwdsim/")
    foreach(line IN LISTS includes)
      string(REGEX MATCH "<fwdsim/[^>]*>" header "${line}")
      if(NOT header MATCHES "^<fwdsim/([a-z_]+)/")
        string(APPEND violations "  ${rel}: layer '${layer}' includes ${header}, which is in no layer\n")
      elseif(NOT CMAKE_MATCH_1 IN_LIST allowed)
        string(APPEND violations "  ${rel}: layer '${layer}' includes ${header}; '${layer}' links: ${FWDSIM_LAYER_USES_${layer}}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations (graph: ${GRAPH}):\n${violations}")
endif()
message(STATUS "layering: all includes follow the layer graph")
