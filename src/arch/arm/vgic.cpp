// The vgic-v2 (arch/arm64/kvm/vgic/).  See include/fwdsim/arch/vgic.h.
#include <fwdsim/arch/vgic.h>
#include <fwdsim/gic/gicd_map.h>
#include <fwdsim/gic/registers.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <stdexcept>
#include <string>

namespace fwdsim::arch {

using gic::ListRegister;

VgicCosts VgicCosts::from_profile(const sim::CostProfile& p)
{
    return VgicCosts{p.get("arch.vgic_mmio_emulate"), p.get("arch.vgic_sort_ap_list")};
}

struct Vgic::Vcpu {
    std::array<VirtualIrq, kPrivate> private_irqs{};
    boost::intrusive::list<VirtualIrq> ap_list;
    std::vector<VirtualIrq*> in_lr; ///< what the last flush put in each LR
    /// How many LRs the last flush filled (in_lr[0, used)); the rest are
    /// null, so the fold and lookups walk only these.
    unsigned used_lrs = 0;
    int loaded_on = -1;             ///< the physical CPU whose LRs hold it, between flush and fold
    // The virtual CPU interface's own state, saved at fold and restored at
    // flush (vgic_v2_save_state / vgic_v2_restore_state): GICV_CTLR, PMR and
    // BPR through GICH_VMCR, the active priorities through GICH_APR.  A new
    // vCPU starts from the interface's reset values, whatever the previous
    // vCPU on that CPU left there.
    std::uint32_t vmcr = (2u << gic::gich::vmcr_vbpr_shift) | (3u << gic::gich::vmcr_vabpr_shift);
    std::uint32_t apr = 0;
    bool overflow = false;
    ~Vcpu() { ap_list.clear(); }
};

Vgic::Vgic(gic::Gic& gic, unsigned nr_vcpus, unsigned nr_irqs, const VgicCosts& costs,
           std::function<void(unsigned)> kick)
    : gic_(gic), nr_irqs_(nr_irqs), costs_(costs), kick_(std::move(kick)), eoi_maintenance_(nr_irqs, 0)
{
    // Fewer than kMinNrIrqs when the host GIC has no more (a GIC of 32 IDs).
    if (nr_vcpus == 0 || nr_vcpus > kMaxVcpus || nr_irqs < kPrivate || nr_irqs > kMaxNrIrqs || nr_irqs % 32 != 0) {
        throw std::invalid_argument("Vgic: 1..8 vCPUs and a multiple of 32 in 32..992 interrupt IDs");
    }
    static_assert(kParamVgicIrqs.min == kMinNrIrqs && kParamVgicIrqs.max == kMaxNrIrqs && kParamVcpus.max == kMaxVcpus);
    for (unsigned v = 0; v < nr_vcpus; ++v) {
        auto vc = std::make_unique<Vcpu>();
        vc->in_lr.assign(gic.params().num_lrs, nullptr);
        for (unsigned id = 0; id < kPrivate; ++id) {
            VirtualIrq& irq = vc->private_irqs[id];
            irq.intid = id;
            irq.target_vcpu = v;
            irq.edge = id < 16; // SGIs are edge; PPIs level by default
            irq.enabled = id < 16;
        }
        vcpus_.push_back(std::move(vc));
    }
    spis_.resize(nr_irqs - kPrivate);
    for (unsigned k = 0; k < spis_.size(); ++k) spis_[k].intid = kPrivate + k;
}

Vgic::~Vgic()
{
    // Unlink SPIs (owned here) before the vCPUs' lists go.
    for (auto& v : vcpus_) v->ap_list.clear();
}

VirtualIrq* Vgic::lookup(unsigned vcpu, unsigned intid)
{
    if (vcpu >= vcpus_.size() || intid >= nr_irqs_) return nullptr;
    return intid < kPrivate ? &vcpus_[vcpu]->private_irqs[intid] : &spis_[intid - kPrivate];
}

const VirtualIrq* Vgic::irq(unsigned vcpu, unsigned intid) const
{
    return const_cast<Vgic*>(this)->lookup(vcpu, intid);
}

void Vgic::queue(VirtualIrq& irq)
{
    // vgic_queue_irq_unlock: an interrupt joins its target's ap_list once it
    // can be delivered (or is active), and the vCPU is kicked.
    const bool deliverable = irq.active || (irq.pending() && irq.enabled && enabled_);
    if (irq.listed_on >= 0) {
        // Already listed: an edge raised again while its LR is in the guest
        // brings no EOI maintenance, so kick the vCPU or it waits for an
        // unrelated exit (vgic_queue_irq_unlock does the same).
        if (deliverable && kick_) kick_(irq.active ? static_cast<unsigned>(irq.listed_on) : irq.target_vcpu < vcpus_.size() ? irq.target_vcpu : 0);
        return;
    }
    if (!deliverable) return;
    const unsigned target = irq.target_vcpu < vcpus_.size() ? irq.target_vcpu : 0;
    vcpus_[target]->ap_list.push_back(irq);
    irq.listed_on = static_cast<int>(target);
    if (kick_) kick_(target);
}

void Vgic::prune(unsigned vcpu)
{
    auto& list = vcpus_[vcpu]->ap_list;
    for (auto it = list.begin(); it != list.end();) {
        VirtualIrq& irq = *it;
        if (!irq.active && !(irq.pending() && irq.enabled)) {
            it = list.erase(it);
            irq.listed_on = -1;
        } else {
            ++it;
        }
    }
}

int Vgic::inject(unsigned vcpu, unsigned intid, bool level)
{
    VirtualIrq* irq = lookup(vcpu, intid);
    if (irq == nullptr) return -EINVAL;
    if (level) irq->injected_since_flush = true;
    if (irq->edge) {
        if (level && !irq->line_level) irq->pending_latch = true;
        irq->line_level = level;
    } else {
        irq->line_level = level;
    }
    queue(*irq);
    return 0;
}

int Vgic::inject_mapped(unsigned vcpu, unsigned intid)
{
    VirtualIrq* irq = lookup(vcpu, intid);
    if (irq == nullptr || !irq->hw) return -EINVAL;
    // The host took the physical interrupt and left it active for the
    // guest: that is one virtual pending interrupt, whatever trigger type
    // the guest has configured (or not yet configured).  It cannot fire
    // again before the guest's EOI deactivates it.
    irq->pending_latch = true;
    irq->injected_since_flush = true;
    queue(*irq);
    return 0;
}

int Vgic::map_phys_irq(unsigned vcpu, unsigned intid, unsigned host_irq)
{
    VirtualIrq* irq = lookup(vcpu, intid);
    if (irq == nullptr || host_irq >= gic_.params().num_irqs) return -EINVAL;
    if (irq->hw) return -EBUSY;
    irq->hw = true;
    irq->hwintid = host_irq;
    return 0;
}

void Vgic::unmap_phys_irq(unsigned vcpu, unsigned intid)
{
    VirtualIrq* irq = lookup(vcpu, intid);
    if (irq == nullptr || !irq->hw) return;
    // A list register of a running vCPU still holding it with HW=1 would let
    // the guest's EOI deactivate the physical INTID after it has a new
    // owner.  As KVM does, halt the vCPU first (its exit folds the LR back
    // on its own CPU) instead of rewriting a running vCPU's LR from here;
    // the next flush writes it as a software interrupt.
    (void)sync_listed(vcpu, intid);
    irq->hw = false;
    irq->hwintid = 0;
}

int Vgic::loaded_on(unsigned vcpu) const { return vcpus_.at(vcpu)->loaded_on; }

int Vgic::sync_listed(unsigned vcpu, unsigned intid)
{
    VirtualIrq* irq = lookup(vcpu, intid);
    if (irq == nullptr || irq->listed_on < 0) return -1;
    const auto holder = static_cast<unsigned>(irq->listed_on);
    if (vcpus_[holder]->loaded_on < 0 || !halt_) return -1;
    halt_(holder);
    return static_cast<int>(holder);
}

ListRegister::State Vgic::listed_state(unsigned vcpu, unsigned intid) const
{
    const VirtualIrq* irq = this->irq(vcpu, intid);
    if (irq == nullptr || irq->listed_on < 0) return ListRegister::State::invalid;
    const Vcpu& v = *vcpus_[static_cast<unsigned>(irq->listed_on)];
    if (v.loaded_on < 0) return ListRegister::State::invalid;
    for (unsigned n = 0; n < v.used_lrs; ++n) {
        if (v.in_lr[n] != irq) continue;
        return ListRegister{gic_.read(gic::Block::gich, static_cast<unsigned>(v.loaded_on), gic::gich::lr0 + 4 * n)}.state();
    }
    return ListRegister::State::invalid;
}

bool Vgic::pending_for_guest(unsigned vcpu, unsigned intid) const
{
    const VirtualIrq* irq = this->irq(vcpu, intid);
    if (irq == nullptr) return false;
    if (irq->pending()) return true;
    const auto st = listed_state(vcpu, intid);
    return st == ListRegister::State::pending || st == ListRegister::State::pending_active;
}

sim::Cycles Vgic::flush(unsigned vcpu, unsigned pcpu)
{
    Vcpu& v = *vcpus_.at(vcpu);
    const sim::Cycles access = gic_.access_cost(gic::Block::gich);
    sim::Cycles cost = costs_.sort_ap_list;
    // vgic_sort_ap_list: active first, then by priority, then by INTID.  The
    // list's own merge sort is stable and relinks in place (list_sort), so a
    // flush allocates nothing.
    // One interrupt (the common case) is in order already.
    if (v.ap_list.size() > 1) {
        v.ap_list.sort([](const VirtualIrq& a, const VirtualIrq& b) {
            if (a.active != b.active) return a.active;
            if (a.priority != b.priority) return a.priority < b.priority;
            return a.intid < b.intid;
        });
    }

    gic_.write(gic::Block::gich, pcpu, gic::gich::vmcr, v.vmcr);
    gic_.write(gic::Block::gich, pcpu, gic::gich::apr, v.apr);
    cost += access * 2;
    const unsigned nr_lrs = static_cast<unsigned>(v.in_lr.size());
    unsigned used = 0;
    v.overflow = false;
    for (VirtualIrq& listed : v.ap_list) {
        VirtualIrq* const irq = &listed;
        const bool pend = irq->pending() && irq->enabled && enabled_;
        if (!pend && !irq->active) continue;
        if (used == nr_lrs) {
            v.overflow = true; // the rest waits: ask for underflow maintenance
            break;
        }
        // Never pending+active (vgic_v2_populate_lr's allow_pending): a mapped
        // interrupt's pending state lives in the physical GIC while it is
        // active there; a software level interrupt goes in active only, so
        // the guest's EOI empties the LR and its maintenance lets KVM resample
        // the line (Linux 67b5b673ad4d) -- as pending+active each EOI would
        // leave it pending, the guest would take it again and again, and the
        // resampler would never run.
        const bool allow_pending = !(irq->active && (irq->hw || !irq->edge));
        const auto state = irq->active ? (pend && allow_pending ? ListRegister::State::pending_active
                                                                : ListRegister::State::active)
                                       : ListRegister::State::pending;
        // A level interrupt that is not mapped asks for EOI maintenance so
        // KVM sees the EOI and can resample the line (vgic_v2_populate_lr).
        const ListRegister lr = irq->hw ? ListRegister::make_hw(irq->intid, irq->hwintid, irq->priority, state)
                                        : ListRegister::make_virtual(irq->intid, irq->priority, state, !irq->edge);
        gic_.write(gic::Block::gich, pcpu, gic::gich::lr0 + 4 * used, lr.raw);
        cost += access;
        if (pend && state != ListRegister::State::active) irq->pending_latch = false; // the LR carries it now
        irq->injected_since_flush = false;
        v.in_lr[used++] = irq;
    }
    // Past `used`, only what a flush not followed by a fold left (none
    // normally: the fold clears what it walks) needs clearing.
    for (unsigned n = used; n < v.used_lrs; ++n) v.in_lr[n] = nullptr;
    v.used_lrs = used;
    gic_.write(gic::Block::gich, pcpu, gic::gich::hcr, gic::gich::hcr_en | (v.overflow ? gic::gich::hcr_uie : 0u));
    cost += access;
    v.loaded_on = static_cast<int>(pcpu);
    return cost;
}

sim::Cycles Vgic::fold(unsigned vcpu, unsigned pcpu)
{
    Vcpu& v = *vcpus_.at(vcpu);
    const sim::Cycles access = gic_.access_cost(gic::Block::gich);
    sim::Cycles cost{};
    // The guest's EOIs of level interrupts, told to the ack notifier once
    // the fold is done; at most one per list register.
    std::array<unsigned, 64> acked;
    unsigned nr_acked = 0;
    for (unsigned n = 0; n < v.used_lrs; ++n) {
        VirtualIrq* irq = v.in_lr[n];
        const ListRegister lr{gic_.read(gic::Block::gich, pcpu, gic::gich::lr0 + 4 * n)};
        cost += access;
        const auto st = lr.state();
        const bool still_pending = st == ListRegister::State::pending || st == ListRegister::State::pending_active;
        const bool was_active = irq->active;
        irq->active = st == ListRegister::State::active || st == ListRegister::State::pending_active;
        if (still_pending && irq->edge) irq->pending_latch = true; // not taken yet: keep it
        if (still_pending && !irq->edge && !irq->line_level) irq->pending_latch = true; // a latched level pending
        // Decide from the LR as written, not from irq->hw: forwarding may
        // have been switched off while this LR was in the guest.
        // ... unless the host injected it again since the flush: that newer
        // assertion must survive the fold.
        if (lr.hw() && st == ListRegister::State::invalid && !irq->injected_since_flush) {
            // The guest's EOI deactivated the physical interrupt; if the
            // device asserts again, the physical GIC signals the host, which
            // injects again (the line is resampled at the source, as
            // vgic_get_phys_line_level does).  A pending latch that survived
            // the flush (pending behind an active HW LR, which never goes in
            // as pending+active) is a software pending still owed to the
            // guest: it stays.
            irq->line_level = false;
        }
        if (!lr.hw() && irq->hw && was_active && st == ListRegister::State::invalid) {
            // Forwarded while this software LR held it active: forwarding
            // made the physical IRQ active to match, and the guest's EOI
            // through this LR cannot reach it -- deactivate it here.
            gic_.write(gic::Block::gicd, pcpu, gic::gicd::icactiver + 4 * (irq->hwintid / 32), 1u << (irq->hwintid % 32));
            cost += gic_.access_cost(gic::Block::gicd);
        }
        if (!irq->edge && st == ListRegister::State::invalid && lr.eoi()) {
            acked[nr_acked++] = irq->intid; // the guest EOIed a level interrupt
            ++eoi_maintenance_[irq->intid];
        }
        gic_.write(gic::Block::gich, pcpu, gic::gich::lr0 + 4 * n, 0); // LR freed (clears its EISR bit)
        cost += access;
        v.in_lr[n] = nullptr;
    }
    v.used_lrs = 0;
    v.vmcr = gic_.read(gic::Block::gich, pcpu, gic::gich::vmcr);
    v.apr = gic_.read(gic::Block::gich, pcpu, gic::gich::apr);
    cost += access * 2;
    // vgic_v2_save_state: the interface is off while the host runs, so an
    // underflow request cannot keep the maintenance interrupt asserted.
    gic_.write(gic::Block::gich, pcpu, gic::gich::hcr, 0);
    cost += access;
    v.loaded_on = -1;
    prune(vcpu);
    // Ack notifiers run last: they may inject (the resampler lowers the line).
    for (unsigned k = 0; k < nr_acked; ++k) {
        if (ack_notifier_) ack_notifier_(acked[k]);
    }
    return cost;
}

bool Vgic::has_pending(unsigned vcpu) const
{
    for (const auto& irq : vcpus_.at(vcpu)->ap_list) {
        if (irq.pending() && irq.enabled && enabled_) return true;
    }
    return false;
}

std::size_t Vgic::ap_list_size(unsigned vcpu) const { return vcpus_.at(vcpu)->ap_list.size(); }
bool Vgic::overflowed(unsigned vcpu) const { return vcpus_.at(vcpu)->overflow; }

// --- the saved CPU interface (vgic_mmio_read_vcpuif / vgic_mmio_write_vcpuif) ----------

namespace {
// GICC offsets (IHI 0048B 4.4) and the GICH_VMCR fields behind them.
constexpr std::uint32_t kGiccCtlr = 0x00, kGiccPmr = 0x04, kGiccBpr = 0x08, kGiccAbpr = 0x1C, kGiccApr0 = 0xD0,
                        kGiccApr3 = 0xDC, kGiccIidr = 0xFC;
/// GICC_CTLR's bits as GICH_VMCR holds them: EnableGrp0/1, AckCtl, FIQEn, CBPR, EOImode.
constexpr std::uint32_t kVmcrCtlrMask = gic::gich::vmcr_veng0 | gic::gich::vmcr_veng1 | gic::gich::vmcr_vackctl |
                                        gic::gich::vmcr_vfiqen | gic::gich::vmcr_vcbpr | gic::gich::vmcr_vem;
/// KVM's GICC_IIDR: product KVM (0x4B), architecture v2, implementer ARM (0x43B).
constexpr std::uint32_t kKvmGiccIidr = (0x4Bu << 20) | (0x2u << 16) | 0x43Bu;
} // namespace

bool Vgic::cpuif_has(std::uint32_t off)
{
    if (off & 3) return false;
    return off == kGiccCtlr || off == kGiccPmr || off == kGiccBpr || off == kGiccAbpr || off == kGiccIidr ||
           (off >= kGiccApr0 && off <= kGiccApr3);
}

std::uint32_t Vgic::cpuif_read(unsigned vcpu, std::uint32_t off) const
{
    const Vcpu& v = *vcpus_.at(vcpu);
    if (!cpuif_has(off)) return 0;
    switch (off) {
    case kGiccCtlr: return v.vmcr & kVmcrCtlrMask;
    case kGiccPmr: return (v.vmcr >> gic::gich::vmcr_vpmr_shift) << 3; // 5 priority bits, in GICC_PMR[7:3]
    case kGiccBpr: return (v.vmcr >> gic::gich::vmcr_vbpr_shift) & 7;
    case kGiccAbpr: return (v.vmcr >> gic::gich::vmcr_vabpr_shift) & 7;
    case kGiccIidr: return kKvmGiccIidr;
    default: return off == kGiccApr0 ? v.apr : 0; // vgic_mmio_read_apr: one APR on a v2 interface
    }
}

void Vgic::cpuif_write(unsigned vcpu, std::uint32_t off, std::uint32_t value)
{
    Vcpu& v = *vcpus_.at(vcpu);
    if (!cpuif_has(off)) return;
    auto field = [&](unsigned shift, std::uint32_t mask, std::uint32_t val) {
        v.vmcr = (v.vmcr & ~(mask << shift)) | ((val & mask) << shift);
    };
    switch (off) {
    case kGiccCtlr: v.vmcr = (v.vmcr & ~kVmcrCtlrMask) | (value & kVmcrCtlrMask); break;
    case kGiccPmr: field(gic::gich::vmcr_vpmr_shift, 0x1F, value >> 3); break;
    case kGiccBpr: field(gic::gich::vmcr_vbpr_shift, 7, value); break;
    case kGiccAbpr: field(gic::gich::vmcr_vabpr_shift, 7, value); break;
    case kGiccApr0: v.apr = value; break;
    default: break; // IIDR, APR1..3: write-ignored
    }
}

// The emulated distributor decodes through the one GICD map (gicd_map.h),
// as vgic-mmio-v2.c does through its table, and keeps its own semantics per
// register below.  IGROUPR, CPENDSGIR and SPENDSGIR read as zero and ignore
// writes here (the model's guests use group 0 and SGIR).
std::uint32_t Vgic::dist_read(unsigned vcpu, std::uint32_t off, sim::Cycles& cost)
{
    cost = costs_.mmio_emulate;
    const gic::GicdRange* r = gic::gicd_decode(off);
    if (r == nullptr) return 0;
    const unsigned first = r->bits_per_irq != 0 ? r->intid_at(off) : 0;
    auto bits = [&](auto pred) {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < 32; ++i) {
            const VirtualIrq* irq = lookup(vcpu, first + i);
            if (irq != nullptr && pred(*irq)) v |= 1u << i;
        }
        return v;
    };
    using R = gic::GicdRegister;
    switch (r->reg) {
    case R::ctlr: return off == r->offset && enabled_ ? 1u : 0u;
    case R::typer: return off == r->offset ? ((nr_irqs_ / 32 - 1) & 0x1F) | ((nr_vcpus() - 1) << 5) : 0u;
    case R::iidr: return off == r->offset ? 0x4B00243B : 0u; // KVM's vgic-v2 IIDR
    case R::isenabler:
    case R::icenabler: return bits([](auto& i) { return i.enabled; });
    case R::ispendr:
    case R::icpendr: return bits([](auto& i) { return i.pending(); });
    case R::isactiver:
    case R::icactiver: return bits([](auto& i) { return i.active; });
    case R::ipriorityr: {
        std::uint32_t v = 0;
        for (unsigned b = 0; b < 4; ++b) {
            if (const VirtualIrq* irq = lookup(vcpu, first + b)) v |= std::uint32_t{irq->priority} << (8 * b);
        }
        return v;
    }
    case R::itargetsr: {
        std::uint32_t v = 0;
        for (unsigned b = 0; b < 4; ++b) {
            const unsigned id = first + b;
            if (const VirtualIrq* irq = lookup(vcpu, id)) v |= (1u << (id < kPrivate ? vcpu : irq->target_vcpu)) << (8 * b);
        }
        return v;
    }
    case R::icfgr: {
        std::uint32_t v = 0;
        for (unsigned i = 0; i < 16; ++i) {
            if (const VirtualIrq* irq = lookup(vcpu, first + i); irq != nullptr && irq->edge) v |= 2u << (2 * i);
        }
        return v;
    }
    case R::igroupr:
    case R::sgir:
    case R::cpendsgir:
    case R::spendsgir:
    case R::pidr: return 0;
    }
    return 0;
}

