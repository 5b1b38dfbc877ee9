// Dotted parameter paths ("devices.0.irqs.0.traffic.rate_per_s") into a
// scenario's YAML tree: how a sweep axis and a `--set` override name the
// value they replace.  Private to the scenario layer.
#pragma once

#include "yaml_reader.h"

#include <fwdsim/sim/number.h>

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::scenario::detail {

inline std::vector<std::string> split_path(const std::string& path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = path.find('.', start);
        parts.push_back(path.substr(start, dot - start));
        if (dot == std::string::npos) return parts;
        start = dot + 1;
    }
}

inline std::optional<std::size_t> as_index(const std::string& s)
{
    const auto v = sim::parse_decimal(s);
    if (!v) return std::nullopt;
    return static_cast<std::size_t>(*v);
}

/// A path with list positions written canonically ("devices.00" is
/// "devices.0"), so two spellings of one parameter compare equal.
inline std::string canonical_path(const std::string& path)
{
    std::string out;
    for (const auto& part : split_path(path)) {
        const auto index = as_index(part);
        out += (out.empty() ? "" : ".") + (index ? std::to_string(*index) : part);
    }
    return out;
}

/// Whether one path holds the other (or they are the same): setting one
/// changes the other's value.
inline bool paths_overlap(const std::string& a, const std::string& b)
{
    const std::string x = canonical_path(a) + ".", y = canonical_path(b) + ".";
    return x.rfind(y, 0) == 0 || y.rfind(x, 0) == 0;
}

/// Where a substitution comes from, for its messages: the file's line and
/// the field to name ("sweep.<path>" or "--set <path>").
struct PathSource {
    std::string origin;
    int line = 0;
    std::string field;
    bool create_maps = false; ///< make missing mappings on the way (an override of a default)
};

/// Replaces the value at `path` inside `root` with a copy of `original`.  The
/// path leads through existing list positions and mappings (missing
/// mappings are made when `src.create_maps`); the last key may be new (it
/// then goes through validation like any written key).  The value is
/// copied in: assigning a node of another document merges that document's
/// whole node pool into this one, which made every sweep point carry every
/// value of the grid (quadratic expansion).
inline void substitute(YAML::Node root, const std::string& path, const YAML::Node& original, const PathSource& src)
{
    const YAML::Node value = YAML::Clone(original);
    const auto parts = split_path(path);
    YAML::Node cursor = root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const bool last = i + 1 == parts.size();
        const std::string& part = parts[i];
        if (cursor.IsSequence()) {
            const auto index = as_index(part);
            if (!index || *index >= cursor.size()) {
                throw sim::ConfigError(src.origin, src.line, src.field,
                                       fmt::format("'{}' is not a position of that list (it has {})", part, cursor.size()));
            }
            if (last) {
                cursor[*index] = value;
                return;
            }
            cursor.reset(cursor[*index]);
        } else if (cursor.IsMap()) {
            if (last) {
                cursor[part] = value;
                return;
            }
            const YAML::Node& const_cursor = cursor;
            if (!const_cursor[part]) {
                if (!src.create_maps)
                    throw sim::ConfigError(src.origin, src.line, src.field, "'" + part + "' does not exist in the scenario");
                cursor[part] = YAML::Node(YAML::NodeType::Map);
            }
            cursor.reset(cursor[part]);
        } else {
            throw sim::ConfigError(src.origin, src.line, src.field, "'" + part + "' is not inside a mapping or list");
        }
    }
}

} // namespace fwdsim::scenario::detail
