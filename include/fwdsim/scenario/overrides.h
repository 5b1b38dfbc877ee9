// Overrides: scenario parameters set from the command line.
//
// `fwdsim run|sweep FILE --set devices.0.irqs.0.traffic.rate_per_s=1000`
// replaces one value of the file (or sets one it leaves at its default)
// before the scenario is read, so the value is checked exactly as the
// file's own would be and a mistake names the key and `--set`.  The path is
// a sweep axis's (docs/scenario-format.md): keys and list positions joined
// by dots; the value is YAML (`1e6`, `forwarded`, `[1, 2]`).  A sweep
// refuses an override of a key it varies (or of a mapping or list holding
// one): it would flatten that axis silently.
#pragma once

#include <fwdsim/scenario/config.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::scenario {

struct Override {
    std::string path;  ///< as written
    std::string value; ///< YAML text
};

/// "path=value" -> Override; throws sim::ConfigError naming `--set` when
/// there is no '=', no path or no value.
Override parse_override(const std::string& spec);

/// A digest of the overrides, folded into `h` (so results of one grid with
/// other overrides are told apart).
std::uint64_t digest_overrides(const std::vector<Override>& overrides, std::uint64_t h);

/// Parses a scenario (its `sweep` section ignored) with `overrides` applied.
/// A bad override is a sim::ConfigError naming `--set <path>`; a mistake of
/// the file's own, its line.
ScenarioConfig parse_scenario(const std::string& text, const std::string& origin, const std::vector<Override>& overrides);
ScenarioConfig load_scenario(const std::string& path, const std::vector<Override>& overrides);

} // namespace fwdsim::scenario
