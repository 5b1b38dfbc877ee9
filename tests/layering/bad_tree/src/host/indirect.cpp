// Deliberately breaks the layering: host links gic, which links sim, but
// host does not link sim itself -- only direct edges may be included.
#include <fwdsim/gic/gic.h>
#include <fwdsim/sim/cycles.h>
