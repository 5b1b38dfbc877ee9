// System: wiring a whole machine from a scenario and measuring it.
// See include/fwdsim/scenario/system.h.  Past 600 lines: the wiring and the
// one function that refuses what cannot be wired (validate_system) are kept
// side by side so they stay in step, until issue #18 moves the assembly
// into a machine layer.
#include <fwdsim/scenario/system.h>

#include <fwdsim/machine/validate.h>

#include <fwdsim/scenario/resolved.h>
#include <fwdsim/scenario/ledger.h>

#include "irq_journey.h"

#include <fwdsim/dev/gic_lines.h>
#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/gic_driver.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/vfio/pci/pci_device.h>
#include <fwdsim/vfio/platform/platform_device.h>
#include <fwdsim/vfio/vfio.h>
#include <fwdsim/vmm/vmm.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <map>

namespace fwdsim::scenario {

namespace {

vmm::Delivery to_vmm(DeliveryMode m)
{
    switch (m) {
    case DeliveryMode::userspace: return vmm::Delivery::userspace;
    case DeliveryMode::irqfd: return vmm::Delivery::irqfd;
    case DeliveryMode::forwarded: return vmm::Delivery::forwarded;
    }
    return vmm::Delivery::none;
}

/// Counters read at the start of the measured window.
struct Snapshot {
    std::map<std::string, std::uint64_t> exits;
    std::map<std::string, std::uint64_t> user_round_trips; ///< by VM
    std::uint64_t host_cycles = 0;
    std::uint64_t guest_cycles = 0;
    std::map<std::pair<std::string, std::string>, vmm::Vmm::SwitchCost> switches; ///< by (from, to), all VMMs
};

} // namespace

/// One device interrupt: its source, the guest driver's handler, and what
/// the run measured of it.
struct DeviceIrq final : guest::IrqHandler {
    std::string name;
    const DeviceIrqConfig* cfg = nullptr;
    std::string vm;
    std::unique_ptr<dev::IrqLine> line;
    std::unique_ptr<dev::InterruptSource> source;
    vfio::IrqContext* context = nullptr;
    vmm::IrqPlan plan;
    ServiceTime service_cfg;
    sim::Rng rng{1};
    const sim::EventQueue* events = nullptr;
    sim::Cycles measure_from{};
    std::optional<sim::Cycles> handling_raised; ///< assert time of the interrupt being handled
    sim::Histogram to_ack, to_eoi, to_deactivate;
    /// When the VMM's switches of this interrupt begin (sorted), and the
    /// acknowledge latency of the interrupts raised within the window after one.
    std::vector<sim::Cycles> switch_starts;
    sim::Cycles switch_window{};
    sim::Histogram to_ack_near_switch;
    bool near_switch(sim::Cycles t) const
    {
        const auto after = std::upper_bound(switch_starts.begin(), switch_starts.end(), t);
        return after != switch_starts.begin() && t - *std::prev(after) < switch_window;
    }
    std::uint64_t base_masks = 0, base_unmasks = 0;
    bool forwarded_now = false;
    bool timer = false; ///< the arch timer: KVM maps it, no VMM or VFIO involved
    unsigned ppi_cpu = 0; ///< the timer's PPI: the physical CPU whose bank it is in
    /// The fate of every assertion (scenario/ledger.h); ledger_base is the
    /// first assertion of the measured window.
    std::unique_ptr<IrqLedger> ledger;
    std::uint64_t ledger_base = 0;
    std::unique_ptr<IrqJourney> journey; ///< its steps in the trace, when one is written
    std::uint64_t mmio = 0; ///< where the VMM maps the device's registers in the guest
    /// Its VM's entries in System::Impl's `vmms` and `vm_guests` (map nodes
    /// do not move), set when the VM boots: the ledger audits the path at
    /// every assertion, and looking the VM up by name there was a tenth of
    /// a forwarded interrupt's host time.
    const std::unique_ptr<vmm::Vmm>* vmm_slot = nullptr;
    const std::vector<guest::Guest*>* guests = nullptr;
    std::uint64_t mmio_address() const override { return mmio; }

