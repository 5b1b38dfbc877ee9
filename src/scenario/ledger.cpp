// IrqLedger: see include/fwdsim/scenario/ledger.h.
#include <fwdsim/scenario/ledger.h>

namespace fwdsim::scenario {

void IrqLedger::settle(Fate fate)
{
    fates_[open_->id] = fate;
    if (fate == Fate::lost && lost_ids_.size() < 8) lost_ids_.push_back(open_->id);
    open_.reset();
}

std::uint64_t IrqLedger::asserted(bool line_was_high, bool held, bool guest_ready)
{
    const std::uint64_t id = fates_.size();
    if ((open_ && held) || (level_ && line_was_high)) {
        // Merged: by the line (level), or into the carrier the path holds
        // pending and the guest has not acknowledged (edge).
        fates_.push_back(Fate::coalesced);
        if (open_) ++open_->merged;
        else ++last_acked_merged_; // a level line high after its acknowledge, before the service
        return id;
    }
    // A carrier the path no longer holds cannot take this one in: it is gone.
    if (open_ && !held) settle(open_->guest_ready ? Fate::lost : Fate::dropped);
    fates_.push_back(Fate::outstanding);
    open_ = Carrier{id, 0, guest_ready};
    return id;
}

std::optional<std::uint64_t> IrqLedger::acknowledged()
{
    if (open_) {
        const std::uint64_t id = open_->id;
        last_acked_merged_ = open_->merged;
        settle(Fate::delivered);
        return id;
    }
    // A delivery no assertion needed.  A level line is a state, not an
    // event: sampled high again it is the same assertion once more.  An edge
    // must be one that coalesced and still went its own way.
    if (level_) {
        ++redelivered_;
    } else if (last_acked_merged_ > 0) {
        --last_acked_merged_;
        ++redelivered_;
    } else {
        ++duplicated_;
    }
    return std::nullopt;
}

void IrqLedger::serviced_level()
{
    if (!open_) return;
    last_acked_merged_ = open_->merged;
    settle(Fate::delivered);
}

void IrqLedger::audit(bool held, bool vm_alive)
{
    if (open_ && !held) settle(open_excused(vm_alive) ? Fate::dropped : Fate::lost);
}

IrqLedger::Counts IrqLedger::counts(std::uint64_t first_id) const
{
    Counts c;
    for (std::uint64_t id = first_id; id < fates_.size(); ++id) {
        ++c.raised;
        switch (fates_[id]) {
        case Fate::outstanding: ++c.outstanding; break;
        case Fate::delivered: ++c.delivered; break;
        case Fate::coalesced: ++c.coalesced; break;
        case Fate::lost: ++c.lost; break;
        case Fate::dropped: ++c.dropped; break;
        }
    }
    c.redelivered = redelivered_;
    c.duplicated = duplicated_;
    return c;
}

} // namespace fwdsim::scenario
