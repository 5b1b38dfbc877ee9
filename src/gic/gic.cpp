// The GICv2 model.  Section numbers refer to ARM IHI 0048B.
#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>

#include <boost/intrusive/set.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>
#include <string>
#include <vector>

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

constexpr unsigned kBanked = 32; // SGIs and PPIs: one copy per CPU interface
constexpr unsigned kSgis = 16;
constexpr std::uint32_t gicc_ctlr_ackctl = 1u << 2;

/// One interrupt's distributor state (4.3; 1.4.2 for the state machine).
struct IrqState {
    bool enabled = false;
    bool latch = false;  ///< pending latch: an edge, or a write to ISPENDR
    bool line = false;   ///< input line level
    bool active = false;
    bool edge = false;   ///< ICFGR: edge-triggered
    bool group1 = false; ///< IGROUPR
    std::uint8_t priority = 0;
    std::uint8_t targets = 0; ///< ITARGETSR, SPIs only
    std::uint8_t listed_on = 0; ///< CPUs whose candidate set holds it (SPIs)
};

/// A (interrupt, CPU) pair that may be the highest-priority pending
/// interrupt of that CPU.  Kept in a per-CPU ordered set so that choosing
/// the highest-priority candidate never rescans every interrupt.
struct Candidate : boost::intrusive::set_base_hook<> {
    std::uint16_t intid = 0;
    std::uint8_t priority = 0;
    bool linked = false;
};

struct CandidateOrder {
    bool operator()(const Candidate& a, const Candidate& b) const
    {
        return a.priority != b.priority ? a.priority < b.priority : a.intid < b.intid;
    }
};
using CandidateSet = boost::intrusive::multiset<Candidate, boost::intrusive::compare<CandidateOrder>>;

/// An acknowledged interrupt whose priority has not been dropped yet.
struct ActivePriority {
    unsigned intid;
    unsigned source; ///< SGI source CPU
    std::uint8_t priority;
};

struct CpuInterface {
    std::array<IrqState, kBanked> banked{};
    std::array<std::uint8_t, kSgis> sgi_sources{}; ///< pending SGIs by source CPU bit
    std::uint32_t ctlr = 0;
    std::uint8_t pmr = 0;
    std::uint8_t bpr = 0;
    std::uint8_t abpr = 0;
    std::vector<ActivePriority> running;  ///< acknowledged, not yet EOIed
    std::uint8_t running_priority = 0xFF; ///< the highest (lowest value) in `running`, 0xFF if none
    CandidateSet candidates;
    bool irq_out = false;
    bool virq_out = false;
    // An output's fall on its way without an event (Impl::falls_lazily):
    // when it lands, and the level it samples then -- the level after the
    // last change before it, as the update event would have sampled it.
    sim::Cycles irq_fall_at = sim::Cycles::max();
    sim::Cycles virq_fall_at = sim::Cycles::max();
    bool irq_fall_level = false;
    bool virq_fall_level = false;
    /// The level nVIRQ goes to, as virtual_changed() derived it after the
    /// last change to the virtual interface (every change calls it), so
    /// that the nVIRQ event need not derive it again.
    bool virq_level = false;
    // Virtualization extensions (5.3): GICH of this CPU.
    std::uint32_t hcr = 0;
    std::uint32_t vmcr = 0;
    std::uint32_t apr = 0;
    std::vector<ListRegister> lrs;
    // The LRs' states as bit sets (bit n: LR n), kept by note_lr() at every
    // change of an LR: the outputs are re-derived after every change to the
    // virtual interface, and a few mask tests are cheaper than a walk of
    // the LRs each time.
    std::uint64_t lr_pending = 0; ///< state pending (not pending and active)
    std::uint64_t lr_valid = 0;   ///< state not invalid
    std::uint64_t lr_eoi = 0;     ///< invalid and asking for EOI maintenance (GICH_EISR)
};

} // namespace

struct Gic::Impl {
    Impl(Gic& owner, sim::EventQueue& q, const GicParams& p, const GicCosts& c);
    ~Impl()
    {
        // The candidate sets link nodes owned by candidate_nodes: unlink
        // before either goes.
        for (auto& ci : cpus) ci.candidates.clear();
    }

