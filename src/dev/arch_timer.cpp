#include <fwdsim/dev/arch_timer.h>

namespace fwdsim::dev {

void ArchTimer::set_compare(sim::Cycles cval)
{
    cval_ = cval;
    update();
}

void ArchTimer::set_control(bool enable, bool imask)
{
    enable_ = enable;
    imask_ = imask;
    update();
}

void ArchTimer::update()
{
    const bool level = istatus() && !imask_;
    if (level != level_) {
        level_ = level;
        if (level_) {
            ++fires_;
        }
        line_.set_level(level_);
    }
    // Wake up at the compare value if it is still ahead.
    if (enable_ && cval_ > queue_.now() && cval_ != sim::Cycles::max()) {
        queue_.reschedule(expiry_, cval_);
    } else {
        queue_.deschedule(expiry_);
    }
}

} // namespace fwdsim::dev