// --- guest writes to an interrupt's state (vgic-mmio.c) ----------------------------
// Each first halts a running vCPU that holds the interrupt in a list register
// (vgic_access_active_prepare), so it changes the exact state and no LR of a
// running vCPU is left contradicting it.  On a mapped interrupt the physical
// side follows, as Linux's vgic_hw_irq_change_active and the HW branches of
// vgic_mmio_write_spending / vgic_hw_irq_cpending do; otherwise a physical
// IRQ would stay active forever after the guest clears its active bit.

void Vgic::change_active(unsigned vcpu, VirtualIrq& irq, bool active)
{
    (void)sync_listed(vcpu, irq.intid);
    irq.active = active;
    if (irq.hw && phys_state_) phys_state_(irq.hwintid, host::IrqchipState::active, active);
}

void Vgic::change_pending(unsigned vcpu, VirtualIrq& irq, bool pending)
{
    (void)sync_listed(vcpu, irq.intid);
    irq.pending_latch = pending;
    if (!irq.hw || !phys_state_) return;
    // ISPENDR: the physical IRQ is made active so the guest's EOI through
    // the HW LR has something to deactivate and the line cannot fire on top
    // of the pending the guest set.  ICPENDR: the physical pending state is
    // cleared too (an edge the guest discards), and unless the guest still
    // has it active so is the physical active state, so the guest cannot
    // mask the physical IRQ by a set-then-clear of its pending bit.
    if (pending) {
        phys_state_(irq.hwintid, host::IrqchipState::active, true);
        return;
    }
    phys_state_(irq.hwintid, host::IrqchipState::pending, false);
    if (!irq.active) phys_state_(irq.hwintid, host::IrqchipState::active, false);
}

