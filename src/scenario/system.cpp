// System: a scenario's run and its measurements over a machine::Machine.
// See include/fwdsim/scenario/system.h.  The machine layer wires the system;
// this file only observes it -- per interrupt latencies, the ledger, the
// trace's journeys, the counters of the measured window -- and checks it.
#include <fwdsim/scenario/system.h>

#include <fwdsim/machine/machine.h>
#include <fwdsim/machine/validate.h>
#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/ledger.h>

#include "irq_journey.h"

#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/vfio/vfio.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace fwdsim::scenario {

namespace {

/// The VM a VMM ran: its process is "vmm-" + the VM's name (machine.cpp).
std::string vm_of(vmm::Vmm& m)
{
    return m.process().name().substr(4);
}

/// What one interrupt caused itself, counted where it happened.
struct IrqOwn {
    std::uint64_t eoi_maintenance = 0; ///< its guest IRQ's EOI maintenance (the vgic)
    std::uint64_t user_round_trips = 0; ///< the VMM's, for this device IRQ
    std::uint64_t user_exits = 0;       ///< vCPU exits to the VMM it caused (mmio_user)
};

/// Counters read at the start of the measured window.
struct Snapshot {
    std::map<std::string, std::uint64_t> exits; ///< by "vm/reason"
    std::map<std::string, std::uint64_t> user_round_trips; ///< by VM
    std::vector<IrqOwn> own; ///< by measure (System::Impl::measures)
    std::uint64_t host_cycles = 0;
    std::uint64_t guest_cycles = 0;
    std::map<std::pair<std::string, std::string>, vmm::Vmm::SwitchCost> switches; ///< by (from, to), all VMMs
};

/// What the run measures of one device interrupt, as the machine reports
/// its steps.
struct IrqMeasure final : machine::IrqObserver {
    IrqMeasure(const machine::Machine& m, machine::DeviceIrq& irq) : machine(m), x(irq) {}

    const machine::Machine& machine;
    machine::DeviceIrq& x;
    sim::Cycles measure_from{};
    std::optional<sim::Cycles> handling_raised; ///< assert time of the interrupt being handled
    sim::Histogram to_ack, to_eoi, to_deactivate;
    /// When the VMM's switches of this interrupt begin (sorted), and the
    /// acknowledge latency of the interrupts raised within the window after one.
    std::vector<sim::Cycles> switch_starts;
    sim::Cycles switch_window{};
    sim::Histogram to_ack_near_switch;
    std::uint64_t base_masks = 0, base_unmasks = 0;
    /// The fate of every assertion (scenario/ledger.h); ledger_base is the
    /// first assertion of the measured window.
    std::unique_ptr<IrqLedger> ledger;
    std::uint64_t ledger_base = 0;
    std::unique_ptr<IrqJourney> journey; ///< its steps in the trace, when one is written
    // Per-step sums for the latency breakdown, over measured interrupts.
    std::optional<sim::Cycles> host_acked; ///< host IAR of the interrupt now on its way
    sim::Cycles sum_to_host_ack{}, sum_host_to_guest_ack{};
    std::uint64_t steps_counted = 0;

    bool measuring(sim::Cycles t) const { return t >= measure_from; }
    bool near_switch(sim::Cycles t) const
    {
        const auto after = std::upper_bound(switch_starts.begin(), switch_starts.end(), t);
        return after != switch_starts.begin() && t - *std::prev(after) < switch_window;
    }

