#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/cost_profile.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace fwdsim::sim {
namespace {

std::string_view trim(std::string_view s)
{
    const auto first = s.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(" \t\r");
    return s.substr(first, last - first + 1);
}

bool valid_key(std::string_view key)
{
    if (key.empty()) {
        return false;
    }
    for (char c : key) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace

// Generated at build time from profiles/default.profile.
extern "C" const char fwdsim_default_profile_text[];

CostProfile CostProfile::parse(std::string_view text, const std::string& origin)
{
    CostProfile profile;
    profile.origin_ = origin;
    int line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (const auto hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            throw ConfigError(origin, line_no, std::string(line), "expected 'key = cycles | description | source'");
        }
        const std::string key(trim(line.substr(0, eq)));
        std::string_view rest = trim(line.substr(eq + 1));
        if (key == "profile") {
            if (rest.empty()) {
                throw ConfigError(origin, line_no, key, "profile name is empty");
            }
            profile.name_ = std::string(rest);
            continue;
        }
        if (!valid_key(key)) {
            throw ConfigError(origin, line_no, key, "a key uses only a-z, 0-9, '_' and '.'");
        }
        if (profile.entries_.count(key) != 0) {
            throw ConfigError(origin, line_no, key,
                              "defined twice (first at line " + std::to_string(profile.entries_.at(key).line) + ")");
        }
        std::string_view fields[3];
        for (int i = 0; i < 3; ++i) {
            const auto bar = rest.find('|');
            fields[i] = trim(rest.substr(0, bar));
            rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
            if (bar == std::string_view::npos) {
                break;
            }
        }
        std::uint64_t cycles = 0;
        const auto* begin = fields[0].data();
        const auto* end = begin + fields[0].size();
        const auto [ptr, ec] = std::from_chars(begin, end, cycles);
        if (fields[0].empty() || ec != std::errc{} || ptr != end) {
            throw ConfigError(origin, line_no, key,
                              "cycles must be a non-negative integer, got '" + std::string(fields[0]) + "'");
        }
        profile.entries_.emplace(key, CostEntry{Cycles{cycles}, std::string(fields[1]), std::string(fields[2]), line_no});
    }
    if (profile.name_.empty()) {
        throw ConfigError(origin, line_no, "profile", "missing 'profile = NAME' line");
    }
    return profile;
}

CostProfile CostProfile::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        throw ConfigError(path, 0, "file", "cannot open cost profile");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse(buffer.str(), path);
}

const CostProfile& CostProfile::builtin_default()
{
    static const CostProfile profile = parse(fwdsim_default_profile_text, "profiles/default.profile");
    return profile;
}

Cycles CostProfile::get(std::string_view key) const
{
    const auto it = entries_.find(key);
    if (it == entries_.end()) {
        throw ConfigError(origin_.empty() ? name_ : origin_, 0, std::string(key),
                          "cost profile '" + name_ + "' has no such primitive");
    }
    return it->second.cycles;
}

void CostProfile::set(const std::string& key, Cycles cycles, std::string description, std::string source)
{
    auto& entry = entries_[key];
    entry.cycles = cycles;
    if (!description.empty()) {
        entry.description = std::move(description);
    }
    if (!source.empty()) {
        entry.source = std::move(source);
    }
}

std::uint64_t CostProfile::digest() const
{
    std::uint64_t h = 0xCBF29CE484222325ull;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h = (h ^ c) * 0x100000001B3ull;
        }
        h = (h ^ 0xFF) * 0x100000001B3ull;
    };
    mix(name_);
    for (const auto& [key, entry] : entries_) {
        mix(key);
        mix(std::to_string(entry.cycles.count()));
    }
    return h;
}

} // namespace fwdsim::sim
