// trace_check: reads a Chrome/Perfetto trace-event JSON document as the
// viewers do and lists what would make it unreadable -- for the tests that
// run every example scenario with a trace.
//
// Checked: the text is JSON (strictly: no trailing commas, no bare words);
// every process and every thread that carries an event is named; on each
// thread the spans (B/E pairs and X slices) nest -- each closes the one
// opened last, none overlaps another partly -- and none is left open;
// every flow (bind_id) has exactly one start (flow_out only), one finish
// (flow_in only), steps in between, in time order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fwdsim::test {

/// One zero-length slice carrying a flow (an interrupt's step).
struct TraceStep {
    std::string track; ///< "<process name>/<thread name>"
    std::string name;
    std::uint64_t cycle = 0; ///< args.cycle
    std::uint64_t flow = 0;  ///< args.flow
    std::int64_t ts_ps = 0;  ///< ts, in picoseconds (exactly as written)
};

struct TraceCheck {
    std::vector<std::string> problems; ///< empty: readable
    std::size_t events = 0;
    std::size_t spans = 0;
    std::size_t flows = 0;                    ///< bound flows (with arrows)
    std::map<std::string, std::size_t> names; ///< events of each name (instants, steps, spans)
    std::vector<TraceStep> steps;             ///< in file order
    std::vector<std::string> tracks;          ///< "<process>/<thread>" of every named thread
};

TraceCheck check_trace(const std::string& json);

} // namespace fwdsim::test
