cmake_minimum_required(VERSION 3.25)
# Runs check_layering.cmake on a tree that breaks the layer graph and
# passes only if the check fails naming EXPECT, and names no file called
# good.cpp (which follows the graph): a check that fails for another
# reason, or reports everything, does not pass.
#   cmake -DTREE=<bad tree> -DEXPECT=<text> -P expect_reported.cmake
execute_process(
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${TREE} -DGRAPH=${TREE}/layer_graph.cmake
          -P ${CMAKE_CURRENT_LIST_DIR}/check_layering.cmake
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "check_layering passed a tree that breaks the graph:\n${all}")
endif()
string(FIND "${all}" "${EXPECT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "check_layering failed, but did not report '${EXPECT}':\n${all}")
endif()
if(all MATCHES "good\\.cpp")
  message(FATAL_ERROR "check_layering reported a file that follows the graph:\n${all}")
endif()
message(STATUS "reported, as expected: ${EXPECT}")
