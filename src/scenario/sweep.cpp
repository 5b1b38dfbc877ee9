#include "yaml_reader.h"

#include <fwdsim/scenario/sweep.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

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
// new (it then goes through validation like any written key).  The value is
// copied in: assigning a node of another document merges that document's
// whole node pool into this one, which made every point carry every value
// of the grid (quadratic expansion).
void substitute(YAML::Node root, const Axis& axis, const YAML::Node& original, const std::string& origin)
{
    const YAML::Node value = YAML::Clone(original);
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

std::uint64_t fnv1a(std::string_view text)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

// An axis path with list positions written canonically ("devices.00" is
// "devices.0"), so two spellings of one parameter are one axis.
std::string canonical_path(const std::string& path)
{
    std::string out;
    for (const auto& part : split_path(path)) {
        const auto index = as_index(part);
        out += (out.empty() ? "" : ".") + (index ? std::to_string(*index) : part);
    }
    return out;
}

} // namespace

struct Sweep::Impl {
    std::string origin;
    std::uint64_t digest = 0;
    YAML::Node base;        ///< the document without its sweep section
    ScenarioConfig base_config;
    std::vector<Axis> axes;
    std::size_t size = 1;
};

Sweep Sweep::parse(const std::string& text, const std::string& origin)
{
    auto impl = std::make_shared<Impl>();
    impl->origin = origin;
    impl->digest = fnv1a(text);
    try {
        // The base scenario is checked first, so its own mistakes are
        // reported at their real lines; a point can then only fail by a
        // swept value.
        impl->base_config = parse_scenario(text, origin);
        const YAML::Node root = detail::load_document(text, origin);
        std::map<std::string, int> seen; // canonical path -> line
        if (const YAML::Node sweep = root["sweep"]) {
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
                if (const auto [it, fresh] = seen.emplace(canonical_path(axis.path), axis.line); !fresh) {
                    throw sim::ConfigError(origin, axis.line, "sweep." + axis.path,
                                           fmt::format("this parameter is already swept on line {}", it->second));
                }
                if (!kv.second.IsSequence() || kv.second.size() == 0) {
                    throw sim::ConfigError(origin, axis.line, "sweep." + axis.path, "expected a non-empty list of values");
                }
                for (const auto& v : kv.second) axis.values.push_back(v);
                if (impl->size > kMaxPoints / axis.values.size()) {
                    throw sim::ConfigError(origin, axis.line, "sweep." + axis.path,
                                           fmt::format("the grid grows past {} points here (split it over several files)", kMaxPoints));
                }
                impl->size *= axis.values.size();
                impl->axes.push_back(std::move(axis));
            }
        }
        // Points are copies of the base without the sweep section: copying
        // the axes' lists into every point made expansion quadratic.
        impl->base = YAML::Clone(root);
        impl->base.remove("sweep");
        // Every axis must lead somewhere: try each value's path on the base.
        for (const Axis& axis : impl->axes) substitute(YAML::Clone(impl->base), axis, axis.values.front(), origin);
    } catch (const YAML::Exception& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(yaml)", e.msg);
    }
    Sweep s;
    s.impl_ = std::move(impl);
    return s;
}

Sweep Sweep::load(const std::string& path)
{
    return parse(read_input_file(path, "scenario file"), path);
}

std::size_t Sweep::size() const { return impl_->size; }
std::uint64_t Sweep::digest() const { return impl_->digest; }
const ScenarioConfig& Sweep::base() const { return impl_->base_config; }

bool Sweep::sweeps(const std::string& path) const
{
    return std::any_of(impl_->axes.begin(), impl_->axes.end(),
                       [&](const Axis& a) { return canonical_path(a.path) == canonical_path(path); });
}

SweepPoint Sweep::point(std::size_t index) const
{
    const Impl& m = *impl_;
    SweepPoint point;
    point.index = index;
    try {
        YAML::Node variant = YAML::Clone(m.base);
        // Mixed-radix decomposition: the last axis varies fastest.
        std::size_t rest = index;
        std::vector<std::size_t> pick(m.axes.size());
        for (std::size_t a = m.axes.size(); a-- > 0;) {
            pick[a] = rest % m.axes[a].values.size();
            rest /= m.axes[a].values.size();
        }
        for (std::size_t a = 0; a < m.axes.size(); ++a) {
            const YAML::Node& value = m.axes[a].values[pick[a]];
            substitute(variant, m.axes[a], value, m.origin);
            point.params.emplace_back(m.axes[a].path, as_written(value));
        }
        YAML::Emitter out;
        out << variant;
        try {
            point.config = parse_scenario(out.c_str(), m.origin);
        } catch (const sim::ConfigError& e) {
            // Lines refer to the re-emitted variant: name the point, and the
            // line of the swept value the complaint is about when there is one.
            std::string where;
            int line = 0;
            for (std::size_t a = 0; a < m.axes.size(); ++a) {
                where += fmt::format("{}{}={}", where.empty() ? "" : ", ", m.axes[a].path, point.params[a].second);
                if (canonical_path(m.axes[a].path) == canonical_path(e.field())) {
                    line = detail::line_of(m.axes[a].values[pick[a]]);
                }
            }
            throw sim::ConfigError(m.origin, line, e.field(), fmt::format("sweep point {} ({}): {}", index, where, e.message()));
        }
    } catch (const YAML::Exception& e) {
        throw sim::ConfigError(m.origin, e.mark.line + 1, "(yaml)", e.msg);
    }
    return point;
}

std::vector<SweepPoint> expand_sweep(const std::string& text, const std::string& origin)
{
    const Sweep sweep = Sweep::parse(text, origin);
    std::vector<SweepPoint> points;
    for (std::size_t i = 0; i < sweep.size(); ++i) points.push_back(sweep.point(i));
    return points;
}

std::vector<SweepPoint> load_sweep(const std::string& path)
{
    return expand_sweep(read_input_file(path, "scenario file"), path);
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
