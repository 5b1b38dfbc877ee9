// The resolved scenario: every parameter of a run after defaults, the
// file's values, sweep values and command-line overrides, written so that
// a result says exactly what produced it.
//
// resolved_json() writes a ScenarioConfig as one JSON object with the keys
// of a scenario file (docs/scenario-format.md), every key present, the
// defaults included.  JSON is YAML, so the object is itself a scenario
// file: parse_scenario() reads it back to the same configuration (the files
// it names -- the profile, a traffic trace -- as the scenario file wrote
// them, relative to its folder).  Only the outputs are left out, as they say
// where results go, not what produced them.  The text is a function of the
// configuration alone: no time, host, working folder or path of the tool.
#pragma once

#include <fwdsim/scenario/config.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fwdsim::scenario {

/// The fwdsim release that wrote a result (the CMake project's version).
const char* fwdsim_version();

/// `c` as a JSON object a scenario file may hold (see above).
std::string resolved_json(const ScenarioConfig& c);

/// What produced a run, as one JSON object (a trace's otherData): the
/// fwdsim version, the profile's name and digest, the point's sweep
/// parameters and the resolved scenario -- the fields a result record has.
std::string run_description_json(const ScenarioConfig& c, const std::string& profile, std::uint64_t profile_digest,
                                 const std::vector<std::pair<std::string, std::string>>& params = {});

} // namespace fwdsim::scenario
