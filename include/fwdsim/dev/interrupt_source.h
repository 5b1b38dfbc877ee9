// InterruptSource: one interrupt output of a device, driven by traffic.
//
// Each event the traffic generates is a reason for the device to interrupt
// (a packet received, a DMA done).  A level source raises its line at the
// first outstanding event and holds it until the driver services the
// device; an edge source pulses its line once per event (an MSI write is an
// edge).  Servicing consumes every outstanding event: the first counts as
// delivered, the others as coalesced into it.  So at any time
//     raised == delivered + coalesced + outstanding
// which is how the system proves that no interrupt was silently lost.
#pragma once

#include <fwdsim/dev/irq_line.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fwdsim::dev {

enum class Trigger { level, edge };

struct ServiceResult {
    std::uint64_t consumed = 0;               ///< events this service handled
    std::optional<sim::Cycles> oldest_raised; ///< when the oldest of them happened
};

class InterruptSource {
public:
    InterruptSource(sim::EventQueue& queue, std::string name, Trigger trigger, IrqLine& line,
                    std::unique_ptr<Traffic> traffic, sim::Rng rng);

    const std::string& name() const { return name_; }
    Trigger trigger() const { return trigger_; }

    /// Starts the traffic: the first event comes one gap after `at`.
    void start(sim::Cycles at);
    /// Stops generating events (outstanding ones stay until serviced).
    void stop();
    /// Raises one event now, outside the traffic (tests, scripted stimulus).
    void raise_now();
    /// Called at each event, before the line moves (measurement: the
    /// system's per-interrupt ledger reads the path's state there).
    void set_raise_hook(std::function<void()> hook) { raise_hook_ = std::move(hook); }

    /// The driver services the device: consumes the outstanding events and,
    /// for a level source, lowers the line.
    ServiceResult service();

    /// Masking (an MSI-X vector's mask bit): while masked an edge source
    /// keeps events pending and sends one message when unmasked.
    void set_masked(bool masked);
    bool masked() const { return masked_; }

    bool line_level() const { return line_level_; }
    std::uint64_t raised() const { return raised_; }
    std::uint64_t delivered() const { return delivered_; }
    std::uint64_t coalesced() const { return coalesced_; }
    std::uint64_t spurious_services() const { return spurious_; }
    std::uint64_t outstanding() const { return outstanding_.size(); }
    std::optional<sim::Cycles> oldest_outstanding() const;

private:
    void on_traffic();
    void on_pulse_end();
    void signal();
    void drive(bool level);

    sim::EventQueue& queue_;
    std::string name_;
    Trigger trigger_;
    IrqLine& line_;
    std::unique_ptr<Traffic> traffic_;
    sim::Rng rng_;
    sim::MemberEvent<InterruptSource, &InterruptSource::on_traffic> traffic_event_{this, "dev.traffic"};
    sim::MemberEvent<InterruptSource, &InterruptSource::on_pulse_end> pulse_end_{this, "dev.pulse_end"};
    std::function<void()> raise_hook_;
    std::deque<sim::Cycles> outstanding_;
    bool line_level_ = false;
    bool masked_ = false;
    bool message_pending_ = false; // edge event held back by the mask
    std::uint64_t raised_ = 0;
    std::uint64_t delivered_ = 0;
    std::uint64_t coalesced_ = 0;
    std::uint64_t spurious_ = 0;
};

} // namespace fwdsim::dev