    void asserted(sim::Cycles now) override
    {
        if (journey) journey->asserted(now, x.source->outstanding() == 0);
        // Whether the path still holds the last carrier matters only while
        // one is open: most assertions find it acknowledged, so skip the walk.
        const bool held = ledger->has_open_carrier() && machine.path_holds(x);
        ledger->audit(held, machine.live_vmm(x) != nullptr);
        (void)ledger->asserted(x.source->line_level(), held, machine.guest_ready(x));
    }
    void host_acknowledged(sim::Cycles now) override
    {
        if (!host_acked) host_acked = now; // the first IAR of this assertion
        if (journey) journey->host_acknowledged(machine.cpu_track(), now);
    }
    void host_deactivated(sim::Cycles now) override
    {
        const auto raised = x.source->oldest_outstanding();
        if (raised && measuring(*raised)) to_deactivate.record((now - *raised).count());
        if (journey) journey->host_deactivated(machine.cpu_track(), now);
    }
    void injected(sim::Cycles now) override
    {
        if (journey) journey->injected(machine.cpu_track(), now);
    }
    void guest_acknowledged(sim::Cycles now) override
    {
        (void)ledger->acknowledged();
        handling_raised = x.source->oldest_outstanding();
        if (journey) journey->guest_acknowledged(now, handling_raised.has_value());
        if (handling_raised && measuring(*handling_raised)) {
            to_ack.record((now - *handling_raised).count());
            if (near_switch(*handling_raised)) to_ack_near_switch.record((now - *handling_raised).count());
            if (host_acked && *host_acked >= *handling_raised && *host_acked <= now) {
                sum_to_host_ack += *host_acked - *handling_raised;
                sum_host_to_guest_ack += now - *host_acked;
                ++steps_counted;
            }
        }
        host_acked.reset();
    }
    void before_service(sim::Cycles) override
    {
        if (x.source->trigger() == dev::Trigger::level && x.source->line_level()) ledger->serviced_level();
    }
    void after_service(sim::Cycles now) override
    {
        if (journey) journey->serviced(now);
    }
    void guest_completed(sim::Cycles now) override
    {
        if (journey) journey->completed(now, x.forwarded_now);
        if (!handling_raised || !measuring(*handling_raised)) return;
        to_eoi.record((now - *handling_raised).count());
        // A forwarded interrupt is deactivated by this very EOI (HW list register).
        if (x.forwarded_now) to_deactivate.record((now - *handling_raised).count());
    }
};

} // namespace

void validate_system(const ScenarioConfig& cfg) { machine::validate(cfg); }

struct System::Impl {
    ScenarioConfig cfg;
    sim::Tracer* tracer;
    std::vector<std::unique_ptr<IrqMeasure>> measures; ///< one per machine.irqs(), in order (outlives the machine)
    machine::Machine machine;
    Snapshot base;
    Snapshot dead; ///< counters of vCPUs destroyed during the run
    sim::Cycles measure_from{};
    bool started = false;
    std::uint64_t next_flow = 1; ///< the trace's next interrupt flow id

    Impl(const ScenarioConfig& c, const sim::CostProfile& p, sim::Tracer* t) : cfg(c), tracer(t), machine(c, p, t)
    {
        for (std::size_t i = 0; i < machine.irqs().size(); ++i) {
            machine::DeviceIrq& x = *machine.irqs()[i];
            auto m = std::make_unique<IrqMeasure>(machine, x);
            m->ledger = std::make_unique<IrqLedger>(x.cfg->trigger == TriggerKind::level);
            if (tracing()) {
                // Device interrupts are taken on the VM's first vCPU (guest_of).
                m->journey = std::make_unique<IrqJourney>(*tracer, "devices/" + x.name, x.vm + "/vcpu0", next_flow);
            }
            machine.set_observer(i, m.get());
            measures.push_back(std::move(m));
        }
        machine.observe_injections(tracing());
        machine.set_kill_hooks({[this](const std::string&) { keep_dead_counters(Kill::before); },
                                [this](const std::string& vm) {
                                    // What was on its way into the dead VM went with it.
                                    for (auto& m : measures) {
                                        if (m->x.vm != vm) continue;
                                        m->ledger->audit(machine.path_holds(m->x), false);
                                        m->ledger->orphan_open();
                                    }
                                    keep_dead_counters(Kill::after);
                                }});
        if (tracing()) {
            for (const auto& c : machine.board().cpus) tracer->declare(c->track());
        }
    }

    bool tracing() const { return tracer != nullptr && tracer->enabled(); }
    bool vm_alive(const std::string& vm) const { return machine.live_vm(vm) != nullptr; }

