#include "overrides_tree.h"

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

using detail::as_index;
using detail::canonical_path;

void substitute(YAML::Node root, const Axis& axis, const YAML::Node& value, const std::string& origin)
{
    detail::substitute(root, axis.path, value, detail::PathSource{origin, axis.line, "sweep." + axis.path, false});
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

} // namespace

struct Sweep::Impl {
    std::string origin;
    std::uint64_t digest = 0;
    YAML::Node base;        ///< the document without its sweep section
    ScenarioConfig base_config;
    std::vector<Axis> axes;
    std::size_t size = 1;
};

Sweep Sweep::parse(const std::string& text, const std::string& origin, const std::vector<Override>& overrides)
{
    auto impl = std::make_shared<Impl>();
    impl->origin = origin;
    impl->digest = digest_overrides(overrides, fnv1a(text));
    try {
        // The base scenario is checked first, so its own mistakes are
        // reported at their real lines (or as the override's); a point can
        // then only fail by a swept value.
        const YAML::Node file_root = detail::load_document(text, origin);
        impl->base_config = detail::parse_overridden(file_root, text, origin, overrides);
        std::map<std::string, int> seen; // canonical path -> line
        // The axes from the file's own tree: a copy (overrides applied)
        // forgets their lines.
        if (const YAML::Node sweep = file_root["sweep"]) {
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
        // An override of a swept key (or of what holds one) would flatten
        // that axis: every point would run the override's value.
        for (const Override& o : overrides) {
            for (const Axis& axis : impl->axes) {
                if (detail::paths_overlap(o.path, axis.path)) {
                    throw sim::ConfigError(origin, axis.line, "--set " + o.path,
                                           "the sweep varies " + axis.path + ": an override would give every point "
                                           "one value (drop the override, or the axis)");
                }
            }
        }
        // Points are copies of the base without the sweep section: copying
        // the axes' lists into every point made expansion quadratic.
        impl->base = detail::apply_overrides(file_root, origin, overrides);
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

Sweep Sweep::load(const std::string& path, const std::vector<Override>& overrides)
{
    return parse(read_input_file(path, "scenario file"), path, overrides);
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
            point.config.lines = {}; // lines of the re-emitted point, not of the file
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
            // A key the point did not sweep is at fault (a cross-key rule the
            // swept value broke): it stands where the file gives it.
            if (line == 0) line = m.base_config.lines.line(e.field());
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