    bool measuring(sim::Cycles t) const { return t >= measure_from; }
    sim::Cycles service_time() override
    {
        switch (service_cfg.kind) {
        case ServiceTime::Kind::fixed: return sim::Cycles{service_cfg.cycles};
        case ServiceTime::Kind::exponential:
            return sim::Cycles{static_cast<std::uint64_t>(std::llround(rng.exponential(static_cast<double>(service_cfg.cycles))))};
        case ServiceTime::Kind::uniform:
            return sim::Cycles{service_cfg.min_cycles + rng.uniform(service_cfg.max_cycles - service_cfg.min_cycles + 1)};
        }
        return sim::Cycles{service_cfg.cycles};
    }
    void acknowledged(sim::Cycles now) override
    {
        (void)ledger->acknowledged();
        handling_raised = source->oldest_outstanding();
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
    void service(sim::Cycles now) override
    {
        if (source->trigger() == dev::Trigger::level && source->line_level()) ledger->serviced_level();
        (void)source->service();
        if (journey) journey->serviced(now);
    }
    void completed(sim::Cycles now) override
    {
        if (journey) journey->completed(now, forwarded_now);
        if (!handling_raised || !measuring(*handling_raised)) return;
        to_eoi.record((now - *handling_raised).count());
        // A forwarded interrupt is deactivated by this very EOI (HW list register).
        if (forwarded_now) to_deactivate.record((now - *handling_raised).count());
    }
    // Per-step sums for the latency breakdown, over measured interrupts.
    std::optional<sim::Cycles> host_acked;  ///< host IAR of the interrupt now on its way
    sim::Cycles sum_to_host_ack{}, sum_host_to_guest_ack{};
    std::uint64_t steps_counted = 0;

    void host_acknowledged(sim::Cycles now)
    {
        if (!host_acked) host_acked = now; // the first IAR of this assertion
    }
    void host_deactivated(sim::Cycles now)
    {
        const auto raised = source->oldest_outstanding();
        if (raised && measuring(*raised)) to_deactivate.record((now - *raised).count());
    }
};

using machine::vcpu_pcpu;

void validate_system(const ScenarioConfig& cfg) { machine::validate(cfg); }

/// The machine a scenario describes, for HostBoard.
static machine::HostBoardParams host_params(const ScenarioConfig& cfg, sim::Tracer* tracer)
{
    machine::HostBoardParams p;
    p.gic.num_irqs = cfg.gic_irqs;
    p.gic.num_cpus = cfg.host_cpus;
    p.gic.num_lrs = cfg.gic_lrs;
    p.gic.priority_bits = cfg.gic_priority_bits;
    p.tracer = tracer;
    return p;
}

struct System::Impl {
    ScenarioConfig cfg;
    sim::CostProfile profile;
    sim::Tracer* tracer;
    sim::EventQueue events;
    sim::RandomStreams streams;
    machine::HostBoard hw; ///< GIC, host IRQ layer and CPUs, KVM
    vfio::Vfio vfio;
    std::vector<std::unique_ptr<DeviceIrq>> dev_irqs;
    std::vector<std::size_t> timer_irqs; ///< scratch while building
    std::vector<DeviceIrq*> by_host_irq;  ///< the device IRQ on each host IRQ (VFIO's, not the timer's)
    std::map<std::string, std::unique_ptr<vmm::Vmm>> vmms;
    std::vector<std::unique_ptr<guest::Guest>> guests;
    std::map<std::string, std::vector<guest::Guest*>> vm_guests; ///< the current guests of each VM
    std::vector<std::unique_ptr<vmm::Vmm>> graveyard;           ///< killed VMMs replaced by fresh ones
    std::vector<std::unique_ptr<sim::FunctionEvent>> timed; // switches, kill, warm-up
    std::vector<std::unique_ptr<host::Work>> switch_work;   ///< the VMM's switches, run by its I/O thread
    sim::Rng kill_rng{1};
    Snapshot base;
    Snapshot dead; ///< counters of vCPUs destroyed during the run
    std::map<const kvm::Vm*, std::string> vm_names;
    sim::Cycles measure_from{};
    bool started = false;
    std::uint64_t next_flow = 1; ///< the trace's next interrupt flow id

    Impl(const ScenarioConfig& c, const sim::CostProfile& p, sim::Tracer* t)
        : cfg(validated(c)), profile(p), tracer(t), streams(c.seed), hw(events, profile, host_params(c, t))
    {
        if (const int err = hw.kvm->init(); err < 0) throw sim::ConfigError(cfg.origin, 0, "gic", "KVM cannot request its interrupts");
        kvm_vfio::register_device(*hw.kvm);
        build_devices();
        // Measurement hooks run on every host interrupt: index, don't search.
        by_host_irq.assign(cfg.gic_irqs, nullptr);
        for (auto& d : dev_irqs) {
            if (!d->timer) by_host_irq.at(d->cfg->host_irq) = d.get();
        }
        hw.irqs->set_acknowledge_hook([this](unsigned irq) {
            if (DeviceIrq* d = irq < by_host_irq.size() ? by_host_irq[irq] : nullptr) {
                d->host_acknowledged(events.now());
                if (d->journey) d->journey->host_acknowledged(cpu_track(), events.now());
            }
        });
        hw.irqs->set_deactivate_hook([this](unsigned irq) {
            if (DeviceIrq* d = irq < by_host_irq.size() ? by_host_irq[irq] : nullptr) {
                d->host_deactivated(events.now());
                if (d->journey) d->journey->host_deactivated(cpu_track(), events.now());
            }
        });
        if (tracer != nullptr && tracer->enabled()) {
            for (const auto& c : hw.cpus) tracer->declare(c->track());
        }
    }

