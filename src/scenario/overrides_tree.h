// Overrides applied to a scenario's YAML tree, for sweep.cpp to share with
// overrides.cpp.  Private to the scenario layer.
#pragma once

#include "yaml_paths.h"

#include <fwdsim/scenario/overrides.h>

namespace fwdsim::scenario::detail {

/// A copy of `root` with every override substituted (missing mappings made).
YAML::Node apply_overrides(const YAML::Node& root, const std::string& origin, const std::vector<Override>& overrides);

/// The scenario `root` (parsed from `text`) with `overrides` applied, its
/// errors located as overrides.h says.
ScenarioConfig parse_overridden(const YAML::Node& root, const std::string& text, const std::string& origin,
                                const std::vector<Override>& overrides);

} // namespace fwdsim::scenario::detail
