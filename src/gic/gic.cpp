// The GICv2 model's public face (include/fwdsim/gic/gic.h): construction,
// the signal events, the front doors that dispatch to each block, input
// lines, outputs and the self-check.  Section numbers refer to ARM IHI 0048B.
#include "gic_impl.h"

#include <stdexcept>
#include <string>

namespace fwdsim::gic {

GicCosts GicCosts::from_profile(const sim::CostProfile& p)
{
    GicCosts c;
    c.line_to_distributor = p.get("gic.line_to_distributor");
    c.distributor_to_cpuif = p.get("gic.distributor_to_cpuif");
    c.cpuif_to_irq = p.get("gic.cpuif_to_irq");
    c.gicd_access = p.get("gic.gicd_access");
    c.gicc_access = p.get("gic.gicc_access");
    c.gich_access = p.get("gic.gich_access");
    c.gicv_access = p.get("gic.gicv_access");
    c.lr_update_to_virq = p.get("gic.lr_update_to_virq");
    return c;
}

namespace {

/// The front doors' argument errors, out of their hot paths.
[[noreturn, gnu::cold, gnu::noinline]] void throw_out_of_range(const char* what, unsigned value)
{
    throw std::out_of_range(what + std::to_string(value));
}
[[noreturn, gnu::cold, gnu::noinline]] void throw_no_ppi(unsigned cpu, unsigned intid)
{
    throw std::out_of_range("Gic::set_ppi_level: no PPI " + std::to_string(intid) + " at CPU " + std::to_string(cpu));
}

} // namespace

template <>
void Gic::Impl::Signal<Gic::Impl::SignalKind::line_arrival>::process()
{
    g.schedule_irq_update(cpu);
}
template <>
void Gic::Impl::Signal<Gic::Impl::SignalKind::nirq>::process()
{
    g.update_irq(cpu);
}
template <>
void Gic::Impl::Signal<Gic::Impl::SignalKind::nvirq>::process()
{
    g.update_virq(cpu);
}
template <>
void Gic::Impl::Signal<Gic::Impl::SignalKind::nfiq>::process()
{
    g.update_fiq(cpu);
}

Gic::Impl::Impl(Gic& o, sim::EventQueue& q, const GicParams& p, const GicCosts& c)
    : owner(o), queue(q), params(p), costs(c)
{
    const auto check = [](const sim::Param& spec, unsigned value, const char* field) {
        if (const std::string why = spec.problem(value); !why.empty())
            throw std::invalid_argument(std::string("GicParams.") + field + " " + why);
    };
    check(kParamIrqs, p.num_irqs, "num_irqs");
    check(kParamCpus, p.num_cpus, "num_cpus");
    check(kParamLrs, p.num_lrs, "num_lrs");
    check(kParamPriorityBits, p.priority_bits, "priority_bits");
    prio_mask = static_cast<std::uint8_t>(0xFF << (8 - p.priority_bits));
    implemented_lrs = p.num_lrs == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << p.num_lrs) - 1;
    // With 8 bits the binary point cannot go below 0 (group priority [7:1]).
    bpr_min = static_cast<std::uint8_t>(p.priority_bits >= 7 ? 0 : 7 - p.priority_bits);
    spis.resize(p.num_irqs - kBanked);
    cpus.resize(p.num_cpus);
    candidate_nodes.resize(static_cast<std::size_t>(p.num_cpus) * p.num_irqs);
    for (unsigned cpu = 0; cpu < p.num_cpus; ++cpu) {
        for (unsigned id = 0; id < p.num_irqs; ++id) candidate_nodes[cpu * p.num_irqs + id].intid = static_cast<std::uint16_t>(id);
        auto& ci = cpus[cpu];
        ci.bpr = bpr_min;
        ci.abpr = static_cast<std::uint8_t>(bpr_min + 1);
        ci.lrs.resize(p.num_lrs);
        // The virtual binary points read at least their minimum (5 virtual
        // priority bits: BPR 2, ABPR 3) from reset.
        ci.vmcr = (2u << gich::vmcr_vbpr_shift) | (3u << gich::vmcr_vabpr_shift);
        for (unsigned id = 0; id < kSgis; ++id) {
            ci.banked[id].edge = true;    // SGIs are edge (ICFGR0 reads 0xAAAAAAAA)
            ci.banked[id].enabled = true; // GIC-400: SGI enables are RAO/WI
        }
        // Events cannot move: build each CpuSignals in place.
        signals.push_back(std::unique_ptr<CpuSignals>(new CpuSignals{
            {*this, cpu, "gic.line_arrival"},
            {*this, cpu, "gic.nirq"},
            {*this, cpu, "gic.nvirq"},
            {*this, cpu, "gic.nfiq"},
        }));
    }
}

