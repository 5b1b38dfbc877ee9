// The CPU interface (GICC, IHI 0048B 4.4): acknowledge, priority drop,
// deactivation and the interface's register file.  Word accesses only.
#include "gic_impl.h"

namespace fwdsim::gic {

/// GICC_IAR.
std::uint32_t Gic::Impl::acknowledge(unsigned cpu)
{
    const Candidate* c = highest(cpu, true);
    if (c == nullptr) return spurious_intid;
    CpuInterface& ci = cpus[cpu];
    const unsigned intid = c->intid;
    IrqState* s = state(cpu, intid);
    if (s->group1 && !(ci.ctlr & gicc_ctlr_ackctl)) return 1022; // group 1 needs AckCtl
    unsigned source = 0;
    if (intid < kSgis) {
        std::uint8_t& src = ci.sgi_sources[intid];
        source = static_cast<unsigned>(std::countr_zero(src));
        src = static_cast<std::uint8_t>(src & ~(1u << source));
    } else {
        s->latch = false;
    }
    s->active = true;
    ci.running.push_back({intid, source, s->priority});
    ci.running_priority = std::min(ci.running_priority, s->priority);
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
/// The running priority those acknowledged interrupts give (0xFF: idle).
std::uint8_t Gic::Impl::highest_running(const std::vector<ActivePriority>& running)
{
    std::uint8_t rp = 0xFF;
    for (const auto& a : running) rp = std::min(rp, a.priority);
    return rp;
}
void Gic::Impl::end_of_interrupt(unsigned cpu, std::uint32_t value)
{
    const unsigned intid = value & 0x3FF;
    const unsigned source = (value >> 10) & 7;
    if (intid >= params.num_irqs) return;
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
    if (!(ci.ctlr & gicc::ctlr_eoimode)) deactivate(cpu, intid);
    // gicc_write, the only caller, updates the output.
}
void Gic::Impl::deactivate(unsigned cpu, unsigned intid)
{
    IrqState* s = state(cpu, intid);
    if (s == nullptr || !s->active) return;
    s->active = false;
    changed(cpu, intid);
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
    case gicc::rpr: return running_priority(cpu);
    case gicc::hppir: {
        const Candidate* c = highest(cpu, false);
        if (c == nullptr) return spurious_intid;
        if (c->intid < kSgis) return c->intid | (static_cast<unsigned>(std::countr_zero(ci.sgi_sources[c->intid])) << 10);
        return c->intid;
    }
    // GICC_AIAR, AEOIR, AHPPIR are Secure aliases that exist only with the
    // Security Extensions: RAZ/WI here (QEMU agrees).  Group 1 interrupts
    // are acknowledged through GICC_IAR with AckCtl set.
    case gicc::apr0: {
        std::uint32_t bits = 0;
        for (const auto& a : ci.running) bits |= 1u << ((a.priority & group_mask(ci.bpr)) >> 3);
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
        // so the bypass-disable bits [8:5] are RAZ/WI.
        ci.ctlr = v & 0x21F;
        refresh_cpu(cpu);
        break;
    case gicc::pmr: ci.pmr = static_cast<std::uint8_t>(v & prio_mask); break;
    case gicc::bpr: ci.bpr = static_cast<std::uint8_t>(std::max<unsigned>(v & 7, bpr_min)); break;
    case gicc::abpr: ci.abpr = static_cast<std::uint8_t>(std::max<unsigned>(v & 7, bpr_min + 1u)); break;
    case gicc::eoir: end_of_interrupt(cpu, v); break;
    case gicc::dir: deactivate(cpu, v & 0x3FF); break;
    default: return; // RO, reserved
    }
    schedule_irq_update(cpu);
}

} // namespace fwdsim::gic
