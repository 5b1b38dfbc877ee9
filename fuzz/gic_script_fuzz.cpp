// Fuzz target: the gic-script front end and, through it, every register of
// the GIC model.  The first input byte picks the configuration (CPUs, LRs,
// priority bits) so multi-CPU banking and large LR counts are explored too.
// Any input must be answered line by line without a crash or a sanitizer
// report.
#include <fwdsim/gic/gic_script.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fwdsim::gic::GicScriptOptions options;
    if (size > 0) {
        options.cpus = 1 + (data[0] & 7);
        options.lrs = 1 + ((data[0] >> 3) & 3) * 21; // 1, 22, 43, 64
        options.priority_bits = 4 + ((data[0] >> 5) & 3) + ((data[0] >> 7) & 1); // 4..8
        options.irqs = 256;
    }
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream out;
    fwdsim::gic::run_gic_script(in, out, options);
    return 0;
}