// --- what the model caches for speed, recomputed ----------------------------------------

std::string Gic::Impl::self_check()
{
    auto at = [](unsigned cpu) { return "CPU " + std::to_string(cpu) + ": "; };
    for (unsigned cpu = 0; cpu < params.num_cpus; ++cpu) {
        const CpuInterface& ci = cpus[cpu];
        std::uint64_t pending_lrs = 0, valid_lrs = 0, eoi_lrs = 0;
        for (unsigned n = 0; n < ci.lrs.size(); ++n) {
            const LrClass c = classify(ci.lrs[n]);
            const std::uint64_t bit = std::uint64_t{1} << n;
            pending_lrs |= c.pending ? bit : 0;
            valid_lrs |= c.valid ? bit : 0;
            eoi_lrs |= c.eoi ? bit : 0;
        }
        if (pending_lrs != ci.lr_pending || valid_lrs != ci.lr_valid || eoi_lrs != ci.lr_eoi)
            return at(cpu) + "the list registers' state sets disagree with the LRs";
        if (highest_running(ci.running) != ci.running_priority) return at(cpu) + "the running priority disagrees with the acknowledged interrupts";
        if (derive_virq_level(cpu) != ci.virq_level) return at(cpu) + "the filed nVIRQ level disagrees with the virtual interface";
        std::size_t listed = 0;
        for (unsigned id = 0; id < params.num_irqs; ++id) {
            const Candidate& node = candidate_nodes[cpu * params.num_irqs + id];
            const IrqState* st = state(cpu, id);
            if (node.linked != is_candidate(cpu, id) || (node.linked && node.priority != st->priority))
                return at(cpu) + "INTID " + std::to_string(id) + " is misfiled in the candidate set";
            if (id >= kBanked && node.linked != ((st->listed_on >> cpu & 1u) != 0))
                return at(cpu) + "INTID " + std::to_string(id) + "'s listed_on disagrees with the candidate set";
            listed += node.linked ? 1 : 0;
        }
        if (listed != ci.candidates.size()) return at(cpu) + "the candidate set holds a node not marked linked";
    }
    return {};
}

// --- the public face -------------------------------------------------------------------

Gic::Gic(sim::EventQueue& queue, const GicParams& params, const GicCosts& costs)
    : impl_(std::make_unique<Impl>(*this, queue, params, costs))
{
}

Gic::~Gic() = default;

const GicParams& Gic::params() const { return impl_->params; }

std::uint32_t Gic::read(Block block, unsigned cpu, std::uint32_t offset, unsigned size)
{
    Impl& g = *impl_;
    if (cpu >= g.params.num_cpus) [[unlikely]] throw_out_of_range("Gic::read: no CPU interface ", cpu);
    switch (block) {
    case Block::gicd: return g.gicd_read(cpu, offset, size);
    case Block::gicc: return size == 4 && (offset & 3) == 0 ? g.gicc_read(cpu, offset) : 0;
    case Block::gich: return size == 4 && (offset & 3) == 0 ? g.gich_read(cpu, offset) : 0;
    case Block::gicv: return size == 4 && (offset & 3) == 0 ? g.gicv_read(cpu, offset) : 0;
    }
    return 0;
}

