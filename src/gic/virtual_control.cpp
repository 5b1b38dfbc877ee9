// The virtual interface control (GICH, IHI 0048B 5.3): the hypervisor's
// view of each CPU's list registers and virtual CPU interface.  Word
// accesses only; a GICH access is always that of the accessing CPU.
#include "gic_impl.h"

namespace fwdsim::gic {

std::uint32_t Gic::Impl::gich_read(unsigned cpu, std::uint32_t off)
{
    CpuInterface& ci = cpus[cpu];
    if (off >= gich::lr0 && off < gich::lr0 + 4 * params.num_lrs) return ci.lrs[(off - gich::lr0) / 4].raw;
    switch (off) {
    case gich::hcr: return ci.hcr;
    case gich::vtr: return (params.num_lrs - 1) | (4u << 26) | (4u << 29); // 5 preemption and priority bits
    case gich::vmcr: return ci.vmcr;
    case gich::misr: return misr(ci);
    case gich::eisr0: return static_cast<std::uint32_t>(ci.lr_eoi);
    case gich::eisr1: return static_cast<std::uint32_t>(ci.lr_eoi >> 32);
    case gich::elrsr0: return static_cast<std::uint32_t>(empty_lrs(ci));
    case gich::elrsr1: return static_cast<std::uint32_t>(empty_lrs(ci) >> 32);
    case gich::apr: return ci.apr;
    default: return 0;
    }
}

void Gic::Impl::gich_write(unsigned cpu, std::uint32_t off, std::uint32_t v)
{
    CpuInterface& ci = cpus[cpu];
    std::uint32_t* reg = nullptr;
    const unsigned lr = (off - gich::lr0) / 4;
    const bool is_lr = off >= gich::lr0 && lr < params.num_lrs;
    if (is_lr) {
        reg = &ci.lrs[lr].raw;
        v &= ~(7u << 20); // bits [22:20] are reserved (RAZ/WI)
    } else if (off == gich::hcr) {
        reg = &ci.hcr;
        v &= 0xFFu | (0x1Fu << gich::hcr_eoicount_shift);
    } else if (off == gich::vmcr) {
        reg = &ci.vmcr;
        // VBPR and VABPR alias GICV_BPR/ABPR, which never read below their
        // minimum (2 and 3 with five virtual priority bits).
        v = (v & (gich::vmcr_veng0 | gich::vmcr_veng1 | 0x1Cu | gich::vmcr_vem | (0x1Fu << gich::vmcr_vpmr_shift))) |
            std::max<std::uint32_t>((v >> gich::vmcr_vbpr_shift) & 7, 2) << gich::vmcr_vbpr_shift |
            std::max<std::uint32_t>((v >> gich::vmcr_vabpr_shift) & 7, 3) << gich::vmcr_vabpr_shift;
    } else if (off == gich::apr) {
        reg = &ci.apr;
    } else {
        return;
    }
    // KVM's world switch rewrites HCR, VMCR and APR on every entry, mostly
    // with what they already hold.  The outputs depend only on the state, and
    // every change re-derives them, so an unchanged register needs nothing.
    if (*reg == v) return;
    const std::uint32_t old = *reg;
    *reg = v;
    if (is_lr) {
        // An LR that neither was nor is pending, and whose write leaves it
        // in the same valid and EOI sets, feeds neither nVIRQ nor GICH_MISR:
        // e.g. the fold's clearing of an LR the guest already deactivated.
        const unsigned was = lr_sets(old);
        if (was == lr_sets(v) && !(was & kInPending)) return;
        note_lr(ci, lr, was);
    }
    // While GICH_HCR.En stays off the interface signals nothing, and the
    // outputs were re-derived when it went off: the world switch's writes
    // of VMCR, APR and the LRs before it sets En change neither.
    if (!(ci.hcr & gich::hcr_en) && reg != &ci.hcr) return;
    virtual_changed(cpu);
}

} // namespace fwdsim::gic