    /// The track of the host CPU running kernel code now.
    const std::string& cpu_track() const
    {
        static const std::string none = "host/outside any CPU";
        const host::Cpu* c = hw.this_cpu.current();
        return c != nullptr ? c->track() : none;
    }

    bool tracing() const { return tracer != nullptr && tracer->enabled(); }

    static const ScenarioConfig& validated(const ScenarioConfig& c)
    {
        validate_system(c);
        return c;
    }

    // Builds what validate_system() accepted: its refusals are not repeated.
    void build_devices()
    {
        const vfio::IrqContextEnv env{*hw.irqs, hw.this_cpu, hw.host_costs};
        for (std::size_t di = 0; di < cfg.devices.size(); ++di) {
            const DeviceConfig& d = cfg.devices[di];
            std::vector<vfio::platform::PlatformIrq> pirqs;
            vfio::pci::PciConfig pci;
            pci.has_intx = false;
            unsigned msix_count = 0;
            for (const DeviceIrqConfig& ic : d.irqs) {
                if (ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX) msix_count = std::max(msix_count, ic.subindex + 1);
            }
            pci.msix_irqs.assign(msix_count, 0);
            for (std::size_t ii = 0; ii < d.irqs.size(); ++ii) {
                const DeviceIrqConfig& ic = d.irqs[ii];
                const std::string f = "devices." + std::to_string(di) + ".irqs." + std::to_string(ii);
                const bool level = ic.trigger == TriggerKind::level;
                if (d.kind == DeviceKind::timer) {
                    timer_irqs.push_back(ii);
                } else if (d.kind == DeviceKind::platform) {
                    pirqs.push_back({ic.host_irq, level});
                } else if (ic.index == vfio::VFIO_PCI_INTX_IRQ_INDEX) {
                    pci.has_intx = true;
                    pci.intx_irq = ic.host_irq;
                } else {
                    pci.msix_irqs[ic.subindex] = ic.host_irq;
                }
                if (d.kind != DeviceKind::timer)
                    (void)hw.irqs->irq_set_irq_type(ic.host_irq, level ? host::IrqTrigger::level : host::IrqTrigger::edge);
                auto di_ = std::make_unique<DeviceIrq>();
                di_->name = d.name + "." + std::to_string(ii);
                di_->cfg = &ic;
                di_->vm = d.vm;
                di_->events = &events;
                di_->service_cfg = cfg.guest.handler;
                di_->rng = streams.stream(di_->name + ".handler");
                if (d.kind == DeviceKind::timer) {
                    di_->line = std::make_unique<dev::GicPpiLine>(*hw.gic, vcpu_pcpu(cfg, d.vm, 0), ic.host_irq);
                } else {
                    di_->line = std::make_unique<dev::GicSpiLine>(*hw.gic, ic.host_irq);
                }
                di_->source = std::make_unique<dev::InterruptSource>(
                    events, di_->name, level ? dev::Trigger::level : dev::Trigger::edge, *di_->line, make_traffic(ic.traffic, f),
                    streams.stream(di_->name + ".traffic"));
                di_->ledger = std::make_unique<IrqLedger>(level);
                if (tracing()) {
                    // Device interrupts are taken on the VM's first vCPU (guest_of).
                    di_->journey = std::make_unique<IrqJourney>(*tracer, "devices/" + di_->name, d.vm + "/vcpu0", next_flow);
                }
                if (d.kind == DeviceKind::timer) di_->ppi_cpu = vcpu_pcpu(cfg, d.vm, 0);
                di_->source->set_raise_hook([this, x = di_.get()] {
                    if (x->journey) x->journey->asserted(events.now(), x->source->outstanding() == 0);
                    const bool held = path_holds(*x);
                    x->ledger->audit(held, live_vmm(*x) != nullptr);
                    (void)x->ledger->asserted(x->source->line_level(), held, guest_ready(*x));
                });
                di_->plan = vmm::IrqPlan{d.name, ic.index, ic.subindex, ic.guest_irq >= 32 ? ic.guest_irq - 32 : 0, level};
                di_->plan.msi = d.kind == DeviceKind::pci && ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX;
                di_->plan.vectors = msix_count;
                di_->timer = d.kind == DeviceKind::timer;
                dev_irqs.push_back(std::move(di_));
            }
            if (d.kind == DeviceKind::timer) continue; // KVM's, not VFIO's
            std::unique_ptr<vfio::Device> dev;
            if (d.kind == DeviceKind::platform) dev = std::make_unique<vfio::platform::PlatformDevice>(d.name, env, pirqs);
            else dev = std::make_unique<vfio::pci::PciDevice>(d.name, env, pci);
            vfio::Device& vd = vfio.add_device(d.iommu_group, std::move(dev));
            for (auto& x : dev_irqs) {
                if (x->plan.device == d.name) x->context = vd.irq_context(x->plan.index, x->plan.subindex);
            }
        }
    }

