cmake_minimum_required(VERSION 3.25)
# Checks that every file of a layer includes only its own headers and those
# of the layers it may use (docs/architecture.md, "The layering").
# Run as: cmake -DSOURCE_DIR=<repo> -P check_layering.cmake

set(allowed_sim      sim)
set(allowed_gic      gic sim)
set(allowed_host     host gic sim)
set(allowed_arch     arch host gic sim)
set(allowed_kvm      kvm arch host gic sim)
set(allowed_vfio     vfio host gic sim)
set(allowed_kvm_vfio kvm_vfio vfio kvm arch host gic sim)
set(allowed_guest    guest kvm arch host gic sim)
set(allowed_dev      dev host gic sim)
set(allowed_vmm      vmm kvm_vfio vfio kvm arch host gic sim dev guest)
set(allowed_machine  machine vmm kvm_vfio vfio kvm arch host gic sim dev guest)
set(allowed_scenario scenario machine vmm kvm_vfio vfio kvm arch host gic sim dev guest)

set(violations "")
foreach(layer IN ITEMS sim gic host arch kvm vfio kvm_vfio guest dev vmm machine scenario)
  file(GLOB_RECURSE files
    ${SOURCE_DIR}/src/${layer}/*.cpp ${SOURCE_DIR}/src/${layer}/*.h
    ${SOURCE_DIR}/include/fwdsim/${layer}/*.h)
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*<fwdsim/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE ".*<fwdsim/([a-z_]+)/.*" "\\1" used "${line}")
      if(NOT used IN_LIST allowed_${layer})
        string(APPEND violations "  ${file}: layer '${layer}' includes '${used}'\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations:\n${violations}")
endif()
message(STATUS "layering: all includes follow the layer graph")
