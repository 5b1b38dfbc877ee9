#include "yaml_reader.h"

#include <fwdsim/scenario/sweep.h>

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace fwdsim::scenario {
namespace {

struct Axis {
    std::string path;
    int line = 0;
    std::vector<YAML::Node> values;
};

std::vector<std::string> split_path(const std::string& path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        const auto dot = path.find('.', start);
        parts.push_back(path.substr(start, dot - start));
        if (dot == std::string::npos) {
            return parts;
        }
        start = dot + 1;
    }
}

std::optional<std::size_t> as_index(const std::string& s)
{
    std::size_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

// Replaces the value at `axis.path` inside `root` (a deep copy).  The path
// must lead through existing maps and list positions; the last key may be
// new (it then goes through validation like any written key).
void substitute(YAML::Node root, const Axis& axis, const YAML::Node& value, const std::string& origin)
{
    const auto parts = split_path(axis.path);
    YAML::Node cursor = root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const bool last = i + 1 == parts.size();
        const std::string& part = parts[i];
        if (cursor.IsSequence()) {
            const auto index = as_index(part);
            if (!index || *index >= cursor.size()) {
                throw sim::ConfigError(origin, axis.line, "sweep." + axis.path,
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
                throw sim::ConfigError(origin, axis.line, "sweep." + axis.path,
                                       "'" + part + "' does not exist in the scenario");
            }
            cursor.reset(cursor[part]);
        } else {
            throw sim::ConfigError(origin, axis.line, "sweep." + axis.path, "'" + part + "' is not inside a mapping or list");
        }
    }
}

std::string as_written(const YAML::Node& value)
{
    if (value.IsScalar()) {
        return value.Scalar();
    }
    YAML::Emitter out;
    out << YAML::Flow << value;
    return out.c_str();
}

} // namespace

namespace {
std::vector<SweepPoint> expand_sweep_checked(const std::string& text, const std::string& origin);
}

std::vector<SweepPoint> expand_sweep(const std::string& text, const std::string& origin)
{
    try {
        return expand_sweep_checked(text, origin);
    } catch (const YAML::Exception& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(yaml)", e.msg);
    }
}

namespace {

std::vector<SweepPoint> expand_sweep_checked(const std::string& text, const std::string& origin)
{
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(syntax)", e.msg);
    }
    // The base scenario is checked first, so its own mistakes are reported
    // at their real lines; a point can then only fail by a swept value.
    (void)parse_scenario(text, origin);
    std::vector<Axis> axes;
    if (root.IsMap() && root["sweep"]) {
        const YAML::Node sweep = root["sweep"];
        if (!sweep.IsMap()) {
            throw sim::ConfigError(origin, detail::line_of(sweep), "sweep", "expected a mapping of parameter paths to lists");
        }
        for (const auto& kv : sweep) {
            Axis axis;
            if (!kv.first.IsScalar()) {
                throw sim::ConfigError(origin, detail::line_of(kv.first), "sweep", "a parameter path must be a plain name");
            }
            axis.path = kv.first.Scalar();
            axis.line = detail::line_of(kv.first);
            if (!kv.second.IsSequence() || kv.second.size() == 0) {
                throw sim::ConfigError(origin, axis.line, "sweep." + axis.path, "expected a non-empty list of values");
            }
            for (const auto& v : kv.second) {
                axis.values.push_back(v);
            }
            axes.push_back(std::move(axis));
        }
    }
    std::size_t total = 1;
    for (const auto& a : axes) {
        total *= a.values.size();
    }
    std::vector<SweepPoint> points;
    points.reserve(total);
    for (std::size_t index = 0; index < total; ++index) {
        SweepPoint point;
        point.index = index;
        YAML::Node variant = YAML::Clone(root);
        // Mixed-radix decomposition: the last axis varies fastest.
        std::size_t rest = index;
        std::vector<std::size_t> pick(axes.size());
        for (std::size_t a = axes.size(); a-- > 0;) {
            pick[a] = rest % axes[a].values.size();
            rest /= axes[a].values.size();
        }
        for (std::size_t a = 0; a < axes.size(); ++a) {
            const YAML::Node& value = axes[a].values[pick[a]];
            substitute(variant, axes[a], value, origin);
            point.params.emplace_back(axes[a].path, as_written(value));
        }
        variant.remove("sweep");
        YAML::Emitter out;
        out << variant;
        try {
            point.config = parse_scenario(out.c_str(), origin);
        } catch (const sim::ConfigError& e) {
            // Lines refer to the re-emitted variant; name the point instead.
            std::string where;
            for (const auto& [path, value] : point.params) {
                where += fmt::format("{}{}={}", where.empty() ? "" : ", ", path, value);
            }
            throw sim::ConfigError(origin, 0, e.field(),
                                   fmt::format("sweep point {} ({}): {}", index, where, e.message()));
        }
        points.push_back(std::move(point));
    }
    return points;
}

} // namespace

std::vector<SweepPoint> load_sweep(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        throw sim::ConfigError(path, 0, "file", "cannot open scenario file");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return expand_sweep(buffer.str(), path);
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& spec)
{
    const auto slash = spec.find('/');
    const auto i = slash == std::string::npos ? std::nullopt : as_index(spec.substr(0, slash));
    const auto n = slash == std::string::npos ? std::nullopt : as_index(spec.substr(slash + 1));
    if (!i || !n || *n == 0 || *i >= *n) {
        throw sim::ConfigError("--shard", 0, "shard", "expected I/N with 0 <= I < N, got '" + spec + "'");
    }
    return {*i, *n};
}

std::vector<SweepPoint> select_shard(std::vector<SweepPoint> points, std::size_t shard, std::size_t shards)
{
    std::vector<SweepPoint> mine;
    for (auto& p : points) {
        if (p.index % shards == shard) {
            mine.push_back(std::move(p));
        }
    }
    return mine;
}

} // namespace fwdsim::scenario
