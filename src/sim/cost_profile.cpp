#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/number.h>
#include <fwdsim/sim/cost_profile.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

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

bool parse_u64(std::string_view s, std::uint64_t& out)
{
    const auto n = parse_decimal(s);
    if (n) out = *n;
    return n.has_value();
}

// Evidence an old profile implies by its source text: the weakest figure it
// names decides ("[V] and [R]" is recalled).
Evidence evidence_from_source(std::string_view source)
{
    if (source.find("[R]") != std::string_view::npos) {
        return Evidence::recalled;
    }
    if (source.find("[V]") != std::string_view::npos) {
        return Evidence::verified;
    }
    if (source.empty() || source.substr(0, 8) == "estimate") {
        return Evidence::estimate;
    }
    return Evidence::derived;
}

// value -+ value * spread, the half-width rounded up to whole cycles (a
// product that is whole but for binary rounding, as 1000 * 0.1, stays whole)
// and the ends clamped to what a Cycles holds.
std::pair<Cycles, Cycles> spread_range(Cycles value, double spread)
{
    const long double exact = static_cast<long double>(value.count()) * static_cast<long double>(spread);
    const long double nearest = std::round(exact);
    const long double half = std::fabs(exact - nearest) <= 1e-9L * std::max(1.0L, exact) ? nearest : std::ceil(exact);
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t d = half >= static_cast<long double>(top) ? top : static_cast<std::uint64_t>(half);
    const std::uint64_t v = value.count();
    return {Cycles{v > d ? v - d : 0}, Cycles{top - v < d ? top : v + d}};
}

// The fourth field: "CLASS", "CLASS ±N%" (or "+-N%") or "CLASS LO..HI".
void parse_uncertainty(std::string_view field, CostEntry& entry, const std::string& origin, int line,
                       const std::string& key)
{
    const auto space = field.find_first_of(" \t");
    const std::string_view cls = field.substr(0, space);
    const std::string_view range = space == std::string_view::npos ? std::string_view{} : trim(field.substr(space));
    bool known = false;
    for (Evidence e : {Evidence::verified, Evidence::recalled, Evidence::derived, Evidence::estimate}) {
        if (cls == evidence_name(e)) {
            entry.evidence = e;
            known = true;
        }
    }
    if (!known) {
        throw ConfigError(origin, line, key,
                          "evidence must be verified, recalled, derived or estimate, got '" + std::string(cls) + "'");
    }
    if (range.empty()) {
        std::tie(entry.low, entry.high) = spread_range(entry.cycles, default_spread(entry.evidence));
        return;
    }
    const std::string bad = "range must be '±N%' (0 <= N <= 100) or 'LO..HI' cycles around " +
                            std::to_string(entry.cycles.count()) + ", got '" + std::string(range) + "'";
    std::string_view pct;
    if (range.substr(0, 2) == "\xC2\xB1" /* UTF-8 ± */) {
        pct = range.substr(2);
    } else if (range.substr(0, 2) == "+-") {
        pct = range.substr(2);
    }
    if (!pct.empty()) {
        if (pct.back() != '%') {
            throw ConfigError(origin, line, key, bad);
        }
        pct.remove_suffix(1);
        double n = 0;
        const auto [ptr, ec] = std::from_chars(pct.data(), pct.data() + pct.size(), n);
        if (pct.empty() || ec != std::errc{} || ptr != pct.data() + pct.size() || !std::isfinite(n) || n < 0 ||
            n > 100) {
            throw ConfigError(origin, line, key, bad);
        }
        std::tie(entry.low, entry.high) = spread_range(entry.cycles, n / 100.0);
        entry.range_given = true;
        return;
    }
    const auto dots = range.find("..");
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    if (dots == std::string_view::npos || !parse_u64(range.substr(0, dots), lo) ||
        !parse_u64(range.substr(dots + 2), hi) || lo > entry.cycles.count() || hi < entry.cycles.count()) {
        throw ConfigError(origin, line, key, bad);
    }
    entry.low = Cycles{lo};
    entry.high = Cycles{hi};
    entry.range_given = true;
}

} // namespace

std::string_view evidence_name(Evidence e)
{
    switch (e) {
    case Evidence::verified:
        return "verified";
    case Evidence::recalled:
        return "recalled";
    case Evidence::derived:
        return "derived";
    case Evidence::estimate:
        return "estimate";
    }
    return "estimate";
}

double default_spread(Evidence e)
{
    // docs/calibration.md, "Uncertainty": what each class is taken to allow
    // when a profile does not say.
    switch (e) {
    case Evidence::verified:
        return 0.10;
    case Evidence::recalled:
        return 0.25;
    case Evidence::derived:
        return 0.30;
    case Evidence::estimate:
        return 0.50;
    }
    return 0.50;
}

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
        std::string_view fields[4];
        for (int i = 0; i < 4; ++i) {
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
        if (!rest.empty()) {
            throw ConfigError(origin, line_no, key, "too many '|' fields (at most: cycles | description | source | evidence)");
        }
        CostEntry entry;
        entry.cycles = Cycles{cycles};
        entry.description = std::string(fields[1]);
        entry.source = std::string(fields[2]);
        entry.line = line_no;
        if (fields[3].empty()) {
            entry.evidence = evidence_from_source(entry.source);
            std::tie(entry.low, entry.high) = spread_range(entry.cycles, default_spread(entry.evidence));
        } else {
            parse_uncertainty(fields[3], entry, origin, line_no, key);
        }
        profile.entries_.emplace(key, std::move(entry));
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
    const bool fresh = entries_.find(key) == entries_.end();
    auto& entry = entries_[key];
    entry.cycles = cycles;
    if (fresh) {
        std::tie(entry.low, entry.high) = spread_range(cycles, default_spread(entry.evidence));
    } else {
        entry.low = std::min(entry.low, cycles);
        entry.high = std::max(entry.high, cycles);
    }
    if (!description.empty()) {
        entry.description = std::move(description);
    }
    if (!source.empty()) {
        entry.source = std::move(source);
    }
}

void CostProfile::set_range(const std::string& key, Cycles low, Cycles high)
{
    const auto it = entries_.find(key);
    if (it == entries_.end()) {
        throw ConfigError(origin_.empty() ? name_ : origin_, 0, key, "cost profile '" + name_ + "' has no such primitive");
    }
    if (low > it->second.cycles || high < it->second.cycles) {
        throw ConfigError(origin_.empty() ? name_ : origin_, it->second.line, key,
                          "range " + std::to_string(low.count()) + ".." + std::to_string(high.count()) +
                              " does not contain the value " + std::to_string(it->second.cycles.count()));
    }
    it->second.low = low;
    it->second.high = high;
    it->second.range_given = true;
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
