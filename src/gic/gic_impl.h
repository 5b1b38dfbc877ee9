// The GICv2 model's shared state (ARM IHI 0048B): what the distributor, the
// CPU interfaces, the virtual interface control (GICH) and the virtual CPU
// interfaces (GICV) all read and change, and the signal paths between them
// -- the candidate sets the distributor files interrupts in, the outputs
// (nIRQ, nVIRQ, the maintenance line) and their events.  Each block's
// register file and operations live in its own file (distributor.cpp,
// cpu_interface.cpp, virtual_control.cpp, virtual_cpu_interface.cpp);
// gic.cpp is the public face.  Internal to src/gic.  Past 600 lines: the
// state and its signal paths are inlined into every block's register
// accesses, the hottest code of a simulated interrupt (docs/performance.md).
//
// Longer than one idea's usual file: the hot helpers every block calls on
// each interrupt (filing, the outputs, virtual_changed) are defined here so
// that each block's file can inline them.
#pragma once

#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/gicd_map.h>
#include <fwdsim/gic/registers.h>

#include "candidate_set.h"

#include <algorithm>
#include <array>
#include <bit>
#include <memory>
#include <string>
#include <vector>

namespace fwdsim::gic {

constexpr unsigned kBanked = 32; // SGIs and PPIs: one copy per CPU interface
constexpr unsigned kSgis = 16;

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

/// An acknowledged interrupt whose priority has not been dropped yet.
struct ActivePriority {
    unsigned intid;
    unsigned source; ///< SGI source CPU
    std::uint8_t priority; ///< its group priority when acknowledged (3.3.3)
};

// Aligned to a cache line, which also makes its size a power of two (512
// bytes): `cpus[cpu]` is then a shift, on every access of every block.
struct alignas(64) CpuInterface {
    std::array<IrqState, kBanked> banked{};
    std::array<std::uint8_t, kSgis> sgi_sources{}; ///< pending SGIs by source CPU bit
    std::uint32_t ctlr = 0;
    std::uint8_t pmr = 0;
    std::uint8_t bpr = 0;
    std::uint8_t abpr = 0;
    std::vector<ActivePriority> running;  ///< acknowledged, not yet EOIed
    std::uint8_t running_priority = 0xFF; ///< the highest (lowest value) group priority in `running`, 0xFF if none
    CandidateSet candidates;
    bool irq_out = false;
    bool virq_out = false;
    bool fiq_out = false; ///< nFIQ: group 0 interrupts while GICC_CTLR.FIQEn is set
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
    /// Some CPU interface has set GICC_CTLR.FIQEn: from then on every state
    /// change also looks at nFIQ.  Until then (Linux never sets it) the
    /// signal paths pay one test of this flag.
    bool fiq_armed = false;
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
    std::vector<Listener> fiq_listeners;
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
    enum class SignalKind : std::uint8_t { line_arrival, nirq, nvirq, nfiq };
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
        Signal<SignalKind::nfiq> nfiq;
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
    /// active; the deactivation of an interrupt whose line is low).  The
    /// outputs follow the candidate sets and the CPU interfaces' own
    /// registers only, so a change of such an SPI's state moves no output
    /// either: there is nothing to re-derive.
    static bool may_be_filed(const IrqState& s)
    {
        return s.listed_on != 0 || (!s.active && (s.latch || (!s.edge && s.line)));
    }
    /// Files or unfiles `intid` at `cpu` by its state now; true when the
    /// candidate set changed.
    bool refresh(unsigned cpu, unsigned intid)
    {
        Candidate& node = candidate_nodes[cpu * params.num_irqs + intid];
        CpuInterface& ci = cpus[cpu];
        IrqState* s = state(cpu, intid);
        const bool wanted = is_candidate(cpu, intid);
        // The set orders by (priority, intid), which no two nodes share: a
        // node that stays, at the same priority, keeps its place.
        if (node.linked == wanted && (!wanted || node.priority == s->priority)) return false;
        if (node.linked) {
            ci.candidates.erase(node);
            node.linked = false;
            s->listed_on = static_cast<std::uint8_t>(s->listed_on & ~(1u << cpu));
        }
        if (wanted) {
            node.priority = s->priority;
            ci.candidates.insert(node);
            node.linked = true;
            s->listed_on = static_cast<std::uint8_t>(s->listed_on | (1u << cpu));
        }
        return true;
    }
    /// refresh() of an interrupt that is no longer `cpu`'s candidate.
    void unfile(unsigned cpu, unsigned intid, IrqState& s)
    {
        Candidate& node = candidate_nodes[cpu * params.num_irqs + intid];
        if (!node.linked) return;
        CandidateSet& set = cpus[cpu].candidates;
        set.erase(node);
        node.linked = false;
        s.listed_on = static_cast<std::uint8_t>(s.listed_on & ~(1u << cpu));
    }
    /// Like changed(), for an input line: the state is filed at once (a
    /// register read sees it), the outputs move after the line's propagation.
    /// A line moves only the pending state, so where it leaves a candidate
    /// set as it was, it leaves that CPU's outputs too (the last change
    /// before it already set them on their way): nothing to schedule.
    void refile_from_line(unsigned intid, unsigned cpu)
    {
        if (intid < kBanked) {
            if (refresh(cpu, intid)) schedule_line_arrival(cpu);
            return;
        }
        const IrqState& s = spis[intid - kBanked];
        if (!may_be_filed(s)) return;
        unsigned cpus_to_visit = params.num_cpus == 1 ? 1u : static_cast<unsigned>(s.targets | s.listed_on);
        while (cpus_to_visit != 0) {
            const unsigned c = static_cast<unsigned>(std::countr_zero(cpus_to_visit));
            cpus_to_visit &= cpus_to_visit - 1;
            if (refresh(c, intid)) schedule_line_arrival(c);
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
            if (!may_be_filed(s)) return;
            unsigned cpus_to_visit = params.num_cpus == 1 ? 1u : static_cast<unsigned>(s.targets | s.listed_on);
            while (cpus_to_visit != 0) {
                const unsigned c = static_cast<unsigned>(std::countr_zero(cpus_to_visit));
                cpus_to_visit &= cpus_to_visit - 1;
                refresh(c, intid);
                schedule_irq_update(c);
            }
        }
    }

