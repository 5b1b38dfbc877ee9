// Fuzz target: the scenario-file parser and sweep expansion.  Any input must
// either parse or be rejected with a ConfigError; anything else (a crash, a
// sanitizer report, another exception type escaping) is a bug.
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/sim/config_error.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const auto points = fwdsim::scenario::expand_sweep(text, "fuzz.yaml");
        (void)points;
    } catch (const fwdsim::sim::ConfigError&) {
        // Rejected with a located message: the expected outcome for bad input.
    }
    return 0;
}