    Gic& owner;
    sim::EventQueue& queue;
    GicParams params;
    GicCosts costs;
    std::uint8_t prio_mask;
    std::uint8_t bpr_min;
    std::uint32_t dist_ctlr = 0; ///< EnableGrp0 [0], EnableGrp1 [1] (no Security Extensions)
    std::uint64_t implemented_lrs; ///< bit n: LR n exists
    std::vector<IrqState> spis;                 // index intid - 32
    std::vector<CpuInterface> cpus;
    std::vector<Candidate> candidate_nodes;     // [cpu * num_irqs + intid]
    struct Listener {
        LineListener fn;
        bool falls; ///< told of falls too (LineEdges::both)
    };
    std::vector<Listener> irq_listeners;
    std::vector<Listener> virq_listeners;
    // Whether an output may fall without an event: it has listeners and
    // none of them asks to be told of falls (with none, e.g. under
    // gic-script, every edge stays an event, so time advances through it).
    bool lazy_irq_falls = false;
    bool lazy_virq_falls = false;
    static bool falls_lazily(const std::vector<Listener>& ls)
    {
        if (ls.empty()) return false;
        for (const Listener& l : ls) {
            if (l.falls) return false;
        }
        return true;
    }
    /// A fall due `delay` from now can skip its event when nothing is
    /// already due at that time: an event scheduled for then from now on
    /// would run after the update anyway, so settling the fall when the
    /// output is next read or changed, at or after that time, is exact.
    bool fall_without_event(sim::Cycles delay) const
    {
        return delay > sim::Cycles{} && !queue.has_events_at(queue.now() + delay);
    }
    /// One of a CPU interface's three signal paths, as an event: an input
    /// change reaching the distributor, nIRQ and nVIRQ settling.  A typed
    /// event rather than a FunctionEvent: these run several times per
    /// interrupt, and a std::function call is an indirect call more.  One
    /// type per path, so that each process() is only its own path.
    enum class SignalKind : std::uint8_t { line_arrival, nirq, nvirq };
    template <SignalKind K>
    struct Signal final : sim::Event {
        Signal(Impl& g, unsigned cpu, const char* name) : sim::Event(name), g(g), cpu(cpu) {}
        void process() override;
        Impl& g;
        unsigned cpu;
    };
    struct CpuSignals {
        Signal<SignalKind::line_arrival> line_arrival;
        Signal<SignalKind::nirq> nirq;
        Signal<SignalKind::nvirq> nvirq;
    };
    std::vector<std::unique_ptr<CpuSignals>> signals; ///< per CPU interface

    // --- distributor state ---------------------------------------------------
    IrqState* state(unsigned cpu, unsigned intid)
    {
        if (intid < kBanked) return &cpus[cpu].banked[intid];
        if (intid < params.num_irqs) return &spis[intid - kBanked];
        return nullptr;
    }
    bool pending(unsigned cpu, unsigned intid)
    {
        if (intid < kSgis) return cpus[cpu].sgi_sources[intid] != 0;
        const IrqState* s = state(cpu, intid);
        return s->latch || (!s->edge && s->line);
    }
    bool targets_cpu(unsigned cpu, unsigned intid)
    {
        // GICD_ITARGETSR (4.3): in a uniprocessor implementation every interrupt targets
        // the one processor (and ITARGETSR is RAZ/WI).
        return intid < kBanked || params.num_cpus == 1 || (spis[intid - kBanked].targets >> cpu & 1u) != 0;
    }
    /// Whether `intid` belongs in `cpu`'s candidate set: its group enabled
    /// in the distributor and the CPU interface, enabled, pending, not
    /// active, and targeted at the CPU.
    bool is_candidate(unsigned cpu, unsigned intid)
    {
        const IrqState* s = state(cpu, intid);
        const std::uint32_t group_bit = s->group1 ? 2u : 1u;
        const bool group_on = (dist_ctlr & group_bit) != 0 && (cpus[cpu].ctlr & group_bit) != 0;
        return group_on && s->enabled && !s->active && pending(cpu, intid) && targets_cpu(cpu, intid);
    }
    /// Whether refresh() of SPI `s` could change a candidate set: not when
    /// it is filed nowhere and is no CPU's candidate for being active or
    /// not pending (a device lowering its line while its interrupt is
    /// active; the deactivation of an interrupt whose line is low).
    static bool may_be_filed(const IrqState& s)
    {
        return s.listed_on != 0 || (!s.active && (s.latch || (!s.edge && s.line)));
    }
    void refresh(unsigned cpu, unsigned intid)
    {
        Candidate& node = candidate_nodes[cpu * params.num_irqs + intid];
        CpuInterface& ci = cpus[cpu];
        IrqState* s = state(cpu, intid);
        const bool wanted = is_candidate(cpu, intid);
        // The set orders by (priority, intid), which no two nodes share: a
        // node that stays, at the same priority, keeps its place.
        if (node.linked == wanted && (!wanted || node.priority == s->priority)) return;
        if (node.linked) {
            ci.candidates.erase(ci.candidates.iterator_to(node));
            node.linked = false;
            s->listed_on = static_cast<std::uint8_t>(s->listed_on & ~(1u << cpu));
        }
        if (wanted) {
            node.priority = s->priority;
            ci.candidates.insert(node);
            node.linked = true;
            s->listed_on = static_cast<std::uint8_t>(s->listed_on | (1u << cpu));
        }
    }
    /// refresh() of an interrupt that is no longer `cpu`'s candidate.
    void unfile(unsigned cpu, unsigned intid, IrqState& s)
    {
        Candidate& node = candidate_nodes[cpu * params.num_irqs + intid];
        if (!node.linked) return;
        CandidateSet& set = cpus[cpu].candidates;
        set.erase(set.iterator_to(node));
        node.linked = false;
        s.listed_on = static_cast<std::uint8_t>(s.listed_on & ~(1u << cpu));
    }
    /// Like changed(), for an input line: the state is filed at once (a
    /// register read sees it), the outputs move after the line's propagation.
    void refile_from_line(unsigned intid, unsigned cpu)
    {
        if (intid < kBanked) {
            refresh(cpu, intid);
            schedule_line_arrival(cpu);
            return;
        }
        const IrqState& s = spis[intid - kBanked];
        const bool refile = may_be_filed(s);
        unsigned cpus_to_visit = params.num_cpus == 1 ? 1u : static_cast<unsigned>(s.targets | s.listed_on);
        while (cpus_to_visit != 0) {
            const unsigned c = static_cast<unsigned>(std::countr_zero(cpus_to_visit));
            cpus_to_visit &= cpus_to_visit - 1;
            if (refile) refresh(c, intid);
            schedule_line_arrival(c);
        }
    }
    void refresh_cpu(unsigned cpu)
    {
        for (unsigned id = 0; id < params.num_irqs; ++id) refresh(cpu, id);
        schedule_irq_update(cpu);
    }
    void refresh_all()
    {
        for (unsigned c = 0; c < params.num_cpus; ++c) refresh_cpu(c);
    }
    void changed(unsigned cpu, unsigned intid)
    {
        if (intid < kBanked) {
            refresh(cpu, intid);
            schedule_irq_update(cpu);
        } else {
            // Only the CPUs it targets, or on whose candidate list it still
            // sits, can see a difference.
            const IrqState& s = spis[intid - kBanked];
            const bool refile = may_be_filed(s);
            unsigned cpus_to_visit = params.num_cpus == 1 ? 1u : static_cast<unsigned>(s.targets | s.listed_on);
            while (cpus_to_visit != 0) {
                const unsigned c = static_cast<unsigned>(std::countr_zero(cpus_to_visit));
                cpus_to_visit &= cpus_to_visit - 1;
                if (refile) refresh(c, intid);
                schedule_irq_update(c);
            }
        }
    }

