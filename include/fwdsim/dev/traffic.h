// Traffic: when a device's interrupt-causing events happen.
//
// A traffic generator yields the gap to the next event, drawing from the
// device's own named random stream.  The shapes researchers ask for are here:
// periodic (optionally jittered), Poisson, bursty on/off (Poisson during
// "on" periods, silent during "off"), and a trace of event times replayed
// from a file.  A generator returns std::nullopt when it has no more events.
#pragma once

#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/param.h>
#include <fwdsim/sim/random.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::dev {

// The scenario keys of a traffic shape (machine::param_table()).  Each time
// and rate also has a limit in cycles that depends on clock_hz: checked
// with it by machine::validate() (span_problem, rate_problem).
inline constexpr sim::Param kParamRate{.key = "devices[].irqs[].traffic.rate_per_s", .unit = "per s",
    .fallback = "required (periodic, poisson, bursty)", .description = "events per second (bursty: while a burst lasts)",
    .ranged = true, .real = true, .min = 0, .above_min = true,
    .rule = "a gap of at least one cycle (at most clock_hz per second), at most 2^62 cycles"};
inline constexpr sim::Param kParamJitter{.key = "devices[].irqs[].traffic.jitter_us", .unit = "us", .fallback = "0",
    .description = "periodic: each gap moved by up to this much either way", .ranged = true, .real = true, .min = 0,
    .rule = "at most 2^62 cycles"};
inline constexpr sim::Param kParamOn{.key = "devices[].irqs[].traffic.on_us", .unit = "us", .fallback = "required (bursty)",
    .description = "bursty: how long a burst lasts", .ranged = true, .real = true, .min = 0, .above_min = true,
    .rule = "at least one cycle, at most 2^62 cycles"};
inline constexpr sim::Param kParamOff{.key = "devices[].irqs[].traffic.off_us", .unit = "us", .fallback = "required (bursty)",
    .description = "bursty: the silence between bursts", .ranged = true, .real = true, .min = 0,
    .rule = "at most 2^62 cycles"};

class Traffic {
public:
    virtual ~Traffic() = default;
    /// The gap from the previous event (or from the start, for the first
    /// one) to the next event; nullopt when the traffic has ended.
    virtual std::optional<sim::Cycles> next_gap(sim::Rng& rng) = 0;
    /// A short description, recorded with results ("poisson 10000/s").
    virtual std::string describe() const = 0;
};

/// Every `period` cycles, each gap moved by up to +/- `jitter` cycles.
std::unique_ptr<Traffic> periodic_traffic(sim::Cycles period, sim::Cycles jitter = sim::Cycles{0});

/// A Poisson process with mean gap `mean_gap` cycles.
std::unique_ptr<Traffic> poisson_traffic(double mean_gap);

/// On/off bursts: Poisson events with mean gap `mean_gap` during `on`
/// cycles, then nothing for `off` cycles, repeating.
std::unique_ptr<Traffic> bursty_traffic(double mean_gap, sim::Cycles on, sim::Cycles off);

/// Replays absolute event times (cycles from the start, non-decreasing).
std::unique_ptr<Traffic> trace_traffic(std::vector<sim::Cycles> times);

/// Reads a trace file: one event time a line, in cycles, '#' comments.
/// Throws sim::ConfigError naming the file and line of a bad entry.
std::unique_ptr<Traffic> trace_traffic_from_file(const std::string& path);

} // namespace fwdsim::dev