    /// The live VM of `vm`'s VMM, or null.
    kvm::Vm* live_vm(const std::string& vm) const
    {
        const auto it = vmms.find(vm);
        return it != vmms.end() && it->second->alive() ? it->second->vm() : nullptr;
    }
    bool vm_alive(const std::string& vm) const { return live_vm(vm) != nullptr; }
    /// `x`'s VMM while it is alive, else null: live_vm() without the lookup by name.
    const vmm::Vmm* live_vmm(const DeviceIrq& x) const
    {
        const vmm::Vmm* m = x.vmm_slot != nullptr ? x.vmm_slot->get() : nullptr;
        return m != nullptr && m->alive() ? m : nullptr;
    }

    /// `x`'s ledger over the measured window, audited as of now: an open
    /// carrier the path no longer holds counts as lost (or dropped).
    IrqLedger::Counts ledger_now(const DeviceIrq& x) const
    {
        IrqLedger::Counts c = x.ledger->counts(x.ledger_base);
        const auto open = x.ledger->open_id();
        if (open && *open >= x.ledger_base && !path_holds(x)) {
            --c.outstanding;
            ++(x.ledger->open_excused(vm_alive(x.vm)) ? c.dropped : c.lost);
        }
        return c;
    }

    /// Whether some stage of the path holds `x`'s interrupt pending or in
    /// flight, not yet acknowledged by the guest -- each place an
    /// interrupt can wait between the device and the guest's IAR, in path
    /// order.  The ledger's audit rests on this being complete.
    bool path_holds(const DeviceIrq& x) const
    {
        if (x.source->line_level()) return true; // a level line, or an edge's pulse
        const unsigned h = x.cfg->host_irq;
        if (hw.gic->is_pending(h, x.ppi_cpu)) return true;
        // Acknowledged by a host CPU, its flow not finished; or taken with
        // no handler and marked for replay (IRQS_PENDING).
        if (hw.irqs->in_flight(h)) return true;
        // Signalled, not yet read (the VMM's thread, or an irqfd about to be woken).
        if (x.context != nullptr && x.context->trigger() != nullptr && x.context->trigger()->count() > 0) return true;
        const vmm::Vmm* m = live_vmm(x);
        if (m == nullptr) return false;
        const kvm::Vm* vm = m->vm();
        // Read by the VMM's I/O thread or injected by KVM, the effect still
        // to come once its charged cost has elapsed (host::Cpu::after_charged).
        if (m->acts_pending() || vm->acts_pending()) return true;
        // Read from GICV_IAR, the handler not yet told (the read's cost runs).
        if (x.guests != nullptr && !x.guests->empty() && x.guests->front()->acknowledging(x.cfg->guest_irq)) return true;
        if (!x.timer && vm->irqfd_injection_queued(x.cfg->guest_irq)) return true;
        const arch::Vgic* vgic = vm->arch().vgic();
        return vgic != nullptr && vgic->pending_for_guest(0, x.cfg->guest_irq);
    }

    /// Whether `x`'s guest has set its interrupt up as the device drives it.
    bool guest_ready(const DeviceIrq& x) const
    {
        const vmm::Vmm* m = live_vmm(x);
        const kvm::Vm* vm = m != nullptr ? m->vm() : nullptr;
        const arch::Vgic* vgic = vm != nullptr ? vm->arch().vgic() : nullptr;
        if (vgic == nullptr || !vgic->dist_enabled()) return false;
        const arch::VirtualIrq* v = vgic->irq(0, x.cfg->guest_irq);
        return v != nullptr && v->enabled && v->edge == (x.source->trigger() == dev::Trigger::edge);
    }

    std::unique_ptr<dev::Traffic> make_traffic(const TrafficConfig& t, const std::string& field)
    {
        const double hz = static_cast<double>(cfg.clock_hz);
        auto cyc = [&](double us) { return sim::Cycles{static_cast<std::uint64_t>(std::llround(us * hz / 1e6))}; };
        switch (t.kind) {
        case TrafficConfig::Kind::none: return dev::trace_traffic({});
        case TrafficConfig::Kind::periodic: return dev::periodic_traffic(sim::Cycles{static_cast<std::uint64_t>(std::llround(hz / t.rate_per_s))}, cyc(t.jitter_us));
        case TrafficConfig::Kind::poisson: return dev::poisson_traffic(hz / t.rate_per_s);
        case TrafficConfig::Kind::bursty: return dev::bursty_traffic(hz / t.rate_per_s, cyc(t.on_us), cyc(t.off_us));
        case TrafficConfig::Kind::trace: return dev::trace_traffic_from_file(t.trace_file);
        }
        throw sim::ConfigError(cfg.origin, 0, field + ".traffic", "unknown kind");
    }

    sim::Cycles us(double micros) const
    {
        return sim::Cycles{static_cast<std::uint64_t>(std::llround(micros * static_cast<double>(cfg.clock_hz) / 1e6))};
    }

    host::Cpu& io_cpu() { return *hw.cpus[0]; }