void Gic::write(Block block, unsigned cpu, std::uint32_t offset, std::uint32_t value, unsigned size)
{
    Impl& g = *impl_;
    if (cpu >= g.params.num_cpus) [[unlikely]] throw_out_of_range("Gic::write: no CPU interface ", cpu);
    switch (block) {
    case Block::gicd: g.gicd_write(cpu, offset, value, size); return;
    case Block::gicc:
        if (size == 4 && (offset & 3) == 0) g.gicc_write(cpu, offset, value);
        return;
    case Block::gich:
        if (size == 4 && (offset & 3) == 0) g.gich_write(cpu, offset, value);
        return;
    case Block::gicv:
        if (size == 4 && (offset & 3) == 0) g.gicv_write(cpu, offset, value);
        return;
    }
}

sim::Cycles Gic::access_cost(Block block) const
{
    switch (block) {
    case Block::gicd: return impl_->costs.gicd_access;
    case Block::gicc: return impl_->costs.gicc_access;
    case Block::gich: return impl_->costs.gich_access;
    case Block::gicv: return impl_->costs.gicv_access;
    }
    return sim::Cycles{0};
}

void Gic::set_spi_level(unsigned intid, bool level)
{
    Impl& g = *impl_;
    if (intid < kBanked || intid >= g.params.num_irqs) [[unlikely]] throw_out_of_range("Gic::set_spi_level: not an SPI: ", intid);
    IrqState& s = g.spis[intid - kBanked];
    if (level && !s.line && s.edge) s.latch = true; // a rising edge latches (E01)
    s.line = level;
    g.refile_from_line(intid, 0);
}

void Gic::set_ppi_level(unsigned cpu, unsigned intid, bool level)
{
    Impl& g = *impl_;
    if (cpu >= g.params.num_cpus || intid < kSgis || intid >= kBanked) [[unlikely]] throw_no_ppi(cpu, intid);
    IrqState& s = g.cpus[cpu].banked[intid];
    if (level && !s.line && s.edge) s.latch = true;
    s.line = level;
    g.refile_from_line(intid, cpu);
}

void Gic::add_irq_listener(LineListener listener, LineEdges edges)
{
    impl_->irq_listeners.push_back({std::move(listener), edges == LineEdges::both});
    impl_->lazy_irq_falls = Impl::falls_lazily(impl_->irq_listeners);
}
void Gic::add_virq_listener(LineListener listener, LineEdges edges)
{
    impl_->virq_listeners.push_back({std::move(listener), edges == LineEdges::both});
    impl_->lazy_virq_falls = Impl::falls_lazily(impl_->virq_listeners);
}
void Gic::add_fiq_listener(LineListener listener)
{
    impl_->fiq_listeners.push_back({std::move(listener), true});
}
bool Gic::irq_line(unsigned cpu) const { return impl_->irq_now(cpu); }
bool Gic::fiq_line(unsigned cpu) const { return impl_->cpus.at(cpu).fiq_out; }
bool Gic::vfiq_line(unsigned cpu) const { return impl_->vfiq_now(cpu); }
bool Gic::virq_line(unsigned cpu) const { return impl_->virq_now(cpu); }

bool Gic::is_pending(unsigned intid, unsigned cpu) const
{
    return intid < impl_->params.num_irqs && impl_->pending(cpu, intid);
}
bool Gic::is_active(unsigned intid, unsigned cpu) const
{
    const IrqState* s = impl_->state(cpu, intid);
    return s != nullptr && s->active;
}
bool Gic::is_enabled(unsigned intid, unsigned cpu) const
{
    const IrqState* s = impl_->state(cpu, intid);
    return s != nullptr && s->enabled;
}
bool Gic::maintenance_pending(unsigned cpu) const
{
    return impl_->pending(cpu, maintenance_ppi);
}

std::string Gic::self_check() const
{
    return impl_->self_check();
}

} // namespace fwdsim::gic