    // --- CPU interface ---------------------------------------------------------
    std::uint8_t group_mask(unsigned bpr) const { return static_cast<std::uint8_t>(0xFF << (bpr + 1)); }
    unsigned running_priority(unsigned cpu) const { return cpus[cpu].running_priority; }
    /// The highest-priority pending interrupt the CPU interface would
    /// signal, or nullptr.  `check_mask`: apply PMR and preemption.
    const Candidate* highest(unsigned cpu, bool check_mask)
    {
        CpuInterface& ci = cpus[cpu];
        if (ci.candidates.empty()) return nullptr;
        const Candidate& c = *ci.candidates.begin();
        if (!check_mask) return &c;
        if (c.priority >= ci.pmr) return nullptr;
        const unsigned rp = running_priority(cpu);
        const std::uint8_t gm = group_mask(ci.bpr);
        if (rp != 0xFF && (c.priority & gm) >= (rp & gm)) return nullptr;
        return &c;
    }
    /// GICC_IAR.
    std::uint32_t acknowledge(unsigned cpu)
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
    static std::uint8_t highest_running(const std::vector<ActivePriority>& running)
    {
        std::uint8_t rp = 0xFF;
        for (const auto& a : running) rp = std::min(rp, a.priority);
        return rp;
    }
    void end_of_interrupt(unsigned cpu, std::uint32_t value)
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
    void deactivate(unsigned cpu, unsigned intid)
    {
        IrqState* s = state(cpu, intid);
        if (s == nullptr || !s->active) return;
        s->active = false;
        changed(cpu, intid);
    }