    /// Around a kill: the vCPUs' counters die with their VMs, so what the
    /// live VMs counted is added to `dead` before and what still lives is
    /// taken off after.
    enum class Kill { before, after };
    void keep_dead_counters(Kill when)
    {
        const Snapshot live = vm_counters();
        for (const auto& [reason, n] : live.exits) {
            if (when == Kill::before) dead.exits[reason] += n;
            else dead.exits[reason] -= n;
        }
        dead.own.resize(live.own.size());
        for (std::size_t i = 0; i < live.own.size(); ++i) {
            if (when == Kill::before) dead.own[i].eoi_maintenance += live.own[i].eoi_maintenance;
            else dead.own[i].eoi_maintenance -= live.own[i].eoi_maintenance;
        }
        if (when == Kill::before) dead.host_cycles += live.host_cycles;
        else dead.host_cycles -= live.host_cycles;
    }

    /// `m`'s ledger over the measured window, audited as of now: an open
    /// carrier the path no longer holds counts as lost (or dropped).
    IrqLedger::Counts ledger_now(const IrqMeasure& m) const
    {
        IrqLedger::Counts c = m.ledger->counts(m.ledger_base);
        const auto open = m.ledger->open_id();
        if (open && *open >= m.ledger_base && !machine.path_holds(m.x)) {
            --c.outstanding;
            ++(m.ledger->open_excused(vm_alive(m.x.vm)) ? c.dropped : c.lost);
        }
        return c;
    }

    void start()
    {
        if (started) return;
        started = true;
        if (tracing()) {
            for (const VmConfig& v : cfg.vms)
                for (unsigned id = 0; id < v.vcpus; ++id) tracer->declare(v.name + "/vcpu" + std::to_string(id));
            for (auto& m : measures) tracer->declare(m->journey->device_track());
        }
        machine.start();
        for (const ModeSwitch& s : cfg.vmm.switches) {
            const std::string name = s.device + "." + std::to_string(s.irq);
            for (auto& m : measures) {
                if (m->x.name == name) m->switch_starts.push_back(machine.us(s.at_us));
            }
        }
        for (auto& m : measures) {
            std::sort(m->switch_starts.begin(), m->switch_starts.end());
            m->switch_window = machine.us(kSwitchWindowUs);
        }
        measure_from = machine.events().now() + machine.us(cfg.warmup_us);
        for (auto& m : measures) m->measure_from = measure_from;
        if (tracing()) {
            // Written now for a time to come (the writer sorts): no event is
            // added, so a traced run counts the same events as another.
            for (auto& m : measures) tracer->instant(m->journey->device_track(), "warm-up over: measured from here", measure_from);
        }
        if (measure_from > machine.events().now()) machine.at(measure_from, [this] { take_snapshot(); });
        else take_snapshot();
    }

    /// What measure `i` caused itself over the measured window (nothing
    /// before the warm-up ends).
    std::uint64_t own_delta(const Snapshot& now, std::size_t i, std::uint64_t IrqOwn::*field) const
    {
        if (i >= base.own.size()) return 0;
        return now.own[i].*field - base.own[i].*field;
    }

    static std::string exit_key(const std::string& vm, std::size_t reason)
    {
        return vm + "/" + std::string(kvm::kExitReasonNames[reason]);
    }

    /// What the live VMs' vCPUs counted (their counters go with them).
    Snapshot vm_counters() const
    {
        // Exits are kept per VM ("vm0/wfi"): an interrupt is charged only
        // the exits of the VM it is delivered to.
        Snapshot s;
        for (const VmConfig& v : cfg.vms)
            for (std::size_t r = 0; r < kvm::kExitReasons; ++r) s.exits[exit_key(v.name, r)] = 0;
        for (kvm::Vm* vm : machine.board().kvm->vms()) {
            const auto name = machine.vm_names().find(vm);
            if (name == machine.vm_names().end()) continue;
            for (kvm::Vcpu* v : vm->vcpus()) {
                for (std::size_t r = 0; r < kvm::kExitReasons; ++r)
                    s.exits[exit_key(name->second, r)] += v->exits(static_cast<kvm::ExitReason>(r));
                s.host_cycles += v->switch_cycles().count();
            }
        }
        // The vgic counts EOI maintenance per guest IRQ: each measure's own.
        s.own.resize(measures.size());
        for (std::size_t i = 0; i < measures.size(); ++i) s.own[i].eoi_maintenance = machine.eoi_maintenance(measures[i]->x);
        return s;
    }