void Vgic::dist_write(unsigned vcpu, std::uint32_t off, std::uint32_t value, sim::Cycles& cost)
{
    cost = costs_.mmio_emulate;
    const gic::GicdRange* r = gic::gicd_decode(off);
    if (r == nullptr) return;
    const unsigned first = r->bits_per_irq != 0 ? r->intid_at(off) : 0;
    auto each = [&](auto action) {
        for (unsigned i = 0; i < 32; ++i) {
            if (!(value >> i & 1u)) continue;
            if (VirtualIrq* irq = lookup(vcpu, first + i)) {
                action(*irq);
                queue(*irq);
            }
        }
    };
    using R = gic::GicdRegister;
    switch (r->reg) {
    case R::ctlr:
        if (off != r->offset) return;
        enabled_ = value & 1u;
        if (enabled_) {
            for (unsigned v = 0; v < nr_vcpus(); ++v)
                for (auto& irq : vcpus_[v]->private_irqs) queue(irq);
            for (auto& irq : spis_) queue(irq);
        }
        return;
    case R::isenabler: each([](VirtualIrq& i) { i.enabled = true; }); return;
    case R::icenabler: each([](VirtualIrq& i) { if (i.intid >= 16) i.enabled = false; }); return;
    case R::ispendr: each([&](VirtualIrq& i) { change_pending(vcpu, i, true); }); return;
    case R::icpendr: each([&](VirtualIrq& i) { change_pending(vcpu, i, false); }); return;
    case R::isactiver: each([&](VirtualIrq& i) { change_active(vcpu, i, true); }); return;
    case R::icactiver: each([&](VirtualIrq& i) { change_active(vcpu, i, false); }); return;
    case R::ipriorityr:
        for (unsigned b = 0; b < 4; ++b) {
            if (VirtualIrq* irq = lookup(vcpu, first + b)) irq->priority = (value >> (8 * b)) & 0xF8;
        }
        return;
    case R::itargetsr:
        for (unsigned b = 0; b < 4; ++b) {
            const unsigned id = first + b;
            const unsigned targets = (value >> (8 * b)) & ((1u << nr_vcpus()) - 1);
            VirtualIrq* irq = lookup(vcpu, id);
            if (irq != nullptr && id >= kPrivate && targets != 0) {
                irq->target_vcpu = static_cast<unsigned>(std::countr_zero(targets)); // first listed vCPU
            }
        }
        return;
    case R::icfgr:
        for (unsigned i = 0; i < 16; ++i) {
            VirtualIrq* irq = lookup(vcpu, first + i);
            if (irq != nullptr && irq->intid >= 16) irq->edge = (value >> (2 * i + 1)) & 1u;
        }
        return;
    case R::sgir: {
        if (off != r->offset) return;
        const unsigned sgi = value & 0xF;
        const unsigned filter = (value >> 24) & 3;
        for (unsigned t = 0; t < nr_vcpus(); ++t) {
            const bool hit = filter == 0 ? ((value >> 16) >> t & 1u) : filter == 1 ? t != vcpu : filter == 2 ? t == vcpu : false;
            if (hit) {
                VirtualIrq& irq = vcpus_[t]->private_irqs[sgi];
                irq.pending_latch = true;
                queue(irq);
            }
        }
        return;
    }
    case R::typer:
    case R::iidr:
    case R::igroupr:
    case R::cpendsgir:
    case R::spendsgir:
    case R::pidr: return;
    }
}

} // namespace fwdsim::arch
