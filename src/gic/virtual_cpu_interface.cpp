// The virtual CPU interface (GICV, IHI 0048B 5.5): a CPU interface fed by
// the list registers of its CPU's GICH.  Word accesses only.
//
// Groups come from each LR's Grp1 bit and GICV_CTLR, which is GICH_VMCR's
// VENG0/VENG1/VAckCtl/VFIQEn/VCBPR/VEM: the same answers as GICC's
// (cpu_interface.cpp) for IAR/HPPIR and their aliases.  EOIs follow 5.3.1's
// GICH_HCR.EOICount rules: with EOImode 0, a GICV_EOIR that drops a
// priority (clears a GICH_APR bit) and finds no LR holding the interrupt
// active counts one; with EOImode 1, so does a GICV_DIR that finds none.
// Writes of IDs 1020-1023 are ignored; GICV_DIR with EOImode 0 too
// (UNPREDICTABLE; QEMU ignores it as well).
#include "gic_impl.h"

namespace fwdsim::gic {

/// GICV_IAR.
std::uint32_t Gic::Impl::virtual_acknowledge(unsigned cpu)
{
    CpuInterface& ci = cpus[cpu];
    if (!(ci.hcr & gich::hcr_en)) return spurious_intid;
    const int n = highest_lr(cpu, true);
    if (n < 0) return spurious_intid;
    if (ci.lrs[static_cast<unsigned>(n)].grp1() && !(ci.vmcr & gich::vmcr_vackctl)) [[unlikely]]
        return group1_withheld_intid;
    return virtual_take(cpu, static_cast<unsigned>(n));
}
/// GICV_AIAR: group 1 LRs only, whatever VAckCtl.  Out of IAR's way.
std::uint32_t Gic::Impl::virtual_acknowledge_group1(unsigned cpu)
{
    CpuInterface& ci = cpus[cpu];
    if (!(ci.hcr & gich::hcr_en)) return spurious_intid;
    const int n = highest_lr(cpu, true);
    if (n < 0 || !ci.lrs[static_cast<unsigned>(n)].grp1()) return spurious_intid;
    return virtual_take(cpu, static_cast<unsigned>(n));
}
/// GICV_HPPIR, or with `alias` GICV_AHPPIR.
std::uint32_t Gic::Impl::virtual_highest_pending_id(unsigned cpu, bool alias)
{
    const CpuInterface& ci = cpus[cpu];
    const int n = highest_lr(cpu, false);
    if (n < 0) return spurious_intid;
    const ListRegister& lr = ci.lrs[static_cast<unsigned>(n)];
    if (alias && !lr.grp1()) return spurious_intid;
    if (!alias && lr.grp1() && !(ci.vmcr & gich::vmcr_vackctl)) return group1_withheld_intid;
    return lr.virtual_id();
}
/// Makes pending LR `n` active.
std::uint32_t Gic::Impl::virtual_take(unsigned cpu, unsigned n)
{
    CpuInterface& ci = cpus[cpu];
    ListRegister& lr = ci.lrs[n];
    const unsigned was = lr_sets(lr.raw);
    lr.set_state(ListRegister::State::active);
    note_lr(ci, n, was);
    ci.apr |= 1u << (virtual_group_priority(ci, lr) >> 3);
    std::uint32_t id = lr.virtual_id();
    if (!lr.hw() && id < kSgis) id |= lr.cpuid() << 10;
    virtual_changed(cpu);
    return id;
}
/// Deactivates the LR that holds `value`'s interrupt active; false when
/// none does.
bool Gic::Impl::deactivate_lr(unsigned cpu, std::uint32_t value)
{
    CpuInterface& ci = cpus[cpu];
    const unsigned vintid = value & 0x3FF;
    const unsigned source = (value >> 10) & 7;
    // Only the active and the pending and active LRs can hold it.
    for (std::uint64_t held = ci.lr_valid & ~ci.lr_pending; held != 0; held &= held - 1) {
        const auto n = static_cast<unsigned>(std::countr_zero(held));
        ListRegister& lr = ci.lrs[n];
        const auto st = lr.state();
        if (lr.virtual_id() != vintid) continue;
        if (!lr.hw() && vintid < kSgis && lr.cpuid() != source) continue;
        const unsigned was = lr_sets(lr.raw);
        lr.set_state(st == ListRegister::State::pending_active ? ListRegister::State::pending
                                                                : ListRegister::State::invalid);
        note_lr(ci, n, was);
        if (lr.hw()) {
            // 5.4: the guest's deactivation of a hardware interrupt
            // deactivates the physical one in the distributor.
            deactivate(cpu, lr.physical_id());
        }
        return true;
    }
    return false;
}
/// GICH_HCR.EOICount counts up, wrapping from 31 to 0.
static void count_eoi(CpuInterface& ci)
{
    const std::uint32_t count = ((ci.hcr >> gich::hcr_eoicount_shift) + 1) & 0x1F;
    ci.hcr = (ci.hcr & ~(0x1Fu << gich::hcr_eoicount_shift)) | (count << gich::hcr_eoicount_shift);
}
/// GICV_DIR.
void Gic::Impl::virtual_deactivate(unsigned cpu, std::uint32_t value)
{
    CpuInterface& ci = cpus[cpu];
    if ((value & 0x3FF) >= 1020 || !(ci.vmcr & gich::vmcr_vem)) return;
    if (!deactivate_lr(cpu, value)) count_eoi(ci);
    virtual_changed(cpu);
}
/// GICV_EOIR and GICV_AEOIR.
void Gic::Impl::virtual_eoi(unsigned cpu, std::uint32_t value)
{
    CpuInterface& ci = cpus[cpu];
    if ((value & 0x3FF) >= 1020) return;
    const bool dropped = ci.apr != 0;
    if (dropped) ci.apr &= ci.apr - 1; // drop the highest active priority
    if (!(ci.vmcr & gich::vmcr_vem) && !deactivate_lr(cpu, value) && dropped) count_eoi(ci);
    virtual_changed(cpu);
}

std::uint32_t Gic::Impl::gicv_read(unsigned cpu, std::uint32_t off)
{
    CpuInterface& ci = cpus[cpu];
    switch (off) {
    case gicc::ctlr:
        return (ci.vmcr & (gich::vmcr_veng0 | gich::vmcr_veng1 | 0x1Cu)) | ((ci.vmcr & gich::vmcr_vem) ? gicc::ctlr_eoimode : 0);
    case gicc::pmr: return vpmr(ci);
    case gicc::bpr: return vbpr(ci);
    case gicc::abpr: return (ci.vmcr >> gich::vmcr_vabpr_shift) & 7;
    case gicc::iar: return virtual_acknowledge(cpu);
    case gicc::aiar: return virtual_acknowledge_group1(cpu);
    case gicc::rpr: return virtual_running_priority(ci);
    case gicc::hppir: return virtual_highest_pending_id(cpu, false);
    case gicc::ahppir: return virtual_highest_pending_id(cpu, true);
    case gicc::apr0: return ci.apr;
    case gicc::iidr: return params.iidr;
    default: return 0;
    }
}

void Gic::Impl::gicv_write(unsigned cpu, std::uint32_t off, std::uint32_t v)
{
    CpuInterface& ci = cpus[cpu];
    auto set_field = [&](unsigned shift, std::uint32_t width_mask, std::uint32_t value) {
        ci.vmcr = (ci.vmcr & ~(width_mask << shift)) | ((value & width_mask) << shift);
    };
    switch (off) {
    case gicc::ctlr:
        ci.vmcr = (ci.vmcr & ~(gich::vmcr_veng0 | gich::vmcr_veng1 | 0x1Cu | gich::vmcr_vem)) |
                  (v & (gich::vmcr_veng0 | gich::vmcr_veng1 | 0x1Cu)) | ((v & gicc::ctlr_eoimode) ? gich::vmcr_vem : 0);
        break;
    case gicc::pmr: set_field(gich::vmcr_vpmr_shift, 0x1F, v >> 3); break;
    case gicc::bpr: set_field(gich::vmcr_vbpr_shift, 7, std::max<std::uint32_t>(v & 7, 2)); break;
    case gicc::abpr: set_field(gich::vmcr_vabpr_shift, 7, std::max<std::uint32_t>(v & 7, 3)); break;
    case gicc::eoir:
    case gicc::aeoir: virtual_eoi(cpu, v); return;
    case gicc::dir: virtual_deactivate(cpu, v); return;
    case gicc::apr0: ci.apr = v; break;
    default: return;
    }
    virtual_changed(cpu);
}

} // namespace fwdsim::gic
