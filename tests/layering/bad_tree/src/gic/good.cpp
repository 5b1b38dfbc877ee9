// Follows the layering: gic links sim.  Must not be reported.
#include <fwdsim/gic/gic.h>
#include <fwdsim/sim/cycles.h>
