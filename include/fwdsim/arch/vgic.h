// Vgic: one VM's virtual GICv2, as KVM/arm's vgic-v2 keeps it
// (arch/arm64/kvm/vgic/vgic.c, vgic-v2.c, vgic-mmio-v2.c).
//
// It holds the virtual state of every interrupt the VM can see (pending
// latch, line level, active, enabled, priority, configuration, target vCPU,
// and for a mapped interrupt the physical INTID behind it), the emulated
// distributor the guest reaches by trapping, and per vCPU the list of
// interrupts that are pending or active (the ap_list).  Around a world
// switch KVM calls flush() before entering the guest -- the ap_list, sorted
// active-first then by priority, is written into the physical CPU's list
// registers through GICH -- and fold() after leaving it, which reads the
// list registers back.  A level interrupt that is not mapped asks for EOI
// maintenance; its EOI, seen at fold time, runs the ack notifiers (what the
// irqfd resampler listens to).  A mapped (HW) interrupt is written with the
// HW bit, so the guest's EOI deactivates the physical interrupt itself.
//
// Before it reads or changes the active state of an interrupt that a
// running vCPU holds in its list registers, the vgic halts that vCPU
// (vgic_access_active_prepare -> kvm_arm_halt_guest): the vCPU leaves the
// guest and folds its own list registers on its own CPU, so the vgic's copy
// is exact and no list register of a running vCPU is ever rewritten from
// elsewhere.  A guest's GICD_I[SC]ACTIVER / I[SC]PENDR write on a mapped
// interrupt reaches the physical distributor through the set_phys_state
// callback, as vgic_irq_set_phys_active / _pending do.
//
// The Vgic touches only the GIC, through register accesses of the physical
// CPU it is told runs the vCPU, and calls upward only through the kick,
// halt, physical-active and ack-notifier callbacks.
#pragma once

#include <fwdsim/arch/vgic_costs.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/host/irqchip.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/param.h>

#include <boost/intrusive/list.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace fwdsim::arch {

/// The scenario keys of a VM's vgic (machine::param_table()).
inline constexpr sim::Param kParamVcpus{.key = "vms[].vcpus", .fallback = "1", .description = "the VM's vCPUs",
    .ranged = true, .min = 1, .max = 8, .note = "VGIC_V2_MAX_CPUS"};
inline constexpr sim::Param kParamVgicIrqs{.key = "vms[].irqs", .fallback = "gic.irqs (at most 992)",
    .description = "interrupt IDs of the VM's vgic, what the VMM passes to KVM_DEV_ARM_VGIC_GRP_NR_IRQS",
    .ranged = true, .min = 64, .max = 992, .multiple_of = 32, .note = "a vgic-v2's NR_IRQS", .rule = "at most gic.irqs"};

/// One virtual interrupt (struct vgic_irq).
struct VirtualIrq : boost::intrusive::list_base_hook<> {
    unsigned intid = 0;
    unsigned target_vcpu = 0;
    bool enabled = false;
    bool pending_latch = false;
    bool line_level = false;
    bool active = false;
    bool edge = false;
    bool hw = false;
    unsigned hwintid = 0;
    std::uint8_t priority = 0xA0;
    int listed_on = -1;     ///< the vCPU whose ap_list holds it, or -1
    bool injected_since_flush = false; ///< raised again after it went into a list register
    bool pending() const { return pending_latch || (!edge && line_level); }
};

class Vgic {
public:
    static constexpr unsigned kPrivate = 32;
    /// KVM_DEV_ARM_VGIC_GRP_NR_IRQS (vgic-kvm-device.c): a multiple of 32
    /// from the private interrupts plus one word of SPIs to
    /// VGIC_MAX_RESERVED (1023), so 64..992.
    static constexpr unsigned kMinNrIrqs = kPrivate + 32;
    static constexpr unsigned kMaxNrIrqs = 992;
    /// VGIC_V2_MAX_CPUS.
    static constexpr unsigned kMaxVcpus = 8;

    /// `kick(vcpu)`: an interrupt was queued for a vCPU; KVM wakes or kicks it.
    Vgic(gic::Gic& gic, unsigned nr_vcpus, unsigned nr_irqs, const VgicCosts& costs,
         std::function<void(unsigned vcpu)> kick);
    ~Vgic();
    Vgic(const Vgic&) = delete;
    Vgic& operator=(const Vgic&) = delete;

    unsigned nr_vcpus() const { return static_cast<unsigned>(vcpus_.size()); }
    unsigned nr_irqs() const { return nr_irqs_; }

    // --- injection (kvm_vgic_inject_irq) ---------------------------------------
    /// Sets the line of a level interrupt, or makes an edge on a rising
    /// level.  `vcpu` selects the bank for SGIs/PPIs.  -EINVAL for a bad INTID.
    int inject(unsigned vcpu, unsigned intid, bool level);

    // --- mapped interrupts (kvm_vgic_map_phys_irq) -----------------------------
    /// The mapped interrupt's physical IRQ was taken by the host: it becomes
    /// pending (latched, whatever its trigger type).  -EINVAL if not mapped.
    int inject_mapped(unsigned vcpu, unsigned intid);
    int map_phys_irq(unsigned vcpu, unsigned intid, unsigned host_irq);
    void unmap_phys_irq(unsigned vcpu, unsigned intid);