    void start()
    {
        if (started) return;
        started = true;
        if (tracing()) {
            for (const VmConfig& v : cfg.vms)
                for (unsigned id = 0; id < v.vcpus; ++id) tracer->declare(v.name + "/vcpu" + std::to_string(id));
            for (auto& x : dev_irqs) tracer->declare(x->journey->device_track());
        }
        for (const VmConfig& v : cfg.vms) launch_vmm(v, false);
        for (auto& [name, m] : vmms) start_vcpus(*m, name);
        for (auto& x : dev_irqs) x->source->start(events.now());
        for (const ModeSwitch& s : cfg.vmm.switches) {
            // `irq` is the interrupt's position in the device's list (its
            // name's suffix), whatever VFIO index it has.
            const std::string name = s.device + "." + std::to_string(s.irq);
            DeviceIrq* target = nullptr;
            for (auto& x : dev_irqs) {
                if (x->name == name) target = x.get();
            }
            // The VMM makes the switch's calls from its I/O thread (QEMU's
            // main loop, under its big lock), so what they cost is charged
            // there and delays what else that CPU does.
            switch_work.push_back(std::make_unique<host::Work>("vmm: switch delivery", [this, target, mode = s.delivery] {
                deliver(*target, mode);
            }));
            at(us(s.at_us), [this, w = switch_work.back().get()] { (void)io_cpu().submit(*w, sim::Cycles{}); });
            target->switch_starts.push_back(us(s.at_us));
        }
        for (auto& x : dev_irqs) {
            std::sort(x->switch_starts.begin(), x->switch_starts.end());
            x->switch_window = us(kSwitchWindowUs);
        }
        if (cfg.vmm.kill_at_us) {
            kill_rng = streams.stream("vmm.close_order." + std::to_string(cfg.vmm.close_order_seed));
            at(us(*cfg.vmm.kill_at_us), [this] {
                for (const VmConfig& v : cfg.vms) kill_vmm(v.name, kill_rng);
            });
        }
        measure_from = events.now() + us(cfg.warmup_us);
        for (auto& x : dev_irqs) x->measure_from = measure_from;
        if (tracing()) {
            // Written now for a time to come (the writer sorts): no event is
            // added, so a traced run counts the same events as another.
            for (auto& x : dev_irqs) tracer->instant(x->journey->device_track(), "warm-up over: measured from here", measure_from);
        }
        if (measure_from > events.now()) at(measure_from, [this] { take_snapshot(); });
        else take_snapshot();
    }

    /// A VMM for VM `v`: the VM, its guests, its devices and their
    /// delivery modes (the vCPUs run when `run` says so).
    void launch_vmm(const VmConfig& v, bool run)
    {
        const guest::GuestCosts gc = guest::GuestCosts::from_profile(profile);
        const std::vector<unsigned> pin = v.pin;
        hw.kvm->set_pinning([pin, n = cfg.host_cpus](unsigned id) {
            return id < pin.size() ? pin[id] : (n > 1 ? 1 + id % (n - 1) : 0);
        });
        auto m = std::make_unique<vmm::Vmm>(vmm::VmmEnv{vfio, *hw.kvm, io_cpu(), hw.host_costs, hw.this_cpu},
                                            "vmm-" + v.name);
        if (const int err = m->set_up_vm(v.vcpus, vm_irqs(cfg, v)); err < 0)
            throw sim::ConfigError(cfg.origin, 0, "vms." + v.name, "the VMM could not set the VM up: errno " + std::to_string(-err));
        if (cfg.vmm.forward_policy == ForwardPolicy::bimodal) {
            // An arch that cannot forward has no policy (-ENXIO): its IRQs fall back to irqfd.
            if (const int err = m->set_forward_policy(vfio::ForwardingPolicy::bimodal); err < 0 && err != -ENXIO)
                throw sim::ConfigError(cfg.origin, 0, "vmm.forward_policy", "kvm-vfio refused the policy: errno " + std::to_string(-err));
        }
        auto& gs = vm_guests[v.name];
        gs.clear();
        for (unsigned id = 0; id < v.vcpus; ++id) {
            guest::GuestParams gp;
            gp.workload = cfg.guest.busy ? guest::Workload::busy : guest::Workload::idle;
            gp.split_eoi = cfg.guest.eoi_mode == 1;
            guests.push_back(std::make_unique<guest::Guest>(*m->vcpu(id), gc, gp));
            gs.push_back(guests.back().get());
        }
        vm_names[m->vm()] = v.name;
        m->vm()->set_trace_name(v.name);
        if (tracing()) {
            m->vm()->set_inject_observer([this, name = v.name](unsigned, unsigned intid) {
                for (auto& x : dev_irqs) {
                    if (x->vm == name && x->cfg->guest_irq == intid && x->journey) x->journey->injected(cpu_track(), events.now());
                }
            });
        }
        if (auto old = vmms.find(v.name); old != vmms.end()) graveyard.push_back(std::move(old->second));
        vmms[v.name] = std::move(m);
        vmm::Vmm& vm = *vmms.at(v.name);
        for (const DeviceConfig& d : cfg.devices) {
            if (d.kind == DeviceKind::timer || d.vm != v.name) continue;
            if (const int err = vm.add_device(d.name, d.iommu_group); err < 0)
                throw sim::ConfigError(cfg.origin, 0, "devices." + d.name, "the VMM could not open the device: errno " + std::to_string(-err));
        }
        for (auto& x : dev_irqs) {
            if (x->vm != v.name) continue;
            x->vmm_slot = &vmms.find(v.name)->second;
            x->guests = &gs;
            x->mmio = x->timer ? 0 : vm.device_mmio(x->plan.device);
            guest_of(x->vm).add_irq(x->cfg->guest_irq, !x->plan.level, *x);
            deliver(*x, x->cfg->delivery);
        }
        if (run) start_vcpus(vm, v.name);
    }

