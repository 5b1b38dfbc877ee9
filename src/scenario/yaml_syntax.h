// check_yaml_syntax: a first, complete syntax pass over a scenario's text
// with libyaml, before yaml-cpp builds its tree.
//
// Private to the scenario layer.  yaml-cpp 0.7 (Debian bookworm's) has two
// kinds of flaw a typo can reach: YAML::LoadAll loops forever, allocating,
// when its parser stops consuming tokens (a stray ',' after a flow
// collection, `{},`, or after a tag, `! m\n,`: yaml-cpp PR #1319, fixed in
// 0.8.1), and it accepts some malformed text as null.  So the scenario
// loader never calls LoadAll: libyaml, the reference C parser, reads the
// whole stream first -- refusing malformed text and a second document with
// their line -- and yaml-cpp's single-document Load builds the tree.
#pragma once

#include <string>

namespace fwdsim::scenario::detail {

/// Throws sim::ConfigError naming `origin`, the line and libyaml's reason
/// when `text` is not well-formed YAML or holds more than one document;
/// returns otherwise.
void check_yaml_syntax(const std::string& text, const std::string& origin);

} // namespace fwdsim::scenario::detail