    /// Called with the INTID when the guest's EOI of a level, non-mapped
    /// interrupt is seen (kvm_notify_acked_irq).
    void set_ack_notifier(std::function<void(unsigned intid)> notifier) { ack_notifier_ = std::move(notifier); }
    /// kvm_arm_halt_guest for one vCPU: KVM makes it leave the guest at
    /// once; its exit folds its list registers on its own CPU.
    void set_halt(std::function<void(unsigned vcpu)> halt) { halt_ = std::move(halt); }
    /// vgic_irq_set_phys_active / vgic_irq_set_phys_pending: sets or
    /// clears a mapped interrupt's physical state (irq_set_irqchip_state).
    using PhysStateFn = std::function<void(unsigned hwintid, host::IrqchipState which, bool value)>;
    void set_phys_state(PhysStateFn fn) { phys_state_ = std::move(fn); }

    /// vgic_access_active_prepare: if a vCPU that is loaded holds `intid`
    /// in a list register, halt it, so that the state below is exact.
    /// Returns the vCPU halted, or -1.
    int sync_listed(unsigned vcpu, unsigned intid);

    // --- world switch (vgic_flush_lr_state / vgic_fold_lr_state) ----------------
    /// Fills the list registers of physical CPU `pcpu` for `vcpu`; returns
    /// the cycles the GICH accesses and the sort took.
    sim::Cycles flush(unsigned vcpu, unsigned pcpu);
    /// Reads them back and updates the virtual state; returns its cycles.
    sim::Cycles fold(unsigned vcpu, unsigned pcpu);

    // --- the emulated distributor (vgic-mmio-v2.c) -----------------------------
    /// A guest GICD access that trapped; returns the value read.  `cost`
    /// receives the emulation cycles.
    std::uint32_t dist_read(unsigned vcpu, std::uint32_t offset, sim::Cycles& cost);
    void dist_write(unsigned vcpu, std::uint32_t offset, std::uint32_t value, sim::Cycles& cost);

    // --- the saved CPU interface, as userspace reaches it -----------------------
    // (KVM_DEV_ARM_VGIC_GRP_CPU_REGS; vgic-mmio-v2.c vgic_v2_cpu_registers:
    // GICC_CTLR, PMR, BPR, ABPR and IIDR through the saved GICH_VMCR,
    // GICC_APR0..3 through the saved GICH_APR.)  Valid while the vCPU is
    // not loaded; KVM refuses the access while any vCPU runs.
    /// Whether `offset` is one of those registers (32-bit, aligned).
    static bool cpuif_has(std::uint32_t offset);
    /// Reads 0 and ignores a write outside them, as vgic_uaccess does.
    std::uint32_t cpuif_read(unsigned vcpu, std::uint32_t offset) const;
    void cpuif_write(unsigned vcpu, std::uint32_t offset, std::uint32_t value);

    // --- inspection -----------------------------------------------------------------
    const VirtualIrq* irq(unsigned vcpu, unsigned intid) const;
    /// The guest's GICD_CTLR.Enable.
    bool dist_enabled() const { return enabled_; }
    /// Something pending and enabled waits for `vcpu` (wakes it from WFI).
    bool has_pending(unsigned vcpu) const;
    std::size_t ap_list_size(unsigned vcpu) const;
    /// The guest's EOIs of `intid` seen through a list register's EOI bit
    /// (GICH_EISR): the EOI maintenance this interrupt asked for, counted
    /// per interrupt where the VM's exits count only "maintenance".
    std::uint64_t eoi_maintenance(unsigned intid) const
    {
        return intid < eoi_maintenance_.size() ? eoi_maintenance_[intid] : 0;
    }
    /// Whether the last flush for `vcpu` ran out of list registers.
    bool overflowed(unsigned vcpu) const;
    /// The physical CPU whose list registers hold `vcpu` (between flush
    /// and fold), or -1.
    int loaded_on(unsigned vcpu) const;
    /// The list register state of `intid` where a loaded vCPU holds it
    /// (read through GICH, no side effect), else invalid.
    gic::ListRegister::State listed_state(unsigned vcpu, unsigned intid) const;
    /// Whether `intid` waits for the guest's acknowledge: pending in the
    /// vgic's copy or in a loaded vCPU's list register (measurement).
    bool pending_for_guest(unsigned vcpu, unsigned intid) const;

private:
    struct Vcpu;
    VirtualIrq* lookup(unsigned vcpu, unsigned intid);
    void queue(VirtualIrq& irq);
    void prune(unsigned vcpu);
    void change_active(unsigned vcpu, VirtualIrq& irq, bool active);
    void change_pending(unsigned vcpu, VirtualIrq& irq, bool pending);

    gic::Gic& gic_;
    unsigned nr_irqs_;
    VgicCosts costs_;
    std::function<void(unsigned)> kick_;
    std::function<void(unsigned)> ack_notifier_;
    std::function<void(unsigned)> halt_;
    PhysStateFn phys_state_;
    bool enabled_ = false; ///< the guest's GICD_CTLR
    std::vector<std::unique_ptr<Vcpu>> vcpus_;
    std::vector<VirtualIrq> spis_;
    std::vector<std::uint64_t> eoi_maintenance_; ///< by INTID
};

} // namespace fwdsim::arch
