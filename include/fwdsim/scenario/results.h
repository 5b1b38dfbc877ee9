// Results: what one run measured, per interrupt, and how it is written out.
//
// One IrqResult per device interrupt of the scenario, named
// "<device>.<irq position>" with the delivery mode it ran under.  Counts are
// exact; latencies are histograms in cycles from the device raising the
// interrupt to the guest acknowledging it, completing it (EOI) and the
// physical interrupt being deactivated.  Per-interrupt figures divide by the
// interrupts delivered after warm-up.  The files describe themselves: each
// record carries the fwdsim version, the resolved scenario, the profile's
// name and digest, the point's sweep parameters and every histogram's
// buckets.  The writers are deterministic: the same results give the same
// bytes (no time, host or path of the tool in them).
#pragma once

#include <fwdsim/sim/stats.h>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fwdsim::scenario {

struct IrqResult {
    std::string name;       ///< "<device>.<irq>"
    std::string delivery;   ///< userspace | irqfd | forwarded
    // The ledger's account of the assertions raised in the measured window
    // (scenario/ledger.h): each counted on its own, none derived, so
    // raised == delivered + coalesced + outstanding + lost + dropped.
    std::uint64_t raised = 0;
    std::uint64_t delivered = 0;   ///< opened a carrier the guest acknowledged
    std::uint64_t coalesced = 0;   ///< asserted while the source was pending, not yet acknowledged (or its level line high)
    std::uint64_t outstanding = 0; ///< still held somewhere on the path at the end of the run
    std::uint64_t lost = 0;        ///< held nowhere and never acknowledged; must be 0
    std::uint64_t dropped = 0;     ///< went with its VM (the VMM killed)
    std::uint64_t redelivered = 0; ///< guest acknowledges no assertion needed (a coalesced edge or a level line delivered again)
    std::uint64_t duplicated = 0;  ///< guest acknowledges nothing explains; must be 0
    sim::Histogram to_ack;
    /// to_ack of the interrupts raised within kSwitchWindowUs after one of
    /// the VMM's switches of this interrupt began (empty without switches).
    sim::Histogram to_ack_near_switch;
    sim::Histogram to_eoi;
    sim::Histogram to_deactivate;
    // What is this interrupt's own and what is shared out by deliveries
    // (docs/scenario-format.md, "What a row counts").
    /// By reason, during the measured window.  "maintenance" and "mmio_user"
    /// are the exits this interrupt caused plus a delivery share of its VM's
    /// that no interrupt caused; every other reason is its VM's, shared out.
    std::map<std::string, std::uint64_t> exits;
    std::uint64_t maintenance_irqs = 0; ///< its own: its guest IRQ's EOI maintenance (the vgic)
    std::uint64_t vfio_masks = 0;       ///< its own (its VFIO IRQ context)
    std::uint64_t vfio_unmasks = 0;     ///< its own
    /// To the VMM in user space and back: its I/O-thread wake-ups and the vCPU
    /// exits to the VMM it caused, plus a delivery share of its VM's that no
    /// interrupt caused.
    std::uint64_t user_round_trips = 0;
    std::uint64_t host_cycles = 0;  ///< the machine's host CPU work, shared out among all interrupts by deliveries
    std::uint64_t guest_cycles = 0; ///< every guest's handlers + GICV accesses, shared out the same way
    /// Mean cycles of each step of the path, in path order.
    std::vector<std::pair<std::string, double>> breakdown;

    double per_irq(std::uint64_t total) const
    {
        return delivered ? static_cast<double>(total) / static_cast<double>(delivered) : 0.0;
    }
};

/// The latency window after a switch begins: what "around the switch" means.
constexpr double kSwitchWindowUs = 100;

/// The VMM's delivery switches of one direction during the measured window,
/// and the host cycles their calls charged (the switch itself, not the
/// interrupts around it).
struct SwitchResult {
    std::string from, to; ///< delivery modes
    std::uint64_t count = 0;
    std::uint64_t host_cycles = 0;
    double per_switch() const { return count ? static_cast<double>(host_cycles) / static_cast<double>(count) : 0.0; }
};

struct RunResult {
    std::string scenario;
    std::size_t point = 0;                                   ///< sweep point index
    std::vector<std::pair<std::string, std::string>> params; ///< sweep parameters of this point
    std::uint64_t seed = 0;
    std::string profile;
    std::uint64_t profile_digest = 0;
    std::uint64_t clock_hz = 0;
    double duration_us = 0;
    std::uint64_t events = 0; ///< simulation events processed
    std::vector<IrqResult> irqs;
    /// With VMM switches only: the kvm-vfio forwarding policy and the switches.
    std::string forward_policy;
    std::vector<SwitchResult> switches;
    /// The scenario the run resolved, as resolved_json() writes it: every
    /// parameter after defaults, sweep values and overrides.
    std::string resolved;
};

/// A human-readable table, one row per interrupt; a sweep writes its
/// header, then each point's rows as it finishes, then the footer.
enum class TablePart { all, header, rows, footer };
void write_table(std::ostream& out, const std::vector<RunResult>& runs, TablePart part = TablePart::all);
/// One JSON object per line ("JSON Lines"), one line per run: shards
/// concatenate and merge by sorting on "point".
void write_json_lines(std::ostream& out, const std::vector<RunResult>& runs);
/// CSV with a header row; one row per (run, interrupt).
void write_csv(std::ostream& out, const std::vector<RunResult>& runs, bool header = true);

} // namespace fwdsim::scenario