    // --- CPU interface ---------------------------------------------------------
    static std::uint8_t group_mask(unsigned bpr) { return static_cast<std::uint8_t>(0xFF << (bpr + 1)); }
    /// The binary point that splits a group 1 priority (3.3.3, 4.4.3): GICC_BPR's
    /// with CBPR set, else GICC_ABPR's, which counts one more than BPR for the
    /// same split.
    static unsigned group1_binary_point(const CpuInterface& ci)
    {
        return (ci.ctlr & gicc::ctlr_cbpr) ? ci.bpr : ci.abpr - 1u;
    }
    static std::uint8_t group_priority(const CpuInterface& ci, std::uint8_t priority, bool group1)
    {
        return priority & group_mask(group1 ? group1_binary_point(ci) : ci.bpr);
    }
    /// Whether a signalled interrupt goes out on nFIQ (group 0 with FIQEn,
    /// 3.6; everything else on nIRQ).  The group is looked up only with
    /// FIQEn set: hot paths without FIQ pay one bit test.
    bool signals_fiq(unsigned cpu, const Candidate& c)
    {
        return (cpus[cpu].ctlr & gicc::ctlr_fiqen) != 0 && !state(cpu, c.intid)->group1;
    }
    unsigned running_priority(unsigned cpu) const { return cpus[cpu].running_priority; }
    /// The highest-priority pending interrupt the CPU interface would
    /// signal, or nullptr.  `check_mask`: apply PMR and preemption.
    const Candidate* highest(unsigned cpu, bool check_mask)
    {
        CpuInterface& ci = cpus[cpu];
        if (ci.candidates.empty()) return nullptr;
        const Candidate& c = ci.candidates.front();
        if (!check_mask) return &c;
        if (c.priority >= ci.pmr) return nullptr;
        // Preemption (3.3.3): its group priority above the running priority,
        // which is itself a group priority (0xFF when idle: nothing to test).
        const unsigned rp = ci.running_priority;
        if (rp != 0xFF && group_priority(ci, c.priority, state(cpu, c.intid)->group1) >= rp) return nullptr;
        return &c;
    }
    // --- virtualization extensions -----------------------------------------------
    unsigned vpmr(const CpuInterface& ci) const { return ((ci.vmcr >> gich::vmcr_vpmr_shift) & 0x1F) << 3; }
    unsigned vbpr(const CpuInterface& ci) const { return (ci.vmcr >> gich::vmcr_vbpr_shift) & 7; }
    unsigned vabpr(const CpuInterface& ci) const { return (ci.vmcr >> gich::vmcr_vabpr_shift) & 7; }
    /// An LR's group priority: VABPR splits group 1 priorities unless
    /// VCBPR, VBPR the rest (as on GICC, 5.5).
    unsigned virtual_group_priority(const CpuInterface& ci, const ListRegister& lr) const
    {
        return lr.priority() & group_mask(lr.grp1() && !(ci.vmcr & gich::vmcr_vcbpr) ? vabpr(ci) - 1u : vbpr(ci));
    }
    /// Whether signalled LR `n` goes out on the virtual nFIQ (group 0 with
    /// VFIQEn) rather than nVIRQ.
    static bool signals_vfiq(const CpuInterface& ci, int n)
    {
        return (ci.vmcr & gich::vmcr_vfiqen) && !ci.lrs[static_cast<unsigned>(n)].grp1();
    }
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
        // No active priority (GICH_APR 0): idle, nothing to test.
        if (ci.apr != 0 && virtual_group_priority(ci, lr) >= virtual_running_priority(ci)) return -1;
        return best;
    }
    int highest_lr(unsigned cpu, bool check_mask)
    {
        const CpuInterface& ci = cpus[cpu];
        const int best = best_pending_lr(ci);
        return check_mask ? signalled_lr(ci, best) : best;
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
            const int n = signalled_lr(ci, best_pending_lr(ci));
            virq = n >= 0 && !signals_vfiq(ci, n);
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
    bool irq_level(unsigned cpu)
    {
        const Candidate* c = highest(cpu, true);
        return c != nullptr && !signals_fiq(cpu, *c);
    }
    bool fiq_level(unsigned cpu)
    {
        const Candidate* c = highest(cpu, true);
        return c != nullptr && signals_fiq(cpu, *c);
    }
    /// nFIQ can move only while FIQEn is set or it is high: the common case
    /// (FIQ unused) pays one test.
    static bool fiq_in_use(const CpuInterface& ci) { return (ci.ctlr & gicc::ctlr_fiqen) != 0 || ci.fiq_out; }
    bool fiq_moves(unsigned cpu) { return fiq_armed && fiq_level(cpu) != cpus[cpu].fiq_out; }
    /// What virtual_changed() files as CpuInterface::virq_level.
    bool derive_virq_level(unsigned cpu)
    {
        if (!(cpus[cpu].hcr & gich::hcr_en)) return false;
        const int n = highest_lr(cpu, true);
        return n >= 0 && !signals_vfiq(cpus[cpu], n);
    }
    bool vfiq_now(unsigned cpu)
    {
        if (!(cpus.at(cpu).hcr & gich::hcr_en)) return false;
        const int n = highest_lr(cpu, true);
        return n >= 0 && signals_vfiq(cpus[cpu], n);
    }
    // An output follows a change of state after the signal's propagation
    // delay.  Every state change calls one of these after it is made, so a
    // change that leaves the output where it is needs no event: the output
    // can only move at a later change, which schedules its own.  (An update
    // already on its way still samples the state when it lands.)
    [[gnu::always_inline]] void schedule_irq_update(unsigned cpu)
    {
        // nFIQ out of line, as a tail call: the common path keeps no frame.
        if (fiq_armed) [[unlikely]] return schedule_fiq_and_irq_update(cpu);
        schedule_nirq_update(cpu);
    }
    [[gnu::noinline, gnu::cold]] void schedule_fiq_and_irq_update(unsigned cpu)
    {
        schedule_fiq_update(cpu);
        schedule_nirq_update(cpu);
    }
    void schedule_nirq_update(unsigned cpu)
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
        if (!ev.scheduled() && (irq_level(cpu) != cpus[cpu].irq_out || fiq_moves(cpu)))
            queue.schedule_after(ev, costs.line_to_distributor);
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
    /// nFIQ: every edge an event, after the same delay as nIRQ's.
    [[gnu::noinline]] void schedule_fiq_update(unsigned cpu)
    {
        auto& ev = signals[cpu]->nfiq;
        if (!ev.scheduled() && fiq_in_use(cpus[cpu]) && fiq_level(cpu) != cpus[cpu].fiq_out)
            queue.schedule_after(ev, costs.distributor_to_cpuif + costs.cpuif_to_irq);
    }
    void update_fiq(unsigned cpu)
    {
        const bool level = fiq_level(cpu);
        if (level != cpus[cpu].fiq_out) {
            cpus[cpu].fiq_out = level;
            for (auto& l : fiq_listeners) l.fn(cpu, level);
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

    // --- the blocks' own operations, each in its block's file ----------------------
    // distributor.cpp
    std::uint32_t gicd_read(unsigned cpu, std::uint32_t off, unsigned size);
    void gicd_write(unsigned cpu, std::uint32_t off, std::uint32_t v, unsigned size);
    std::uint32_t gicd_read_word(unsigned cpu, const GicdRange& r, std::uint32_t off);
    void gicd_write_fields(unsigned cpu, const GicdRange& r, std::uint32_t off, std::uint32_t v, unsigned size);
    void gicd_write_bits(unsigned cpu, GicdRegister reg, unsigned first, std::uint32_t v);
    void write_sgir(unsigned cpu, std::uint32_t v);
    // cpu_interface.cpp
    std::uint32_t acknowledge(unsigned cpu);
    [[gnu::always_inline]] std::uint32_t acknowledge_take(unsigned cpu, const Candidate& cand, IrqState& s);
    [[gnu::noinline, gnu::cold]] std::uint32_t acknowledge_group1(unsigned cpu);
    [[gnu::noinline, gnu::cold]] std::uint32_t highest_pending_id(unsigned cpu, bool alias);
    [[gnu::noinline, gnu::cold]] void end_of_group1_interrupt(unsigned cpu, std::uint32_t value);
    static std::uint8_t highest_running(const std::vector<ActivePriority>& running);
    bool end_of_interrupt(unsigned cpu, std::uint32_t value);
    bool deactivate(unsigned cpu, unsigned intid);
    // cpu_interface.cpp
    std::uint32_t gicc_read(unsigned cpu, std::uint32_t off);
    void gicc_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    // virtual_control.cpp
    std::uint32_t gich_read(unsigned cpu, std::uint32_t off);
    void gich_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    // virtual_cpu_interface.cpp
    std::uint32_t gicv_read(unsigned cpu, std::uint32_t off);
    void gicv_write(unsigned cpu, std::uint32_t off, std::uint32_t v);
    std::uint32_t virtual_acknowledge(unsigned cpu);
    std::uint32_t virtual_take(unsigned cpu, unsigned n);
    [[gnu::noinline, gnu::cold]] std::uint32_t virtual_acknowledge_group1(unsigned cpu);
    [[gnu::noinline, gnu::cold]] std::uint32_t virtual_highest_pending_id(unsigned cpu, bool alias);
    bool deactivate_lr(unsigned cpu, std::uint32_t value);
    void virtual_deactivate(unsigned cpu, std::uint32_t value);
    void virtual_eoi(unsigned cpu, std::uint32_t value);
    // gic.cpp
    std::string self_check();
};

} // namespace fwdsim::gic
