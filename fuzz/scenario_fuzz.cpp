// Fuzz target: the scenario front end as `fwdsim sweep` drives it -- the
// parser, the sweep expansion, the system validation -- and then the System
// itself, built from each accepted point and run for a bounded simulated
// time.  Any input must either be refused with a ConfigError or run to its
// bound with design.md's invariants holding; anything else (a crash, a
// sanitizer report, a hang, another exception escaping, a broken invariant)
// is a bug.  Each accepted point's resolved scenario (what its results
// carry) must also read back to itself.
#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// Enough for every example's set-up and its first interrupts (about 40 us
// at 2.4 GHz), short enough that an input runs in milliseconds.
constexpr std::uint64_t kMaxCycles = 100'000;
constexpr std::size_t kMaxPoints = 2;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fwdsim;
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const scenario::Sweep sweep = scenario::Sweep::parse(text, "fuzz.yaml");
        for (std::size_t i = 0; i < std::min(sweep.size(), kMaxPoints); ++i) {
            const scenario::SweepPoint p = sweep.point(i);
            const std::string resolved = scenario::resolved_json(p.config);
            try {
                if (scenario::resolved_json(scenario::parse_scenario(resolved, "resolved")) != resolved) {
                    std::fprintf(stderr, "the resolved scenario reads back otherwise: %s\n", resolved.c_str());
                    std::abort();
                }
            } catch (const sim::ConfigError& e) {
                std::fprintf(stderr, "the resolved scenario is refused: %s\n%s\n", e.what(), resolved.c_str());
                std::abort();
            }
            scenario::System sys(p.config, scenario::load_profile(p.config));
            sys.start();
            sys.run_for(sim::Cycles{std::min(kMaxCycles, sys.us(p.config.duration_us).count())});
            (void)sys.report();
            if (const auto broken = sys.check(); !broken.empty()) {
                std::fprintf(stderr, "invariant broken: %s\n", broken.front().c_str());
                std::abort();
            }
        }
    } catch (const sim::ConfigError&) {
        // Refused with a located message: the expected outcome for bad input.
    }
    return 0;
}
