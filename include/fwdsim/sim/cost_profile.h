// CostProfile: the named primitive costs every path is composed from.
//
// A profile is data.  Each entry names one primitive piece of work (a GIC
// register access, a trap to EL2, a list-register write, an eventfd wake-up)
// with its cost in cycles, a one-line description and where the number comes
// from.  Models read the costs they need once, at construction, by name; an
// end-to-end latency is never stored here, it emerges from simulating the
// path.  The text format is one entry a line:
//
//     # comment
//     profile = kvm-arm-v8.0-gicv2
//     gic.gicd_access = 40 | GICD register access from a CPU | estimate
//
// Each entry may also say how sure we are of it: a fourth field gives its
// evidence class and, optionally, a range (`±N%` or `LO..HI` cycles):
//
//     host.sched_wakeup = 1380 | ... | Dall ISCA'16 ... | recalled ±25%
//
// Without it the class is read off the source ("[V]" verified, "[R]"
// recalled, "estimate", anything else derived) and the range is the class's
// default (default_spread()).  The range is what `fwdsim sensitivity`
// perturbs; it never changes a run, so it is not part of the digest.
//
// A run records the profile's name and a digest of its entries.
#pragma once

#include <fwdsim/sim/cycles.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace fwdsim::sim {

/// How a primitive's value is known, strongest first.
enum class Evidence {
    verified, ///< a published measurement, checked against its source
    recalled, ///< a published figure recalled but not yet checked
    derived,  ///< follows from another primitive, a documented constant or a calculation
    estimate, ///< a placeholder no measurement pins
};

std::string_view evidence_name(Evidence e);
/// The relative half-width of a class's default range (0.25 for ±25%).
double default_spread(Evidence e);

struct CostEntry {
    Cycles cycles;
    std::string description;
    std::string source;
    int line = 0; ///< where it was defined, for messages
    Evidence evidence = Evidence::estimate;
    Cycles low;  ///< the range the value may lie in (low <= cycles <= high)
    Cycles high;
    bool range_given = false; ///< the profile states the range (not the class's default)
};

class CostProfile {
public:
    CostProfile() = default;
    explicit CostProfile(std::string name) : name_(std::move(name)) {}

    /// Parses the text format; throws ConfigError naming origin, line and key.
    static CostProfile parse(std::string_view text, const std::string& origin);
    static CostProfile load(const std::string& path);
    /// The profile shipped as profiles/default.profile, compiled in.
    static const CostProfile& builtin_default();

    const std::string& name() const { return name_; }
    const std::string& origin() const { return origin_; }

    /// Cost of `key`; throws ConfigError naming the key when it is missing.
    Cycles get(std::string_view key) const;
    bool contains(std::string_view key) const { return entries_.find(key) != entries_.end(); }
    /// Adds or replaces an entry (for tests that perturb one primitive).  A
    /// new entry is an estimate with that class's default range; an existing
    /// one keeps its evidence and range (widened to contain the new value).
    void set(const std::string& key, Cycles cycles, std::string description = {}, std::string source = {});
    /// Sets `key`'s range; throws ConfigError unless low <= cycles <= high.
    void set_range(const std::string& key, Cycles low, Cycles high);

    const std::map<std::string, CostEntry, std::less<>>& entries() const { return entries_; }
    /// A stable 64-bit digest of names and values, recorded with results.
    std::uint64_t digest() const;

private:
    std::string name_;
    std::string origin_;
    std::map<std::string, CostEntry, std::less<>> entries_;
};

} // namespace fwdsim::sim