    Snapshot snapshot() const
    {
        Snapshot s = vm_counters();
        for (const auto& [reason, n] : dead.exits) s.exits[reason] += n;
        s.host_cycles += dead.host_cycles;
        for (const auto& [name, m] : machine.vmms()) s.user_round_trips[name] += m->user_round_trips();
        for (const auto& m : machine.graveyard()) s.user_round_trips[vm_of(*m)] += m->user_round_trips();
        for (std::size_t i = 0; i < dead.own.size(); ++i) s.own[i].eoi_maintenance += dead.own[i].eoi_maintenance;
        // The VMM counts its round trips per device IRQ; a restarted VMM's
        // predecessors (the graveyard) counted the same IRQs before it.
        for (std::size_t i = 0; i < measures.size(); ++i) {
            const machine::DeviceIrq& x = measures[i]->x;
            const auto add = [&](const vmm::Vmm& m) {
                s.own[i].user_round_trips += m.user_round_trips(x.plan);
                s.own[i].user_exits += m.user_exits(x.plan);
            };
            if (const auto it = machine.vmms().find(x.vm); it != machine.vmms().end()) add(*it->second);
            for (const auto& m : machine.graveyard())
                if (vm_of(*m) == x.vm) add(*m);
        }
        const auto add_switches = [&s](const vmm::Vmm& m) {
            for (const auto& [dir, c] : m.switch_costs()) {
                auto& sum = s.switches[{vmm::delivery_name(dir.first), vmm::delivery_name(dir.second)}];
                sum.count += c.count;
                sum.cycles += c.cycles;
            }
        };
        for (const auto& [name, m] : machine.vmms()) add_switches(*m);
        for (const auto& m : machine.graveyard()) add_switches(*m);
        for (const auto& c : machine.board().cpus) s.host_cycles += c->busy_cycles().count();
        for (const auto& g : machine.guests()) s.guest_cycles += g->irq_cycles().count();
        return s;
    }

    void take_snapshot()
    {
        base = snapshot();
        for (auto& m : measures) {
            m->ledger_base = m->ledger->raised();
            m->base_masks = m->x.context ? m->x.context->masks() : 0;
            m->base_unmasks = m->x.context ? m->x.context->unmasks() : 0;
        }
    }
};

System::System(const ScenarioConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer)
    : impl_(std::make_unique<Impl>(config, profile, tracer))
{
}

System::~System() = default;

void System::start() { impl_->start(); }

void System::kill_vmm(const std::string& vm, std::uint64_t close_order_seed)
{
    sim::Rng rng = impl_->machine.streams().stream("vmm.close_order." + std::to_string(close_order_seed));
    impl_->machine.kill_vmm(vm, rng);
}

void System::restart_vmm(const std::string& vm) { impl_->machine.restart_vmm(vm); }

void System::set_delivery(const std::string& irq, DeliveryMode mode)
{
    if (machine::DeviceIrq* x = impl_->machine.find(irq)) impl_->machine.deliver(*x, mode);
}

std::uint64_t System::spurious_services(const std::string& irq) const
{
    const machine::DeviceIrq* x = impl_->machine.find(irq);
    return x != nullptr ? x->source->spurious_services() : 0;
}

void System::raise(const std::string& irq)
{
    if (machine::DeviceIrq* x = impl_->machine.find(irq)) x->source->raise_now();
}