    /// KVM_RUN on each vCPU; since #21 it answers Linux's errnos (an
    /// uninitialised vCPU, vgic frames unset or overlapping), and a VM whose
    /// vCPUs do not run must not pass for an idle one.
    void start_vcpus(vmm::Vmm& m, const std::string& vm)
    {
        if (const int err = m.run_vcpus(); err < 0)
            throw sim::ConfigError(cfg.origin, 0, "vms." + vm, "KVM_RUN failed: errno " + std::to_string(-err));
    }

    void kill_vmm(const std::string& vm, sim::Rng& rng)
    {
        const auto it = vmms.find(vm);
        if (it == vmms.end() || !it->second->alive()) return;
        // Keep what the vCPUs counted: they die with their VMs.
        const Snapshot live = vm_counters();
        for (const auto& [reason, n] : live.exits) dead.exits[reason] += n;
        dead.host_cycles += live.host_cycles;
        it->second->kill(rng);
        // What was on its way into the dead VM went with it.
        for (auto& x : dev_irqs) {
            if (x->vm != vm) continue;
            x->ledger->audit(path_holds(*x), false);
            x->ledger->orphan_open();
        }
        // A dead VM's vCPU counters are now in `dead`; live ones are re-read.
        const Snapshot after = vm_counters();
        for (const auto& [reason, n] : after.exits) dead.exits[reason] -= n;
        dead.host_cycles -= after.host_cycles;
    }

    guest::Guest& guest_of(const std::string& vm)
    {
        // Device interrupts target the VM's first vCPU (the guest's ITARGETSR).
        return *vm_guests.at(vm).at(0);
    }

    void deliver(DeviceIrq& x, DeliveryMode mode)
    {
        vmm::Vmm& m = *vmms.at(x.vm);
        if (x.timer) {
            // kvm_timer_enable: the virtual timer PPI becomes a mapped interrupt.
            if (const int err = m.vm()->map_arch_timer(0, x.cfg->host_irq, x.cfg->guest_irq); err < 0)
                throw sim::ConfigError(cfg.origin, 0, "devices." + x.plan.device, "KVM could not map the timer: errno " + std::to_string(-err));
            x.forwarded_now = true;
            return;
        }
        if (!m.alive()) return;
        (void)m.deliver(x.plan, to_vmm(mode));
        x.forwarded_now = m.delivery(x.plan) == vmm::Delivery::forwarded;
    }

    void at(sim::Cycles when, std::function<void()> fn)
    {
        timed.push_back(std::make_unique<sim::FunctionEvent>(std::move(fn), "system.timed"));
        events.schedule(*timed.back(), std::max(when, events.now()));
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
        for (kvm::Vm* vm : hw.kvm->vms()) {
            const auto name = vm_names.find(vm);
            if (name == vm_names.end()) continue;
            for (kvm::Vcpu* v : vm->vcpus()) {
                for (std::size_t r = 0; r < kvm::kExitReasons; ++r)
                    s.exits[exit_key(name->second, r)] += v->exits(static_cast<kvm::ExitReason>(r));
                s.host_cycles += v->switch_cycles().count();
            }
        }
        return s;
    }

    Snapshot snapshot() const
    {
        Snapshot s = vm_counters();
        for (const auto& [reason, n] : dead.exits) s.exits[reason] += n;
        s.host_cycles += dead.host_cycles;
        for (const auto& [name, m] : vmms) s.user_round_trips[name] += m->user_round_trips();
        for (const auto& m : graveyard) s.user_round_trips[m->process().name().substr(4)] += m->user_round_trips();
        const auto add_switches = [&s](const vmm::Vmm& m) {
            for (const auto& [dir, c] : m.switch_costs()) {
                auto& sum = s.switches[{vmm::delivery_name(dir.first), vmm::delivery_name(dir.second)}];
                sum.count += c.count;
                sum.cycles += c.cycles;
            }
        };
        for (const auto& [name, m] : vmms) add_switches(*m);
        for (const auto& m : graveyard) add_switches(*m);
        for (const auto& c : hw.cpus) s.host_cycles += c->busy_cycles().count();
        for (const auto& g : guests) s.guest_cycles += g->irq_cycles().count();
        return s;
    }