    // --- virtualization extensions -----------------------------------------------
    unsigned vpmr(const CpuInterface& ci) const { return ((ci.vmcr >> gich::vmcr_vpmr_shift) & 0x1F) << 3; }
    unsigned vbpr(const CpuInterface& ci) const { return (ci.vmcr >> gich::vmcr_vbpr_shift) & 7; }
    unsigned virtual_running_priority(const CpuInterface& ci) const
    {
        return ci.apr == 0 ? 0xFF : static_cast<unsigned>(std::countr_zero(ci.apr)) << 3;
    }
    /// Which of the state sets an LR belongs to.
    struct LrClass {
        bool pending, valid, eoi;
    };
    static LrClass classify(const ListRegister& lr)
    {
        const auto st = lr.state();
        return {st == ListRegister::State::pending, st != ListRegister::State::invalid,
                st == ListRegister::State::invalid && lr.eoi()};
    }
    /// classify() as bits, for moving an LR between the state sets.
    enum : unsigned { kInPending = 1, kInValid = 2, kInEoi = 4 };
    static unsigned lr_sets(std::uint32_t raw)
    {
        const auto st = static_cast<ListRegister::State>((raw >> ListRegister::state_shift) & 3);
        if (st == ListRegister::State::invalid) return ListRegister{raw}.eoi() ? kInEoi : 0u;
        return kInValid | (st == ListRegister::State::pending ? kInPending : 0u);
    }
    /// Refiles LR `n`, which was in the state sets `was`, by its value now;
    /// every change of an LR calls it.
    static void note_lr(CpuInterface& ci, unsigned n, unsigned was)
    {
        const unsigned moved = was ^ lr_sets(ci.lrs[n].raw);
        const std::uint64_t bit = std::uint64_t{1} << n;
        if (moved & kInPending) ci.lr_pending ^= bit;
        if (moved & kInValid) ci.lr_valid ^= bit;
        if (moved & kInEoi) ci.lr_eoi ^= bit;
    }
    /// The highest-priority pending LR (the lowest index on a tie), or -1.
    static int best_pending_lr(const CpuInterface& ci)
    {
        int best = -1;
        unsigned best_priority = 0x100;
        for (std::uint64_t p = ci.lr_pending; p != 0; p &= p - 1) {
            const unsigned n = static_cast<unsigned>(std::countr_zero(p));
            const unsigned priority = ci.lrs[n].priority();
            if (priority < best_priority) {
                best_priority = priority;
                best = static_cast<int>(n);
            }
        }
        return best;
    }
    /// GICH_ELRSR: the LRs that are invalid and ask for no EOI maintenance.
    std::uint64_t empty_lrs(const CpuInterface& ci) const { return implemented_lrs & ~(ci.lr_valid | ci.lr_eoi); }
    /// `best` if the virtual CPU interface signals it (its group enabled,
    /// above VPMR, preempting the running priority), else -1.
    int signalled_lr(const CpuInterface& ci, int best) const
    {
        if (best < 0) return -1;
        const ListRegister& lr = ci.lrs[static_cast<unsigned>(best)];
        const bool group_on = lr.grp1() ? (ci.vmcr & gich::vmcr_veng1) != 0 : (ci.vmcr & gich::vmcr_veng0) != 0;
        if (!group_on || lr.priority() >= vpmr(ci)) return -1;
        const unsigned rp = virtual_running_priority(ci);
        const std::uint8_t gm = group_mask(std::max(vbpr(ci), 2u));
        if (rp != 0xFF && (lr.priority() & gm) >= (rp & gm)) return -1;
        return best;
    }
    int highest_lr(unsigned cpu, bool check_mask)
    {
        const CpuInterface& ci = cpus[cpu];
        const int best = best_pending_lr(ci);
        return check_mask ? signalled_lr(ci, best) : best;
    }
    std::uint32_t virtual_acknowledge(unsigned cpu)
    {
        CpuInterface& ci = cpus[cpu];
        if (!(ci.hcr & gich::hcr_en)) return spurious_intid;
        const int n = highest_lr(cpu, true);
        if (n < 0) return spurious_intid;
        ListRegister& lr = ci.lrs[static_cast<unsigned>(n)];
        const unsigned was = lr_sets(lr.raw);
        lr.set_state(ListRegister::State::active);
        note_lr(ci, static_cast<unsigned>(n), was);
        ci.apr |= 1u << (lr.priority() >> 3);
        std::uint32_t id = lr.virtual_id();
        if (!lr.hw() && id < kSgis) id |= lr.cpuid() << 10;
        virtual_changed(cpu);
        return id;
    }
    void virtual_deactivate(unsigned cpu, std::uint32_t value)
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
            virtual_changed(cpu);
            return;
        }
        // No list register holds it: count it (GICH_HCR.EOICount).
        const std::uint32_t count = ((ci.hcr >> gich::hcr_eoicount_shift) + 1) & 0x1F;
        ci.hcr = (ci.hcr & ~(0x1Fu << gich::hcr_eoicount_shift)) | (count << gich::hcr_eoicount_shift);
        virtual_changed(cpu);
    }
    void virtual_eoi(unsigned cpu, std::uint32_t value)
    {
        CpuInterface& ci = cpus[cpu];
        if (ci.apr != 0) ci.apr &= ci.apr - 1; // drop the highest active priority
        if (!(ci.vmcr & gich::vmcr_vem)) {
            virtual_deactivate(cpu, value);
        } else {
            virtual_changed(cpu);
        }
    }
    std::uint32_t misr(const CpuInterface& ci) const
    {
        std::uint32_t m = 0;
        if (ci.lr_eoi != 0) m |= gich::misr_eoi;
        // Every other source needs its enable in GICH_HCR[7:1], and KVM
        // usually sets none: the outputs are re-derived after every
        // virtual-interface access, so skip the tests below then.
        constexpr std::uint32_t kEnables = gich::hcr_uie | gich::hcr_lrenpie | gich::hcr_npie | gich::hcr_vgrp0eie |
                                           gich::hcr_vgrp0die | gich::hcr_vgrp1eie | gich::hcr_vgrp1die;
        if ((ci.hcr & kEnables) == 0) return m;
        // Underflow: at most one valid LR.
        if ((ci.hcr & gich::hcr_uie) && (ci.lr_valid & (ci.lr_valid - 1)) == 0) m |= gich::misr_u;
        if ((ci.hcr & gich::hcr_lrenpie) && (ci.hcr >> gich::hcr_eoicount_shift) != 0) m |= gich::misr_lrenp;
        if ((ci.hcr & gich::hcr_npie) && ci.lr_pending == 0) m |= gich::misr_np;
        const bool g0 = ci.vmcr & gich::vmcr_veng0;
        const bool g1 = ci.vmcr & gich::vmcr_veng1;
        if ((ci.hcr & gich::hcr_vgrp0eie) && g0) m |= gich::misr_vgrp0e;
        if ((ci.hcr & gich::hcr_vgrp0die) && !g0) m |= gich::misr_vgrp0d;
        if ((ci.hcr & gich::hcr_vgrp1eie) && g1) m |= gich::misr_vgrp1e;
        if ((ci.hcr & gich::hcr_vgrp1die) && !g1) m |= gich::misr_vgrp1d;
        return m;
    }
    /// After any change to the virtual interface: the maintenance
    /// interrupt's line follows at once, nVIRQ after its propagation delay.
    void virtual_changed(unsigned cpu)
    {
        CpuInterface& ci = cpus[cpu];
        bool maint = false;
        bool virq = false;
        if (ci.hcr & gich::hcr_en) {
            maint = misr(ci) != 0;
            virq = signalled_lr(ci, best_pending_lr(ci)) >= 0;
        }
        ci.virq_level = virq;
        if (ci.banked[maintenance_ppi].line != maint) [[unlikely]] set_maintenance_line(cpu, maint);
        if (ci.virq_fall_at != sim::Cycles::max()) [[unlikely]] {
            if (queue.now() < ci.virq_fall_at) {
                ci.virq_fall_level = virq; // the fall in flight samples this when it lands
                return;
            }
            ci.virq_out = ci.virq_fall_level; // it has landed
            ci.virq_fall_at = sim::Cycles::max();
        }
        if (virq != ci.virq_out) schedule_virq_update(cpu, virq);
    }
    /// nVIRQ follows after its propagation delay (unless on its way); a
    /// fall, when it may, without an event.
    void schedule_virq_update(unsigned cpu, bool level)
    {
        auto& ev = signals[cpu]->nvirq;
        if (ev.scheduled()) return;
        if (!level && lazy_virq_falls && fall_without_event(costs.lr_update_to_virq)) {
            cpus[cpu].virq_fall_at = queue.now() + costs.lr_update_to_virq;
            cpus[cpu].virq_fall_level = false;
            return;
        }
        queue.schedule_after(ev, costs.lr_update_to_virq);
    }
    /// The maintenance interrupt's input line moves (rare: KVM asks for
    /// maintenance only on overflow and for level EOIs).
    [[gnu::noinline]] void set_maintenance_line(unsigned cpu, bool level)
    {
        cpus[cpu].banked[maintenance_ppi].line = level;
        changed(cpu, maintenance_ppi);
    }

    // --- outputs -------------------------------------------------------------------
    bool irq_level(unsigned cpu) { return highest(cpu, true) != nullptr; }
    /// What virtual_changed() files as CpuInterface::virq_level.
    bool derive_virq_level(unsigned cpu)
    {
        return (cpus[cpu].hcr & gich::hcr_en) && highest_lr(cpu, true) >= 0;
    }
    // An output follows a change of state after the signal's propagation
    // delay.  Every state change calls one of these after it is made, so a
    // change that leaves the output where it is needs no event: the output
    // can only move at a later change, which schedules its own.  (An update
    // already on its way still samples the state when it lands.)
    void schedule_irq_update(unsigned cpu)
    {
        auto& ev = signals[cpu]->nirq;
        if (ev.scheduled()) return;
        if (irq_fall_in_flight(cpu)) return;
        CpuInterface& ci = cpus[cpu];
        const bool level = irq_level(cpu);
        if (level == ci.irq_out) return;
        const sim::Cycles delay = costs.distributor_to_cpuif + costs.cpuif_to_irq;
        if (!level && lazy_irq_falls && fall_without_event(delay)) {
            ci.irq_fall_at = queue.now() + delay;
            ci.irq_fall_level = false;
            return;
        }
        queue.schedule_after(ev, delay);
    }
    /// After a change, with nIRQ's fall on its way without an event: while
    /// it is, the state it will sample is noted (true); once it has landed,
    /// the output takes the level it sampled.
    bool irq_fall_in_flight(unsigned cpu)
    {
        CpuInterface& ci = cpus[cpu];
        if (ci.irq_fall_at == sim::Cycles::max()) [[likely]] return false;
        if (queue.now() < ci.irq_fall_at) {
            ci.irq_fall_level = irq_level(cpu);
            return true;
        }
        ci.irq_out = ci.irq_fall_level;
        ci.irq_fall_at = sim::Cycles::max();
        return false;
    }
    /// An input line changed: the outputs follow after the line reaches the
    /// distributor (gic.line_to_distributor) and then the CPU interface.
    void schedule_line_arrival(unsigned cpu)
    {
        // The distributor holds the new state already: a fall on its way samples it.
        (void)irq_fall_in_flight(cpu);
        auto& ev = signals[cpu]->line_arrival;
        if (!ev.scheduled() && irq_level(cpu) != cpus[cpu].irq_out) queue.schedule_after(ev, costs.line_to_distributor);
    }
    void update_irq(unsigned cpu)
    {
        const bool level = irq_level(cpu);
        if (level != cpus[cpu].irq_out) {
            cpus[cpu].irq_out = level;
            for (auto& l : irq_listeners) {
                if (level || l.falls) l.fn(cpu, level);
            }
        }
    }
    void update_virq(unsigned cpu)
    {
        const bool level = cpus[cpu].virq_level;
        if (level != cpus[cpu].virq_out) {
            cpus[cpu].virq_out = level;
            for (auto& l : virq_listeners) {
                if (level || l.falls) l.fn(cpu, level);
            }
        }
    }
    /// The outputs as they stand now, a fall that has landed taken in.
    bool irq_now(unsigned cpu) const
    {
        const CpuInterface& ci = cpus.at(cpu);
        return ci.irq_fall_at <= queue.now() ? ci.irq_fall_level : ci.irq_out;
    }
    bool virq_now(unsigned cpu) const
    {
        const CpuInterface& ci = cpus.at(cpu);
        return ci.virq_fall_at <= queue.now() ? ci.virq_fall_level : ci.virq_out;
    }

    // --- what the model caches for speed, recomputed ---------------------------
    std::string self_check()
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

    // --- register files ------------------------------------------------------------
    std::uint8_t gicd_readb(unsigned cpu, std::uint32_t off);
    void gicd_writeb(unsigned cpu, std::uint32_t off, std::uint8_t v);
    void gicd_write_bits(unsigned cpu, std::uint32_t off, std::uint32_t v);
    std::uint32_t gicc_read(unsigned cpu, std::uint32_t off);
    void gicc_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    std::uint32_t gich_read(unsigned cpu, std::uint32_t off);
    void gich_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    std::uint32_t gicv_read(unsigned cpu, std::uint32_t off);
    void gicv_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    void write_sgir(unsigned cpu, std::uint32_t v);
};

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