std::string System::observe(const std::string& irq) const
{
    const machine::DeviceIrq* x = impl_->machine.find(irq);
    return x != nullptr ? impl_->machine.observe(*x) : std::string{};
}

bool System::guest_gicd_write(const std::string& vm, unsigned vcpu, std::uint32_t offset, std::uint32_t value)
{
    return impl_->machine.guest_gicd_write(vm, vcpu, offset, value);
}

std::uint64_t System::delivered(const std::string& irq) const
{
    const machine::DeviceIrq* x = impl_->machine.find(irq);
    return x != nullptr ? x->source->delivered() : 0;
}

void System::run_for(sim::Cycles duration)
{
    sim::EventQueue& q = impl_->machine.events();
    q.run_until(q.now() + duration);
}
sim::Cycles System::us(double micros) const { return impl_->machine.us(micros); }
sim::EventQueue& System::events() { return impl_->machine.events(); }

RunResult System::report() const
{
    const Impl& m = *impl_;
    RunResult r;
    r.scenario = m.cfg.name;
    r.seed = m.cfg.seed;
    r.profile = m.machine.profile().name();
    r.profile_digest = m.machine.profile().digest();
    r.clock_hz = m.cfg.clock_hz;
    r.duration_us = m.cfg.duration_us;
    r.events = m.machine.events().events_processed();
    r.resolved = resolved_json(m.cfg);
    const Snapshot now = m.snapshot();
    std::vector<IrqLedger::Counts> ledger;
    for (const auto& x : m.measures) ledger.push_back(m.ledger_now(*x));
    std::uint64_t all_delivered = 0;
    for (const auto& c : ledger) all_delivered += c.delivered;
    for (std::size_t xi = 0; xi < m.measures.size(); ++xi) {
        const auto& x = m.measures[xi];
        const IrqLedger::Counts& lc = ledger[xi];
        IrqResult ir;
        ir.name = x->x.name;
        ir.delivery = std::string(to_string(x->x.cfg->delivery));
        ir.raised = lc.raised;
        ir.delivered = lc.delivered;
        ir.coalesced = lc.coalesced;
        ir.outstanding = lc.outstanding;
        ir.lost = lc.lost;
        ir.dropped = lc.dropped;
        ir.redelivered = lc.redelivered;
        ir.duplicated = lc.duplicated;
        ir.to_ack = x->to_ack;
        ir.to_ack_near_switch = x->to_ack_near_switch;
        ir.to_eoi = x->to_eoi;
        ir.to_deactivate = x->to_deactivate;
        const double share = all_delivered ? static_cast<double>(ir.delivered) / static_cast<double>(all_delivered) : 0.0;
        auto part = [&](std::uint64_t total) { return static_cast<std::uint64_t>(std::llround(static_cast<double>(total) * share)); };
        std::uint64_t vm_delivered = 0;
        for (std::size_t yi = 0; yi < m.measures.size(); ++yi) {
            if (m.measures[yi]->x.vm == x->x.vm) vm_delivered += ledger[yi].delivered;
        }
        const double vm_share = vm_delivered ? static_cast<double>(ir.delivered) / static_cast<double>(vm_delivered) : 0.0;
        // What an interrupt caused itself is its own; what its VM counted
        // beyond all its interrupts' own (a WFI, an underflow maintenance,
        // another device's host IRQ) is shared out by deliveries.
        const auto own_and_share = [&](std::uint64_t vm_total, std::uint64_t IrqOwn::*field) {
            std::uint64_t all_own = 0;
            for (std::size_t yi = 0; yi < m.measures.size(); ++yi)
                if (m.measures[yi]->x.vm == x->x.vm) all_own += m.own_delta(now, yi, field);
            const std::uint64_t rest = vm_total > all_own ? vm_total - all_own : 0;
            return m.own_delta(now, xi, field) + static_cast<std::uint64_t>(std::llround(static_cast<double>(rest) * vm_share));
        };
        for (std::size_t rs = 0; rs < kvm::kExitReasons; ++rs) {
            const std::string k = Impl::exit_key(x->x.vm, rs);
            // Before the warm-up ends there is no base yet: nothing measured.
            const auto base = m.base.exits.find(k);
            const std::uint64_t n = base == m.base.exits.end() ? 0 : now.exits.at(k) - base->second;
            std::uint64_t& out = ir.exits[std::string(kvm::kExitReasonNames[rs])];
            if (rs == static_cast<std::size_t>(kvm::ExitReason::maintenance)) out = own_and_share(n, &IrqOwn::eoi_maintenance);
            else if (rs == static_cast<std::size_t>(kvm::ExitReason::mmio_user)) out = own_and_share(n, &IrqOwn::user_exits);
            else out = static_cast<std::uint64_t>(std::llround(static_cast<double>(n) * vm_share));
        }
        ir.maintenance_irqs = m.own_delta(now, xi, &IrqOwn::eoi_maintenance);
        ir.vfio_masks = x->x.context ? x->x.context->masks() - x->base_masks : 0;
        ir.vfio_unmasks = x->x.context ? x->x.context->unmasks() - x->base_unmasks : 0;
        {
            const auto at = [&](const Snapshot& sn) {
                const auto it = sn.user_round_trips.find(x->x.vm);
                return it == sn.user_round_trips.end() ? std::uint64_t{0} : it->second;
            };
            ir.user_round_trips = own_and_share(m.base.own.empty() ? 0 : at(now) - at(m.base), &IrqOwn::user_round_trips);
        }
        ir.host_cycles = part(now.host_cycles - m.base.host_cycles);
        ir.guest_cycles = part(now.guest_cycles - m.base.guest_cycles);
        const double ack = ir.to_ack.mean(), eoi = ir.to_eoi.mean();
        const double n = static_cast<double>(x->steps_counted);
        const double to_host = n > 0 ? static_cast<double>(x->sum_to_host_ack.count()) / n : 0.0;
        const double host_to_guest = n > 0 ? static_cast<double>(x->sum_host_to_guest_ack.count()) / n : 0.0;
        ir.breakdown = {{"device assert -> host IAR", to_host},
                        {"host IAR -> guest IAR (host handler, injection, vCPU wake-up or kick, entry)", host_to_guest},
                        {"device assert -> guest IAR", ack},
                        {"guest IAR -> guest EOI (handler)", eoi - ack},
                        {"host cycles per interrupt", ir.per_irq(ir.host_cycles)},
                        {"guest cycles per interrupt", ir.per_irq(ir.guest_cycles)}};
        r.irqs.push_back(std::move(ir));
    }
    if (!m.cfg.vmm.switches.empty()) {
        r.forward_policy = std::string(to_string(m.cfg.vmm.forward_policy));
        for (const auto& [dir, c] : now.switches) {
            const auto b = m.base.switches.find(dir);
            SwitchResult w{dir.first, dir.second, c.count, c.cycles};
            if (b != m.base.switches.end()) {
                w.count -= b->second.count;
                w.host_cycles -= b->second.cycles;
            }
            if (w.count != 0) r.switches.push_back(w);
        }
    }
    return r;
}

