# A small layer graph for the bad tree (written by hand, in the generated
# format of fwdsim_write_layer_graph): host links gic, gic links sim.
set(FWDSIM_LAYERS sim gic host)
set(FWDSIM_LAYER_USES_sim )
set(FWDSIM_LAYER_USES_gic sim)
set(FWDSIM_LAYER_USES_host gic)