Gic::Impl::Impl(Gic& o, sim::EventQueue& q, const GicParams& p, const GicCosts& c)
    : owner(o), queue(q), params(p), costs(c)
{
    if (p.num_irqs < 32 || p.num_irqs > 1020 || (p.num_irqs % 32 != 0 && p.num_irqs != 1020)) {
        throw std::invalid_argument("GicParams.num_irqs must be a multiple of 32 in 32..1020, got " +
                                    std::to_string(p.num_irqs));
    }
    if (p.num_cpus < 1 || p.num_cpus > 8) {
        throw std::invalid_argument("GicParams.num_cpus must be 1..8, got " + std::to_string(p.num_cpus));
    }
    if (p.num_lrs < 1 || p.num_lrs > 64) {
        throw std::invalid_argument("GicParams.num_lrs must be 1..64, got " + std::to_string(p.num_lrs));
    }
    if (p.priority_bits < 4 || p.priority_bits > 8) {
        throw std::invalid_argument("GicParams.priority_bits must be 4..8, got " + std::to_string(p.priority_bits));
    }
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
        }));
    }
}

// --- GICD: byte-addressed, as the architecture allows for all but SGIR ------------------

std::uint8_t Gic::Impl::gicd_readb(unsigned cpu, std::uint32_t off)
{
    const unsigned n = params.num_irqs;
    auto bits = [&](std::uint32_t base, auto pred) -> std::uint8_t {
        const unsigned first = (off - base) * 8;
        std::uint8_t v = 0;
        for (unsigned i = 0; i < 8; ++i) {
            const unsigned id = first + i;
            if (id < n && pred(id)) v |= static_cast<std::uint8_t>(1u << i);
        }
        return v;
    };
    if (off < 0x004) return off == 0 ? static_cast<std::uint8_t>(dist_ctlr) : 0;
    if (off < 0x008) {
        const std::uint32_t typer = ((n / 32 - 1) & 0x1F) | ((params.num_cpus - 1) << 5);
        return static_cast<std::uint8_t>(typer >> ((off - 4) * 8));
    }
    if (off < 0x00C) return static_cast<std::uint8_t>(params.iidr >> ((off - 8) * 8));
    if (off >= gicd::igroupr && off < gicd::igroupr + 0x80) return bits(gicd::igroupr, [&](unsigned id) { return state(cpu, id)->group1; });
    if (off >= gicd::isenabler && off < gicd::isenabler + 0x80) return bits(gicd::isenabler, [&](unsigned id) { return state(cpu, id)->enabled; });
    if (off >= gicd::icenabler && off < gicd::icenabler + 0x80) return bits(gicd::icenabler, [&](unsigned id) { return state(cpu, id)->enabled; });
    if (off >= gicd::ispendr && off < gicd::ispendr + 0x80) return bits(gicd::ispendr, [&](unsigned id) { return pending(cpu, id); });
    if (off >= gicd::icpendr && off < gicd::icpendr + 0x80) return bits(gicd::icpendr, [&](unsigned id) { return pending(cpu, id); });
    if (off >= gicd::isactiver && off < gicd::isactiver + 0x80) return bits(gicd::isactiver, [&](unsigned id) { return state(cpu, id)->active; });
    if (off >= gicd::icactiver && off < gicd::icactiver + 0x80) return bits(gicd::icactiver, [&](unsigned id) { return state(cpu, id)->active; });
    if (off >= gicd::ipriorityr && off < gicd::ipriorityr + 0x3FC) {
        const unsigned id = off - gicd::ipriorityr;
        return id < n ? state(cpu, id)->priority : 0;
    }
    if (off >= gicd::itargetsr && off < gicd::itargetsr + 0x3FC) {
        const unsigned id = off - gicd::itargetsr;
        if (id >= n || params.num_cpus == 1) return 0; // uniprocessor: RAZ/WI
        if (id < kBanked) return static_cast<std::uint8_t>(1u << cpu); // the accessing CPU's own bit
        return spis[id - kBanked].targets;
    }
    if (off >= gicd::icfgr && off < gicd::icfgr + 0x100) {
        const unsigned first = (off - gicd::icfgr) * 4;
        std::uint8_t v = 0;
        for (unsigned i = 0; i < 4; ++i) {
            const unsigned id = first + i;
            if (id < n && state(cpu, id)->edge) v |= static_cast<std::uint8_t>(2u << (2 * i));
        }
        return v;
    }
    if (off >= gicd::cpendsgir && off < gicd::spendsgir + 0x10) {
        const unsigned sgi = (off - gicd::cpendsgir) % 16;
        return cpus[cpu].sgi_sources[sgi];
    }
    if (off >= gicd::pidr4 && off < 0x1000 && (off & 3) == 0) {
        // Identification registers, values of the GIC-400.
        static constexpr std::uint8_t ids[] = {0x04, 0x00, 0x00, 0x00, 0x90, 0xB4, 0x2B, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
        return ids[(off - gicd::pidr4) / 4];
    }
    return 0; // reserved, SGIR (write-only)
}

/// The set/clear registers ISENABLER..ICACTIVER at word `off`: each set bit
/// of `v` acts on its interrupt, in ascending order (a byte write passes its
/// byte in place).  A word at a time, since the host's masking writes one bit
/// of one word on every interrupt.
void Gic::Impl::gicd_write_bits(unsigned cpu, std::uint32_t off, std::uint32_t v)
{
    const std::uint32_t base = off & ~0x7Fu; // the register array
    const unsigned first = (off - base) * 8;
    for (; v != 0; v &= v - 1) {
        const unsigned id = first + static_cast<unsigned>(std::countr_zero(v));
        if (id >= params.num_irqs) return; // so are the rest
        IrqState& s = *state(cpu, id);
        switch (base) {
        case gicd::isenabler: s.enabled = true; break;
        // SGIs' enables are RAO/WI, their pending state is SPENDSGIR's.
        case gicd::icenabler:
            if (id >= kSgis) s.enabled = false;
            break;
        case gicd::ispendr:
            if (id >= kSgis) s.latch = true;
            break;
        case gicd::icpendr:
            if (id >= kSgis) s.latch = false;
            break;
        case gicd::isactiver: s.active = true; break;
        case gicd::icactiver: s.active = false; break;
        }
        changed(cpu, id);
    }
}

void Gic::Impl::gicd_writeb(unsigned cpu, std::uint32_t off, std::uint8_t v)
{
    const unsigned n = params.num_irqs;
    if (off == 0) {
        dist_ctlr = v & 3u;
        refresh_all();
        return;
    }
    if (off >= gicd::igroupr && off < gicd::igroupr + 0x80) {
        const unsigned first = (off - gicd::igroupr) * 8;
        for (unsigned i = 0; i < 8; ++i) {
            const unsigned id = first + i;
            if (id < n) {
                state(cpu, id)->group1 = (v >> i) & 1u;
                changed(cpu, id);
            }
        }
        return;
    }
    if (off >= gicd::isenabler && off < gicd::icactiver + 0x80) {
        return gicd_write_bits(cpu, off & ~3u, std::uint32_t{v} << (8 * (off & 3)));
    }
    if (off >= gicd::ipriorityr && off < gicd::ipriorityr + 0x3FC) {
        const unsigned id = off - gicd::ipriorityr;
        if (id < n) {
            state(cpu, id)->priority = v & prio_mask;
            changed(cpu, id);
        }
        return;
    }
    if (off >= gicd::itargetsr && off < gicd::itargetsr + 0x3FC) {
        const unsigned id = off - gicd::itargetsr;
        if (id >= kBanked && id < n && params.num_cpus > 1) {
            spis[id - kBanked].targets = v & static_cast<std::uint8_t>((1u << params.num_cpus) - 1);
            changed(cpu, id);
        }
        return;
    }
    if (off >= gicd::icfgr && off < gicd::icfgr + 0x100) {
        const unsigned first = (off - gicd::icfgr) * 4;
        for (unsigned i = 0; i < 4; ++i) {
            const unsigned id = first + i;
            if (id >= kSgis && id < n) {
                state(cpu, id)->edge = (v >> (2 * i + 1)) & 1u;
                changed(cpu, id);
            }
        }
        return;
    }
    if (off >= gicd::cpendsgir && off < gicd::cpendsgir + 0x10) {
        const unsigned sgi = off - gicd::cpendsgir;
        cpus[cpu].sgi_sources[sgi] = static_cast<std::uint8_t>(cpus[cpu].sgi_sources[sgi] & ~v);
        changed(cpu, sgi);
        return;
    }
    if (off >= gicd::spendsgir && off < gicd::spendsgir + 0x10) {
        const unsigned sgi = off - gicd::spendsgir;
        cpus[cpu].sgi_sources[sgi] |= static_cast<std::uint8_t>(v & ((1u << params.num_cpus) - 1));
        changed(cpu, sgi);
        return;
    }
    // Everything else is read-only, reserved or write-ignored.
}

void Gic::Impl::write_sgir(unsigned cpu, std::uint32_t v)
{
    const unsigned sgi = v & 0xF;
    const unsigned filter = (v >> 24) & 3;
    const std::uint8_t all = static_cast<std::uint8_t>((1u << params.num_cpus) - 1);
    std::uint8_t targets = 0;
    switch (filter) {
    case 0: targets = static_cast<std::uint8_t>((v >> 16) & all); break;
    case 1: targets = static_cast<std::uint8_t>(all & ~(1u << cpu)); break;
    case 2: targets = static_cast<std::uint8_t>(1u << cpu); break;
    default: return; // reserved filter
    }
    for (unsigned t = 0; t < params.num_cpus; ++t) {
        if (targets >> t & 1u) {
            cpus[t].sgi_sources[sgi] |= static_cast<std::uint8_t>(1u << cpu);
            changed(t, sgi);
        }
    }
}

// --- GICC (4.4) ------------------------------------------------------------------------

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

// --- GICH (5.3) ------------------------------------------------------------------------

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

// --- GICV (5.5): a CPU interface fed by the list registers ------------------------------

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
    case gicc::rpr: return virtual_running_priority(ci);
    case gicc::hppir: {
        const int n = highest_lr(cpu, false);
        return n < 0 ? spurious_intid : ci.lrs[static_cast<unsigned>(n)].virtual_id();
    }
    case gicc::aiar:
    case gicc::ahppir: return spurious_intid;
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
    case gicc::eoir: virtual_eoi(cpu, v); return;
    case gicc::dir: virtual_deactivate(cpu, v); return;
    case gicc::apr0: ci.apr = v; break;
    default: return;
    }
    virtual_changed(cpu);
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
    case Block::gicd:
        if (offset >= 0x1000) return 0;
        if (size == 1) return g.gicd_readb(cpu, offset);
        offset &= ~3u;
        return static_cast<std::uint32_t>(g.gicd_readb(cpu, offset)) | (g.gicd_readb(cpu, offset + 1) << 8) |
               (g.gicd_readb(cpu, offset + 2) << 16) | (static_cast<std::uint32_t>(g.gicd_readb(cpu, offset + 3)) << 24);
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
    case Block::gicd:
        if (offset >= 0x1000) return;
        if (size == 1) {
            g.gicd_writeb(cpu, offset, static_cast<std::uint8_t>(value));
            return;
        }
        offset &= ~3u;
        if (offset == gicd::sgir) {
            g.write_sgir(cpu, value);
            return;
        }
        if (offset >= gicd::isenabler && offset < gicd::icactiver + 0x80) {
            g.gicd_write_bits(cpu, offset, value);
            return;
        }
        for (unsigned b = 0; b < 4; ++b) g.gicd_writeb(cpu, offset + b, static_cast<std::uint8_t>(value >> (8 * b)));
        return;
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
bool Gic::irq_line(unsigned cpu) const { return impl_->irq_now(cpu); }
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