std::vector<std::string> System::check() const
{
    std::vector<std::string> broken;
    const Impl& m = *impl_;
    // What the GIC model caches for speed must match its registers.
    if (std::string gic = m.machine.board().gic->self_check(); !gic.empty()) broken.push_back("GIC: " + gic);
    // The ledger: no assertion lost, no delivery that no assertion explains.
    for (const auto& x : m.measures) {
        const IrqLedger::Counts c = m.ledger_now(*x);
        if (c.lost != 0) {
            std::string ids;
            for (const auto id : x->ledger->lost_ids()) ids += " #" + std::to_string(id);
            if (x->ledger->open_id() && !m.machine.path_holds(x->x) && !x->ledger->open_excused(m.vm_alive(x->x.vm)))
                ids += " #" + std::to_string(*x->ledger->open_id());
            broken.push_back(x->x.name + ": " + std::to_string(c.lost) + " interrupt(s) lost (assertion" + ids + " of " +
                             std::to_string(c.raised) + ")");
        }
        if (c.duplicated != 0)
            broken.push_back(x->x.name + ": " + std::to_string(c.duplicated) + " guest acknowledge(s) no assertion explains");
    }
    bool any_alive = false;
    for (const auto& [n, v] : m.machine.vmms()) any_alive = any_alive || v->alive();
    auto& vfio = const_cast<machine::Machine&>(m.machine).vfio();
    // A dead VMM's devices are released as VFIO defines it, and no VM of its
    // is left.
    for (const auto& [name, v] : m.machine.vmms()) {
        if (v->alive() || !m.started) continue;
        for (const auto& [vm, vm_name] : m.machine.vm_names()) {
            const auto live = m.machine.board().kvm->vms();
            if (vm_name == name && std::find(live.begin(), live.end(), vm) != live.end())
                broken.push_back("VM " + name + " outlived its VMM");
        }
        for (const DeviceConfig& d : m.cfg.devices) {
            if (d.vm != name || d.kind == DeviceKind::timer) continue;
            vfio::Device* dev = vfio.device(d.name);
            if (dev == nullptr) continue;
            if (dev->refcount() != 1 || dev->open_count() != 0)
                broken.push_back(d.name + ": " + std::to_string(dev->refcount()) + " references, open " + std::to_string(dev->open_count()) + " times after its VMM died");
            for (vfio::IrqContext* ctx : dev->irq_contexts())
                for (auto& v2 : ctx->released_state_violations()) broken.push_back(d.name + ": " + v2);
        }
    }
    if (!any_alive && m.started) {
        for (auto& v : vfio.released_state_violations()) broken.push_back(v);
        // No list register may still hold a dead VM's interrupt.
        for (unsigned cpu = 0; cpu < m.cfg.host_cpus; ++cpu) {
            for (unsigned n = 0; n < m.cfg.gic_lrs; ++n) {
                const std::uint32_t lr = m.machine.board().gic->read(gic::Block::gich, cpu, gic::gich::lr0 + 4 * n);
                if ((lr >> 28) & 3u) broken.push_back("CPU " + std::to_string(cpu) + " LR" + std::to_string(n) + " still holds INTID " + std::to_string(lr & 0x3FF));
            }
        }
        for (const auto& x : m.measures) {
            if (!x->x.timer) continue;
            for (auto& v : m.machine.board().irqs->released_state_violations(x->x.cfg->host_irq)) broken.push_back(x->x.name + ": " + v);
        }
    }
    return broken;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

} // namespace