    void take_snapshot()
    {
        base = snapshot();
        for (auto& x : dev_irqs) {
            x->ledger_base = x->ledger->raised();
            x->base_masks = x->context ? x->context->masks() : 0;
            x->base_unmasks = x->context ? x->context->unmasks() : 0;
        }
    }
};

System::System(const ScenarioConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer)
    : impl_(std::make_unique<Impl>(config, profile, tracer))
{
}

System::~System()
{
    if (!impl_) return;
    impl_->guests.clear();
    impl_->vmms.clear(); // the VMMs die: their files close, the VMs go
}

void System::start() { impl_->start(); }

void System::kill_vmm(const std::string& vm, std::uint64_t close_order_seed)
{
    sim::Rng rng = impl_->streams.stream("vmm.close_order." + std::to_string(close_order_seed));
    impl_->kill_vmm(vm, rng);
}

void System::restart_vmm(const std::string& vm)
{
    for (const VmConfig& v : impl_->cfg.vms) {
        if (v.name == vm) impl_->launch_vmm(v, true);
    }
}

void System::set_delivery(const std::string& irq, DeliveryMode mode)
{
    for (const auto& x : impl_->dev_irqs) {
        if (x->name == irq) impl_->deliver(*x, mode);
    }
}

std::uint64_t System::spurious_services(const std::string& irq) const
{
    for (const auto& x : impl_->dev_irqs) {
        if (x->name == irq) return x->source->spurious_services();
    }
    return 0;
}

void System::raise(const std::string& irq)
{
    for (const auto& x : impl_->dev_irqs) {
        if (x->name == irq) x->source->raise_now();
    }
}

std::string System::observe(const std::string& irq) const
{
    const Impl& m = *impl_;
    for (const auto& x : m.dev_irqs) {
        if (x->name != irq) continue;
        const unsigned h = x->cfg->host_irq;
        std::string s = "line=" + std::to_string(x->source->line_level());
        s += " phys=" + std::string(m.hw.gic->is_pending(h) ? "P" : "-") + (m.hw.gic->is_active(h) ? "A" : "-") +
             (m.hw.gic->is_enabled(h) ? "E" : "-");
        s += " vfio=" + std::string(x->context && x->context->masked() ? "masked" : "open");
        // VFIO signalling set up (a trigger eventfd) and the mode published.
        s += " trigger=" + std::string(x->context && x->context->has_trigger() ? "1" : "0");
        s += " fwd=" + std::string(x->context && x->context->forwarded() ? "1" : "0");
        const auto it = m.vmms.find(x->vm);
        kvm::Vm* vm = it != m.vmms.end() && it->second->alive() ? it->second->vm() : nullptr;
        if (vm != nullptr && vm->arch().vgic() != nullptr) {
            const arch::VirtualIrq* v = vm->arch().vgic()->irq(0, x->cfg->guest_irq);
            s += " virq=" + std::string(v->pending() ? "P" : "-") + (v->active ? "A" : "-") + (v->hw ? "H" : "-");
            if (kvm::Vcpu* vc = vm->vcpu(0)) {
                // While the vCPU holds it, its state is in a list register.
                std::string lr = "-";
                const unsigned pcpu = vc->pcpu().id();
                for (unsigned n = 0; n < m.cfg.gic_lrs; ++n) {
                    const gic::ListRegister l{m.hw.gic->read(gic::Block::gich, pcpu, gic::gich::lr0 + 4 * n)};
                    if (l.virtual_id() != x->cfg->guest_irq || l.state() == gic::ListRegister::State::invalid) continue;
                    static constexpr const char* kState[] = {"-", "P", "A", "PA"};
                    lr = std::string(kState[static_cast<unsigned>(l.state())]) + (l.hw() ? "H" : "") + (l.eoi() ? "E" : "");
                }
                s += " lr=" + lr;
                s += " vcpu=" + std::string(kvm::Vcpu::state_name(vc->state()));
                for (std::size_t r = 0; r < kvm::kExitReasons; ++r)
                    if (const auto n = vc->exits(static_cast<kvm::ExitReason>(r)))
                        s += " " + std::string(kvm::kExitReasonNames[r]) + "=" + std::to_string(n);
            }
        }
        return s + " serviced=" + std::to_string(x->source->delivered());
    }
    return {};
}

bool System::guest_gicd_write(const std::string& vm, unsigned vcpu, std::uint32_t offset, std::uint32_t value)
{
    kvm::Vm* v = impl_->live_vm(vm);
    arch::Vgic* vgic = v != nullptr ? v->arch().vgic() : nullptr;
    if (vgic == nullptr || vcpu >= vgic->nr_vcpus()) return false;
    sim::Cycles cost{};
    vgic->dist_write(vcpu, offset, value, cost);
    return true;
}

std::uint64_t System::delivered(const std::string& irq) const
{
    for (const auto& x : impl_->dev_irqs) {
        if (x->name == irq) return x->source->delivered();
    }
    return 0;
}
void System::run_for(sim::Cycles duration) { impl_->events.run_until(impl_->events.now() + duration); }
sim::Cycles System::us(double micros) const { return impl_->us(micros); }
sim::EventQueue& System::events() { return impl_->events; }

RunResult System::report() const
{
    const Impl& m = *impl_;
    RunResult r;
    r.scenario = m.cfg.name;
    r.seed = m.cfg.seed;
    r.profile = m.profile.name();
    r.profile_digest = m.profile.digest();
    r.clock_hz = m.cfg.clock_hz;
    r.duration_us = m.cfg.duration_us;
    r.events = m.events.events_processed();
    r.resolved = resolved_json(m.cfg);
    const Snapshot now = m.snapshot();
    std::vector<IrqLedger::Counts> ledger;
    for (const auto& x : m.dev_irqs) ledger.push_back(m.ledger_now(*x));
    std::uint64_t all_delivered = 0;
    for (const auto& c : ledger) all_delivered += c.delivered;
    for (std::size_t xi = 0; xi < m.dev_irqs.size(); ++xi) {
        const auto& x = m.dev_irqs[xi];
        const IrqLedger::Counts& lc = ledger[xi];
        IrqResult ir;
        ir.name = x->name;
        ir.delivery = std::string(to_string(x->cfg->delivery));
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
        for (std::size_t yi = 0; yi < m.dev_irqs.size(); ++yi) {
            if (m.dev_irqs[yi]->vm == x->vm) vm_delivered += ledger[yi].delivered;
        }
        const double vm_share = vm_delivered ? static_cast<double>(ir.delivered) / static_cast<double>(vm_delivered) : 0.0;
        for (std::size_t rs = 0; rs < kvm::kExitReasons; ++rs) {
            const std::string k = Impl::exit_key(x->vm, rs);
            // Before the warm-up ends there is no base yet: nothing measured.
            const auto base = m.base.exits.find(k);
            const auto n = static_cast<double>(base == m.base.exits.end() ? 0 : now.exits.at(k) - base->second);
            ir.exits[std::string(kvm::kExitReasonNames[rs])] = static_cast<std::uint64_t>(std::llround(n * vm_share));
        }
        ir.maintenance_irqs = ir.exits["maintenance"];
        ir.vfio_masks = x->context ? x->context->masks() - x->base_masks : 0;
        ir.vfio_unmasks = x->context ? x->context->unmasks() - x->base_unmasks : 0;
        {
            const auto at = [&](const Snapshot& sn) {
                const auto it = sn.user_round_trips.find(x->vm);
                return it == sn.user_round_trips.end() ? std::uint64_t{0} : it->second;
            };
            ir.user_round_trips = static_cast<std::uint64_t>(std::llround(static_cast<double>(at(now) - at(m.base)) * vm_share));
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
    if (std::string gic = m.hw.gic->self_check(); !gic.empty()) broken.push_back("GIC: " + gic);
    // The ledger: no assertion lost, no delivery that no assertion explains.
    for (const auto& x : m.dev_irqs) {
        const IrqLedger::Counts c = m.ledger_now(*x);
        if (c.lost != 0) {
            std::string ids;
            for (const auto id : x->ledger->lost_ids()) ids += " #" + std::to_string(id);
            if (x->ledger->open_id() && !m.path_holds(*x) && !x->ledger->open_excused(m.vm_alive(x->vm)))
                ids += " #" + std::to_string(*x->ledger->open_id());
            broken.push_back(x->name + ": " + std::to_string(c.lost) + " interrupt(s) lost (assertion" + ids + " of " +
                             std::to_string(c.raised) + ")");
        }
        if (c.duplicated != 0)
            broken.push_back(x->name + ": " + std::to_string(c.duplicated) + " guest acknowledge(s) no assertion explains");
    }
    bool any_alive = false;
    for (const auto& [n, v] : m.vmms) any_alive = any_alive || v->alive();
    auto& vfio = const_cast<vfio::Vfio&>(m.vfio);
    // A dead VMM's devices are released as VFIO defines it, and no VM of its
    // is left.
    for (const auto& [name, v] : m.vmms) {
        if (v->alive() || !m.started) continue;
        for (const auto& [vm, vm_name] : m.vm_names) {
            const auto live = m.hw.kvm->vms();
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
                const std::uint32_t lr = m.hw.gic->read(gic::Block::gich, cpu, gic::gich::lr0 + 4 * n);
                if ((lr >> 28) & 3u) broken.push_back("CPU " + std::to_string(cpu) + " LR" + std::to_string(n) + " still holds INTID " + std::to_string(lr & 0x3FF));
            }
        }
        for (const auto& x : m.dev_irqs) {
            if (!x->timer) continue;
            for (auto& v : m.hw.irqs->released_state_violations(x->cfg->host_irq)) broken.push_back(x->name + ": " + v);
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
