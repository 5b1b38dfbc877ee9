// A test IrqLine that records every level change with its time.
#pragma once

#include <fwdsim/dev/irq_line.h>
#include <fwdsim/sim/event_queue.h>

#include <utility>
#include <vector>

struct RecordingLine final : fwdsim::dev::IrqLine {
    explicit RecordingLine(fwdsim::sim::EventQueue& q) : queue(q) {}
    void set_level(bool level) override { edges.emplace_back(queue.now().count(), level); }
    fwdsim::sim::EventQueue& queue;
    std::vector<std::pair<std::uint64_t, bool>> edges;
};
