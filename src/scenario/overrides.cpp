// Command-line overrides of scenario parameters.  See
// include/fwdsim/scenario/overrides.h.
#include "overrides_tree.h"
#include "yaml_syntax.h"

#include <fwdsim/scenario/overrides.h>

#include <fmt/format.h>

namespace fwdsim::scenario {

Override parse_override(const std::string& spec)
{
    const auto eq = spec.find('=');
    if (eq == std::string::npos) throw sim::ConfigError("--set", 0, spec, "expected KEY=VALUE");
    Override o{spec.substr(0, eq), spec.substr(eq + 1)};
    if (o.path.empty()) throw sim::ConfigError("--set", 0, spec, "the key (before '=') is empty");
    if (o.value.empty()) throw sim::ConfigError("--set", 0, o.path, "needs a value after '='");
    return o;
}

std::uint64_t digest_overrides(const std::vector<Override>& overrides, std::uint64_t h)
{
    for (const Override& o : overrides) {
        for (const unsigned char c : "\n--set " + detail::canonical_path(o.path) + "=" + o.value) h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

namespace detail {

YAML::Node apply_overrides(const YAML::Node& root, const std::string& origin, const std::vector<Override>& overrides)
{
    YAML::Node out = YAML::Clone(root);
    if (!out.IsMap()) return out; // parse_scenario says what is wrong with it
    for (const Override& o : overrides) {
        const PathSource src{origin, 0, "--set " + o.path, true};
        if (split_path(o.path).front() == "sweep")
            throw sim::ConfigError(origin, 0, src.field, "the sweep section is not a scenario parameter");
        YAML::Node value;
        try {
            detail::check_yaml_syntax(o.value, origin); // as a file's text: yaml_syntax.h
            value = YAML::Load(o.value);
        } catch (const sim::ConfigError& e) {
            throw sim::ConfigError(origin, 0, src.field, "cannot read '" + o.value + "': " + e.message());
        } catch (const YAML::Exception& e) {
            throw sim::ConfigError(origin, 0, src.field, "cannot read '" + o.value + "': " + e.msg);
        }
        substitute(out, o.path, value, src);
    }
    return out;
}

ScenarioConfig parse_overridden(const YAML::Node& root, const std::string& text, const std::string& origin,
                                const std::vector<Override>& overrides)
{
    if (overrides.empty()) return parse_scenario(text, origin);
    YAML::Emitter emitted;
    emitted << apply_overrides(root, origin, overrides);
    try {
        ScenarioConfig c = parse_scenario(emitted.c_str(), origin);
        c.lines = {}; // lines of the re-emitted text, not of the file
        return c;
    } catch (const sim::ConfigError& e) {
        // Lines refer to the re-emitted text: name the override the
        // complaint is about, else the file's own line when the file alone
        // has the same mistake, else the overrides that led to it.
        std::string all;
        for (const Override& o : overrides) {
            if (paths_overlap(o.path, e.field()) && e.field().find('(') == std::string::npos)
                throw sim::ConfigError(origin, 0, "--set " + o.path, e.message());
            all += fmt::format("{}--set {}={}", all.empty() ? "" : " ", o.path, o.value);
        }
        parse_scenario(text, origin);
        throw sim::ConfigError(origin, 0, e.field(), "with " + all + ": " + e.message());
    }
}

} // namespace detail

ScenarioConfig parse_scenario(const std::string& text, const std::string& origin, const std::vector<Override>& overrides)
{
    if (overrides.empty()) return parse_scenario(text, origin);
    try {
        return detail::parse_overridden(detail::load_document(text, origin), text, origin, overrides);
    } catch (const YAML::Exception& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(yaml)", e.msg);
    }
}

ScenarioConfig load_scenario(const std::string& path, const std::vector<Override>& overrides)
{
    return parse_scenario(read_input_file(path, "scenario file"), path, overrides);
}

} // namespace fwdsim::scenario
