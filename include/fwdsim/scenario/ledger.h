// IrqLedger: the fate of every assertion of one device interrupt, so that
// an interrupt dropped anywhere on its path shows up as lost instead of
// hiding among the merged ones.
//
// Every assertion of the source gets an identity (0, 1, 2, ... in order)
// and exactly one fate:
// * delivered -- it opened a *carrier*, the interrupt on its way to the
//   guest, and the guest's acknowledge (IAR of the virtual INTID) claimed
//   that carrier; the guest handler that follows services it;
// * coalesced -- it was asserted while the same source was already pending
//   and not yet acknowledged (an open carrier that the path still holds), or,
//   for a level source, while the line was already high (a re-assertion the
//   line merges): the handler of the carrier it joined services it;
// * lost -- it opened a carrier that no stage of the path holds any more
//   (not the device line, the GIC, the host's flow, VFIO's eventfd, KVM's
//   irqfd, the vgic or a list register) and that no acknowledge claimed;
// * dropped -- the same, when the VM it was going to is gone (the VMM
//   killed: design.md §5 asks for a clean host then, not delivery), or when
//   its guest had not yet set the interrupt up as the device drives it when
//   it was asserted (distributor on, the SPI enabled, edge or level as the
//   source): an edge injected into an SPI still configured level is
//   discarded by the vgic, as KVM's is (kvm_vgic_inject_irq);
// * outstanding -- its carrier is still held somewhere on the path.
// So raised == delivered + coalesced + lost + dropped + outstanding, each
// term counted, none derived from the others.
//
// A guest acknowledge that finds no open carrier is a delivery no assertion
// needed: *redelivered* when an assertion coalesced into the carrier last
// acknowledged could still reach the guest on its own (an edge that found
// the physical IRQ active, a level line still high when its mask was
// lifted: the handler then finds nothing to service), else *duplicated*.
//
// The ledger knows nothing of the path: the system tells it of assertions
// (with whether the path held the source pending), acknowledges, the
// services of a level source, and audits (whether the path still holds it).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace fwdsim::scenario {

class IrqLedger {
public:
    enum class Fate : std::uint8_t { outstanding, delivered, coalesced, lost, dropped };

    explicit IrqLedger(bool level) : level_(level) {}

    /// The device asserted once.  `line_was_high`: a level line already
    /// high; `held`: the path holds this source's interrupt pending (not yet
    /// acknowledged by the guest); `guest_ready`: the guest has set the
    /// interrupt up.  Returns the assertion's identity.
    std::uint64_t asserted(bool line_was_high, bool held, bool guest_ready = true);
    /// The guest acknowledged an interrupt of this source.  Returns the
    /// identity of the assertion whose carrier it claimed, or nullopt.
    std::optional<std::uint64_t> acknowledged();
    /// A guest handler serviced a level source (its line falls): an open
    /// carrier is delivered by this service even if its own acknowledge is
    /// still on its way (that acknowledge is then a redelivery).
    void serviced_level();
    /// The path's state now: an open carrier it no longer holds is lost
    /// (or dropped: its VM gone, `vm_alive` false, or not set up by its
    /// guest when it was asserted).
    void audit(bool held, bool vm_alive);
    /// The VM the open carrier was raised for is gone (its VMM killed): if
    /// a new VM's guest, not yet set up for it, cannot take it, it is
    /// dropped with the old one rather than lost.
    void orphan_open()
    {
        if (open_) open_->guest_ready = false;
    }

    Fate fate(std::uint64_t id) const { return fates_.at(id); }
    std::uint64_t raised() const { return fates_.size(); }
    bool has_open_carrier() const { return open_.has_value(); }
    /// The assertion whose carrier is open, if any, and whether it would
    /// count as dropped rather than lost were it found held nowhere.
    std::optional<std::uint64_t> open_id() const { return open_ ? std::optional<std::uint64_t>(open_->id) : std::nullopt; }
    bool open_excused(bool vm_alive) const { return !vm_alive || (open_ && !open_->guest_ready); }

    struct Counts {
        std::uint64_t raised = 0, delivered = 0, coalesced = 0, lost = 0, dropped = 0, outstanding = 0;
        std::uint64_t redelivered = 0, duplicated = 0;
    };
    /// Counts over assertions `first_id` on (acknowledges that claimed
    /// nothing: over the whole run).
    Counts counts(std::uint64_t first_id = 0) const;
    /// Identities of lost assertions (the first few), for messages.
    const std::vector<std::uint64_t>& lost_ids() const { return lost_ids_; }

private:
    struct Carrier {
        std::uint64_t id;
        std::uint64_t merged = 0; ///< assertions coalesced into it
        bool guest_ready = true;  ///< the guest had set the interrupt up when it was asserted
    };
    void settle(Fate fate);

    bool level_;
    std::vector<Fate> fates_;
    std::optional<Carrier> open_;  ///< raised, not yet acknowledged (at most one: later ones merge)
    std::uint64_t last_acked_merged_ = 0; ///< coalesced into the carrier last claimed, not yet redelivered
    std::uint64_t redelivered_ = 0, duplicated_ = 0;
    std::vector<std::uint64_t> lost_ids_;
};

} // namespace fwdsim::scenario