sim::CostProfile load_profile(const ScenarioConfig& config)
{
    const sim::CostProfile& model = sim::CostProfile::builtin_default();
    if (config.profile == "default") return model;
    sim::CostProfile p = sim::CostProfile::parse(read_input_file(config.profile, "cost profile"), config.profile);
    // The model reads the primitives the built-in profile lists; any other
    // key is a typo whose intended primitive silently keeps its default.
    for (const auto& [key, entry] : p.entries()) {
        if (model.contains(key)) continue;
        std::string nearest;
        std::size_t best = 4; // suggest only close spellings
        for (const auto& [known, unused] : model.entries()) {
            if (const std::size_t d = edit_distance(key, known); d < best) best = d, nearest = known;
        }
        throw sim::ConfigError(config.profile, entry.line, key,
                               "not a primitive of the model" + (nearest.empty() ? std::string(" (`fwdsim profile` lists them)")
                                                                                 : " (did you mean " + nearest + "?)"));
    }
    return p;
}

RunResult run_scenario(const ScenarioConfig& config, sim::Tracer* tracer)
{
    return run_scenario(config, load_profile(config), tracer);
}

RunResult run_scenario(const ScenarioConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer)
{
    System sys(config, profile, tracer);
    sys.start();
    sys.run_for(sys.us(config.duration_us));
    RunResult r = sys.report();
    return r;
}

} // namespace fwdsim::scenario
