// Traffic: when a device's interrupt-causing events happen.
//
// A traffic generator yields the gap to the next event, drawing from the
// device's own named random stream.  The shapes researchers ask for are here:
// periodic (optionally jittered), Poisson, bursty on/off (Poisson during
// "on" periods, silent during "off"), and a trace of event times replayed
// from a file.  A generator returns std::nullopt when it has no more events.
#pragma once

#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/random.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::dev {

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
