// check_yaml_syntax: a first, complete syntax pass over a scenario's text
// with libyaml, before yaml-cpp builds its tree.
//
// Private to the scenario layer.  yaml-cpp 0.7 (Debian bookworm's) loops
// forever on some malformed streams -- a top-level flow collection followed
// by a stray ',' is enough (`{},`) -- so a typo could hang `fwdsim sweep`
// instead of being reported.  libyaml is the reference C parser, fuzzed for
// years; whatever it refuses is refused here with its line and reason, and
// yaml-cpp only ever sees text that is well-formed YAML.
#pragma once

#include <string>

namespace fwdsim::scenario::detail {

/// Throws sim::ConfigError naming `origin`, the line and libyaml's reason
/// when `text` is not well-formed YAML; returns otherwise.
void check_yaml_syntax(const std::string& text, const std::string& origin);

} // namespace fwdsim::scenario::detail
