// ArchTimer: one CPU's ARM generic timer (the virtual timer, CNTV_*).
//
// The timer's output is a level: high while the timer is enabled, not
// masked, and the counter has reached the compare value (CNTV_CTL.ISTATUS
// with ENABLE=1 and IMASK=0).  It drives a PPI (27 for the virtual timer),
// which KVM maps to the guest's own virtual timer PPI: the canonical
// forwarded interrupt.  The counter is simulated time.
#pragma once

#include <fwdsim/dev/irq_line.h>
#include <fwdsim/sim/event_queue.h>

namespace fwdsim::dev {

class ArchTimer {
public:
    ArchTimer(sim::EventQueue& queue, IrqLine& line) : queue_(queue), line_(line) {}

    /// CNTV_CVAL: the compare value, in counter (cycle) units.
    void set_compare(sim::Cycles cval);
    /// CNTV_TVAL-style: fire `delay` cycles from now.
    void set_timer(sim::Cycles delay) { set_compare(queue_.now() + delay); }
    /// CNTV_CTL.ENABLE and IMASK.
    void set_control(bool enable, bool imask);

    bool enabled() const { return enable_; }
    bool masked() const { return imask_; }
    /// CNTV_CTL.ISTATUS: the condition is met, whatever the mask.
    bool istatus() const { return enable_ && queue_.now() >= cval_; }
    bool line_level() const { return level_; }
    std::uint64_t fires() const { return fires_; }

private:
    void update();
    void on_expiry() { update(); }

    sim::EventQueue& queue_;
    IrqLine& line_;
    sim::MemberEvent<ArchTimer, &ArchTimer::on_expiry> expiry_{this, "dev.timer_expiry"};
    sim::Cycles cval_ = sim::Cycles::max();
    bool enable_ = false;
    bool imask_ = false;
    bool level_ = false;
    std::uint64_t fires_ = 0;
};

} // namespace fwdsim::dev
