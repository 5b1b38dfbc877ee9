// Guest: the guest OS on one vCPU, as far as interrupts go.
//
// At its first entry it boots its interrupt controller: the distributor
// writes trap (GICD_CTLR, the enables, targets and trigger types of the
// interrupts it has handlers for) and are emulated by the vgic; the virtual
// CPU interface is programmed directly (GICV_CTLR with EOImode when split,
// GICV_PMR).  Then it runs its workload: busy (guest code forever) or idle
// (the idle loop and WFI, which exits to KVM and blocks when nothing is
// pending).  On nVIRQ it takes the interrupt: entry (guest.irq_entry), read
// GICV_IAR, run the handler for its service time (the handler services the
// device: guest.device_access plus the handler's own time; for a level
// device this lowers the line; where the VMM has taken the device's region
// out of the guest the access exits to user space and the VMM performs
// it), write GICV_EOIR -- and GICV_DIR with
// EOImode 1 -- then read IAR again while something is pending
// (gic_handle_irq's loop), and return (guest.irq_exit) to what it was doing.
// All of it spends guest time through the vCPU, so exits only delay it.
#pragma once

#include <fwdsim/kvm/guest_code.h>
#include <fwdsim/kvm/vcpu.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/param.h>
#include <fwdsim/sim/stats.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace fwdsim::guest {

struct GuestCosts {
    sim::Cycles irq_entry{};
    sim::Cycles irq_exit{};
    sim::Cycles idle_loop{};
    sim::Cycles device_access{};
    /// Keys guest.irq_entry, guest.irq_exit, guest.idle_loop, guest.device_access.
    static GuestCosts from_profile(const sim::CostProfile& profile);
};

enum class Workload { idle, busy };

struct GuestParams {
    Workload workload = Workload::idle;
    bool split_eoi = false; ///< EOImode 1: EOIR drops priority, DIR deactivates
};

// The scenario keys of GuestParams (machine::param_table()).
inline constexpr sim::Param kParamEoiMode{.key = "guest.eoi_mode", .fallback = "0",
    .description = "GICV_CTLR.EOImode: 0, EOIR deactivates; 1, EOIR drops priority and DIR deactivates",
    .ranged = true, .min = 0, .max = 1};
inline constexpr sim::Param kParamWorkload{.key = "guest.workload", .fallback = "idle",
    .description = "idle (the idle loop and WFI between interrupts) or busy (guest code forever)"};

/// A device driver's interrupt handler in the guest.
class IrqHandler {
public:
    virtual ~IrqHandler() = default;
    /// The handler's own work for this interrupt, beyond touching the device.
    virtual sim::Cycles service_time() = 0;
    /// GICV_IAR returned this interrupt.
    virtual void acknowledged(sim::Cycles now) { (void)now; }
    /// The handler services the device (reads its status, acknowledges it).
    virtual void service(sim::Cycles now) = 0;
    /// The guest wrote EOIR (and DIR): the interrupt is complete.
    virtual void completed(sim::Cycles now) { (void)now; }
    /// The guest physical address of the device's registers, which the
    /// handler's access touches (0: none known, the access never traps).
    virtual std::uint64_t mmio_address() const { return 0; }
};

class Guest final : public kvm::GuestCode {
public:
    Guest(kvm::Vcpu& vcpu, const GuestCosts& costs, GuestParams params);
    ~Guest();
    Guest(const Guest&) = delete;
    Guest& operator=(const Guest&) = delete;

    /// Installs a handler for `intid` (before the vCPU first runs): the
    /// guest enables it, targets it at its vCPU and sets its trigger type.
    void add_irq(unsigned intid, bool edge, IrqHandler& handler);
    void remove_irq(unsigned intid);

    bool booted() const { return phase_ != Phase::boot; }
    bool in_irq() const { return in_irq_; }
    std::uint64_t irqs_handled() const { return handled_.value(); }
    std::uint64_t spurious_acks() const { return spurious_.value(); }
    std::uint64_t unexpected_irqs() const { return unexpected_.value(); }
    /// Guest cycles spent in interrupt handling (entry to return).
    sim::Cycles irq_cycles() const { return irq_cycles_; }
    /// Whether the guest has read `intid` from GICV_IAR and not yet told
    /// its handler (the read's cost still running): measurement only.
    bool acknowledging(unsigned intid) const { return phase_ == Phase::irq_ack && (iar_ & 0x3FF) == intid; }

    // --- kvm::GuestCode -------------------------------------------------------------
    void trap_done(kvm::Vcpu& vcpu) override;
    void segment_done(kvm::Vcpu& vcpu) override;
    void virq(kvm::Vcpu& vcpu) override;
    void vcpu_destroyed(kvm::Vcpu& vcpu) override;

private:
    enum class Phase { boot, boot_cpuif, busy, idle_loop, wfi, irq_entry, irq_ack, irq_access, irq_handle, irq_eoi, irq_exit };
    struct Installed {
        bool edge = false;
        IrqHandler* handler = nullptr;
    };
    void boot_step();
    void start_workload();
    void resume_workload();
    /// Starts the workload's `phase` for `cycles`, or the IRQ if one waits.
    void begin_workload(Phase phase, sim::Cycles cycles);
    void take_irq();
    /// The IRQ path, preempting phase_ with `preempted_left` cycles to go.
    void enter_irq(sim::Cycles preempted_left);
    void acknowledge();
    void run(Phase phase, sim::Cycles cycles);
    sim::Cycles now() const;

    kvm::Vcpu* vcpu_; ///< null once the vCPU is gone
    GuestCosts costs_;
    GuestParams params_;
    /// By INTID (handler null where none): looked up twice an interrupt.
    std::vector<Installed> irqs_;
    /// The handler of INTID `intid`, or null.
    IrqHandler* handler_of(unsigned intid) const { return intid < irqs_.size() ? irqs_[intid].handler : nullptr; }
    std::deque<std::pair<std::uint32_t, std::uint32_t>> boot_writes_; ///< trapped GICD writes left
    bool boot_planned_ = false;

    Phase phase_ = Phase::boot;
    bool in_irq_ = false;
    bool acked_in_entry_ = false; ///< this IRQ entry acknowledged something
    Phase preempted_phase_ = Phase::busy;
    sim::Cycles preempted_left_{};
    std::uint32_t iar_ = 0;
    bool serviced_ = false; ///< the handler's device access was performed (by the VMM, trapped)
    sim::Cycles irq_started_{};

    sim::Counter handled_;
    sim::Counter spurious_;
    sim::Counter unexpected_;
    sim::Cycles irq_cycles_{};
};

} // namespace fwdsim::guest
