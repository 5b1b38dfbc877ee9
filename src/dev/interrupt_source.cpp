#include <fwdsim/dev/interrupt_source.h>

namespace fwdsim::dev {

InterruptSource::InterruptSource(sim::EventQueue& queue, std::string name, Trigger trigger, IrqLine& line,
                                 std::unique_ptr<Traffic> traffic, sim::Rng rng)
    : queue_(queue), name_(std::move(name)), trigger_(trigger), line_(line), traffic_(std::move(traffic)), rng_(rng)
{
}

void InterruptSource::start(sim::Cycles at)
{
    if (!traffic_) {
        return;
    }
    if (const auto gap = traffic_->next_gap(rng_)) {
        queue_.reschedule(traffic_event_, at + *gap);
    }
}

void InterruptSource::stop()
{
    queue_.deschedule(traffic_event_);
}

void InterruptSource::on_traffic()
{
    raise_now();
    if (const auto gap = traffic_->next_gap(rng_)) {
        queue_.schedule_after(traffic_event_, *gap);
    }
}

void InterruptSource::raise_now()
{
    if (raise_hook_) raise_hook_();
    ++raised_;
    outstanding_.push_back(queue_.now());
    signal();
}

void InterruptSource::signal()
{
    if (trigger_ == Trigger::level) {
        drive(true);
        return;
    }
    if (masked_) {
        message_pending_ = true;
        return;
    }
    // An edge: high for one cycle.  A second event while the pulse is still
    // high merges into it on the wire.
    if (!line_level_) {
        drive(true);
        queue_.schedule_after(pulse_end_, sim::Cycles{1});
    }
}

void InterruptSource::on_pulse_end()
{
    drive(false);
}

void InterruptSource::drive(bool level)
{
    if (level != line_level_) {
        line_level_ = level;
        line_.set_level(level);
    }
}

ServiceResult InterruptSource::service()
{
    ServiceResult result;
    result.consumed = outstanding_.size();
    if (result.consumed == 0) {
        ++spurious_;
    } else {
        result.oldest_raised = outstanding_.front();
        ++delivered_;
        coalesced_ += result.consumed - 1;
        outstanding_.clear();
    }
    if (trigger_ == Trigger::level) {
        drive(false);
    }
    return result;
}

void InterruptSource::set_masked(bool masked)
{
    masked_ = masked;
    if (!masked_ && message_pending_) {
        message_pending_ = false;
        signal();
    }
}

std::optional<sim::Cycles> InterruptSource::oldest_outstanding() const
{
    if (outstanding_.empty()) {
        return std::nullopt;
    }
    return outstanding_.front();
}

} // namespace fwdsim::dev
