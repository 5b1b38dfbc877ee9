// The CPU interface (GICC, IHI 0048B 4.4): acknowledge, priority drop,
// deactivation and the interface's register file.  Word accesses only.
//
// Groups without the Security Extensions (3.5-3.7, 4.4): GICC_IAR and
// GICC_HPPIR answer for both groups, but a group 1 interrupt only with
// AckCtl set (else 1022, and IAR acknowledges nothing); the aliases
// GICC_AIAR and GICC_AHPPIR answer for group 1 alone (1023 when the
// highest-priority pending interrupt is group 0), GICC_AEOIR completes as
// GICC_EOIR does, and GICC_ABPR splits group 1 priorities unless CBPR.
#include "gic_impl.h"

namespace fwdsim::gic {

/// Makes candidate `cand` (state `st`) active at `cpu`.
inline std::uint32_t Gic::Impl::acknowledge_take(unsigned cpu, const Candidate& cand, IrqState& st)
{
    CpuInterface& ci = cpus[cpu];
    const unsigned intid = cand.intid;
    IrqState* s = &st;
    unsigned source = 0;
    if (intid < kSgis) {
        std::uint8_t& src = ci.sgi_sources[intid];
        source = static_cast<unsigned>(std::countr_zero(src));
        src = static_cast<std::uint8_t>(src & ~(1u << source));
    } else {
        s->latch = false;
    }
    s->active = true;
    const std::uint8_t gp = group_priority(ci, s->priority, s->group1);
    ci.running.push_back({intid, source, gp});
    ci.running_priority = std::min(ci.running_priority, gp);
    // changed(cpu, intid), knowing that an active interrupt is no CPU's
    // candidate: each CPU that may hold it drops it.
    if (intid < kBanked) {
        unfile(cpu, intid, *s);
        schedule_irq_update(cpu);
    } else {
        unsigned cpus_to_visit = params.num_cpus == 1 ? 1u : static_cast<unsigned>(s->targets | s->listed_on);
        while (cpus_to_visit != 0) {
            const unsigned c = static_cast<unsigned>(std::countr_zero(cpus_to_visit));
            cpus_to_visit &= cpus_to_visit - 1;
            unfile(c, intid, *s);
            schedule_irq_update(c);
        }
    }
    return intid | (source << 10);
}
/// GICC_IAR.
std::uint32_t Gic::Impl::acknowledge(unsigned cpu)
{
    const Candidate* c = highest(cpu, true);
    if (c == nullptr) return spurious_intid;
    IrqState& s = *state(cpu, c->intid);
    if (s.group1 && !(cpus[cpu].ctlr & gicc::ctlr_ackctl)) [[unlikely]]
        return group1_withheld_intid;
    return acknowledge_take(cpu, *c, s);
}
/// GICC_AIAR: group 1 only, whatever AckCtl.  Out of IAR's way.
std::uint32_t Gic::Impl::acknowledge_group1(unsigned cpu)
{
    const Candidate* c = highest(cpu, true);
    if (c == nullptr) return spurious_intid;
    IrqState& s = *state(cpu, c->intid);
    return s.group1 ? acknowledge_take(cpu, *c, s) : spurious_intid;
}
/// GICC_HPPIR, or with `alias` GICC_AHPPIR.
std::uint32_t Gic::Impl::highest_pending_id(unsigned cpu, bool alias)
{
    const Candidate* c = highest(cpu, false);
    if (c == nullptr) return spurious_intid;
    const bool group1 = state(cpu, c->intid)->group1;
    if (alias && !group1) return spurious_intid;
    if (!alias && group1 && !(cpus[cpu].ctlr & gicc::ctlr_ackctl)) return group1_withheld_intid;
    if (c->intid < kSgis) return c->intid | (static_cast<unsigned>(std::countr_zero(cpus[cpu].sgi_sources[c->intid])) << 10);
    return c->intid;
}
/// GICC_AEOIR: a group 0 interrupt's ID is ignored, as a Non-secure
/// GICC_EOIR write of one is.
void Gic::Impl::end_of_group1_interrupt(unsigned cpu, std::uint32_t value)
{
    const IrqState* s = state(cpu, value & 0x3FF);
    if (s != nullptr && s->group1) end_of_interrupt(cpu, value);
}
/// The running priority those acknowledged interrupts give (0xFF: idle).
std::uint8_t Gic::Impl::highest_running(const std::vector<ActivePriority>& running)
{
    std::uint8_t rp = 0xFF;
    for (const auto& a : running) rp = std::min(rp, a.priority);
    return rp;
}
/// Priority drop, and with EOImode 0 deactivation; true when the
/// deactivation already re-derived `cpu`'s outputs (see deactivate()).
bool Gic::Impl::end_of_interrupt(unsigned cpu, std::uint32_t value)
{
    const unsigned intid = value & 0x3FF;
    const unsigned source = (value >> 10) & 7;
    if (intid >= params.num_irqs) return false;
    CpuInterface& ci = cpus[cpu];
    auto& run = ci.running;
    for (auto it = run.rbegin(); it != run.rend(); ++it) {
        if (it->intid == intid && (intid >= kSgis || it->source == source)) {
            run.erase(std::next(it).base());
            // Nested interrupts are rare: the recount is short.
            ci.running_priority = highest_running(run);
            break;
        }
    }
    // gicc_write updates the outputs, unless the deactivation did.
    return !(ci.ctlr & gicc::ctlr_eoimode) && deactivate(cpu, intid);
}
/// True when it changed the state and so re-derived the outputs of `cpu`
/// among others (changed() visits the CPUs an SPI targets or is filed at):
/// then gicc_write need not do it again.
bool Gic::Impl::deactivate(unsigned cpu, unsigned intid)
{
    IrqState* s = state(cpu, intid);
    if (s == nullptr || !s->active) return false;
    s->active = false;
    // An SPI that stays filed nowhere moves no output (may_be_filed):
    // changed() re-derives nothing, so `cpu`'s outputs are left to the caller.
    if (intid >= kBanked && !may_be_filed(*s)) return false;
    changed(cpu, intid);
    return intid < kBanked || params.num_cpus == 1 || ((s->targets | s->listed_on) >> cpu & 1u) != 0;
}

std::uint32_t Gic::Impl::gicc_read(unsigned cpu, std::uint32_t off)
{
    CpuInterface& ci = cpus[cpu];
    switch (off) {
    case gicc::ctlr: return ci.ctlr;
    case gicc::pmr: return ci.pmr;
    case gicc::bpr: return ci.bpr;
    case gicc::abpr: return ci.abpr;
    // acknowledge() schedules the nIRQ update when it changes the state.
    case gicc::iar: return acknowledge(cpu);
    case gicc::aiar: return acknowledge_group1(cpu);
    case gicc::rpr: return running_priority(cpu);
    case gicc::hppir: return highest_pending_id(cpu, false);
    case gicc::ahppir: return highest_pending_id(cpu, true);
    case gicc::apr0: {
        std::uint32_t bits = 0;
        for (const auto& a : ci.running) bits |= 1u << (a.priority >> 3);
        return bits;
    }
    case gicc::iidr: return params.iidr;
    default: return 0;
    }
}

void Gic::Impl::gicc_write(unsigned cpu, std::uint32_t off, std::uint32_t v)
{
    CpuInterface& ci = cpus[cpu];
    switch (off) {
    case gicc::ctlr:
        // EnableGrp0/1, AckCtl, FIQEn, CBPR and EOImode; no bypass support,
        // so the bypass-disable bits [8:5] are RAZ/WI.  EOImodeNS [10] is
        // the Secure copy's, with the Security Extensions only: EOImode
        // governs both EOIR and AEOIR here.
        ci.ctlr = v & 0x21F;
        fiq_armed = fiq_armed || (ci.ctlr & gicc::ctlr_fiqen) != 0;
        refresh_cpu(cpu);
        break;
    case gicc::pmr: ci.pmr = static_cast<std::uint8_t>(v & prio_mask); break;
    case gicc::bpr: ci.bpr = static_cast<std::uint8_t>(std::max<unsigned>(v & 7, bpr_min)); break;
    case gicc::abpr: ci.abpr = static_cast<std::uint8_t>(std::max<unsigned>(v & 7, bpr_min + 1u)); break;
    case gicc::eoir:
        if (end_of_interrupt(cpu, v)) return;
        // A priority drop changes no candidate set: with none filed here,
        // both before and after it, nIRQ and nFIQ stay low.
        if (ci.candidates.empty()) return;
        break;
    case gicc::aeoir: end_of_group1_interrupt(cpu, v); break;
    case gicc::dir:
        // The deactivation is the only change, and deactivate() re-derives
        // every output it can move (`cpu`'s included, where it can).
        deactivate(cpu, v & 0x3FF);
        return;
    default: return; // RO, reserved
    }
    schedule_irq_update(cpu);
}

} // namespace fwdsim::gic
