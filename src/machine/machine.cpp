// Machine: assembling a whole system from a MachineConfig.  See
// include/fwdsim/machine/machine.h.
#include <fwdsim/machine/machine.h>

#include <fwdsim/machine/devices.h>
#include <fwdsim/machine/validate.h>

#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/gic/registers.h>
#include <fwdsim/host/cpu.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/kvm_vfio/kvm_vfio.h>
#include <fwdsim/sim/config_error.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

namespace fwdsim::machine {

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

/// The host board a configuration describes.
HostBoardParams host_params(const MachineConfig& cfg, sim::Tracer* tracer)
{
    HostBoardParams p;
    p.gic.num_irqs = cfg.gic_irqs;
    p.gic.num_cpus = cfg.host_cpus;
    p.gic.num_lrs = cfg.gic_lrs;
    p.gic.priority_bits = cfg.gic_priority_bits;
    p.tracer = tracer;
    return p;
}

const MachineConfig& validated(const MachineConfig& c)
{
    validate(c);
    return c;
}

} // namespace

// --- one device interrupt: the guest driver's handler -------------------------------------

sim::Cycles DeviceIrq::service_time()
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

void DeviceIrq::acknowledged(sim::Cycles now)
{
    if (observer != nullptr) observer->guest_acknowledged(now);
}

void DeviceIrq::service(sim::Cycles now)
{
    if (observer != nullptr) observer->before_service(now);
    (void)source->service();
    if (observer != nullptr) observer->after_service(now);
}

void DeviceIrq::completed(sim::Cycles now)
{
    if (observer != nullptr) observer->guest_completed(now);
}

// --- refusals found while building -------------------------------------------------------

void Machine::fail(const std::string& key, const std::string& what) const
{
    // Found while building, still reported where the file gives the key.
    throw sim::ConfigError(cfg_.origin, cfg_.lines.line(key), key, what);
}

std::string Machine::vm_key(const std::string& name) const
{
    for (std::size_t i = 0; i < cfg_.vms.size(); ++i) {
        if (cfg_.vms[i].name == name) return "vms." + std::to_string(i);
    }
    return "vms";
}

std::string Machine::device_key(const std::string& name) const
{
    for (std::size_t i = 0; i < cfg_.devices.size(); ++i) {
        if (cfg_.devices[i].name == name) return "devices." + std::to_string(i);
    }
    return "devices";
}

// --- building ---------------------------------------------------------------------------

Machine::Machine(const MachineConfig& c, const sim::CostProfile& p, sim::Tracer* t)
    : cfg_(validated(c)), profile_(p), tracer_(t), streams_(c.seed), hw_(events_, profile_, host_params(c, t))
{
    if (const int err = hw_.kvm->init(); err < 0) fail("gic", "KVM cannot request its interrupts");
    kvm_vfio::register_device(*hw_.kvm);
    build_devices();
    // The observers' hooks run on every host interrupt: index, don't search.
    by_host_irq_.assign(cfg_.gic_irqs, nullptr);
    for (auto& d : irqs_) {
        if (!d->timer) by_host_irq_.at(d->cfg->host_irq) = d.get();
    }
    hw_.irqs->set_acknowledge_hook([this](unsigned irq) {
        DeviceIrq* d = irq < by_host_irq_.size() ? by_host_irq_[irq] : nullptr;
        if (d != nullptr && d->observer != nullptr) d->observer->host_acknowledged(events_.now());
    });
    hw_.irqs->set_deactivate_hook([this](unsigned irq) {
        DeviceIrq* d = irq < by_host_irq_.size() ? by_host_irq_[irq] : nullptr;
        if (d != nullptr && d->observer != nullptr) d->observer->host_deactivated(events_.now());
    });
}

Machine::~Machine()
{
    guests_.clear();
    vmms_.clear(); // the VMMs die: their files close, the VMs go
}

// Builds what validate() accepted: its refusals are not repeated.
void Machine::build_devices()
{
    const vfio::IrqContextEnv env{*hw_.irqs, hw_.this_cpu, hw_.host_costs};
    for (std::size_t di = 0; di < cfg_.devices.size(); ++di) {
        const DeviceConfig& d = cfg_.devices[di];
        const unsigned vectors = msix_vectors(d);
        for (std::size_t ii = 0; ii < d.irqs.size(); ++ii) {
            const DeviceIrqConfig& ic = d.irqs[ii];
            const std::string f = "devices." + std::to_string(di) + ".irqs." + std::to_string(ii);
            const bool level = ic.trigger == TriggerKind::level;
            auto x = std::make_unique<DeviceIrq>();
            x->name = d.name + "." + std::to_string(ii);
            x->cfg = &ic;
            x->vm = d.vm;
            x->service_cfg = cfg_.guest.handler;
            x->rng = streams_.stream(x->name + ".handler");
            x->timer = d.kind == DeviceKind::timer;
            if (x->timer) x->ppi_cpu = vcpu_pcpu(cfg_, d.vm, 0);
            IrqWire w = wire_irq(hw_, events_, d.kind, ic, x->ppi_cpu, x->name, make_traffic(ic.traffic, f),
                                 streams_.stream(x->name + ".traffic"));
            x->line = std::move(w.line);
            x->source = std::move(w.source);
            x->source->set_raise_hook([this, p = x.get()] {
                if (p->observer != nullptr) p->observer->asserted(events_.now());
            });
            x->plan = vmm::IrqPlan{d.name, ic.index, ic.subindex, ic.guest_irq >= kvm::spi_intid(0) ? ic.guest_irq - kvm::spi_intid(0) : 0, level};
            x->plan.msi = d.kind == DeviceKind::pci && ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX;
            x->plan.vectors = vectors;
            irqs_.push_back(std::move(x));
        }
        if (d.kind == DeviceKind::timer) continue; // KVM's, not VFIO's
        vfio::Device& vd = vfio_.add_device(d.iommu_group, make_vfio_device(d, env));
        for (auto& x : irqs_) {
            if (x->plan.device == d.name) x->context = vd.irq_context(x->plan.index, x->plan.subindex);
        }
    }
}

std::unique_ptr<dev::Traffic> Machine::make_traffic(const TrafficConfig& t, const std::string& field)
{
    const double hz = static_cast<double>(cfg_.clock_hz);
    auto cyc = [&](double us) { return sim::Cycles{static_cast<std::uint64_t>(std::llround(us * hz / 1e6))}; };
    switch (t.kind) {
    case TrafficConfig::Kind::none: return dev::trace_traffic({});
    case TrafficConfig::Kind::periodic: return dev::periodic_traffic(sim::Cycles{static_cast<std::uint64_t>(std::llround(hz / t.rate_per_s))}, cyc(t.jitter_us));
    case TrafficConfig::Kind::poisson: return dev::poisson_traffic(hz / t.rate_per_s);
    case TrafficConfig::Kind::bursty: return dev::bursty_traffic(hz / t.rate_per_s, cyc(t.on_us), cyc(t.off_us));
    case TrafficConfig::Kind::trace: return dev::trace_traffic_from_file(t.trace_file);
    }
    fail(field + ".traffic.kind", "unknown kind");
}

// --- running ----------------------------------------------------------------------------

void Machine::start()
{
    if (started_) return;
    started_ = true;
    for (const VmConfig& v : cfg_.vms) launch_vmm(v, false);
    for (auto& [name, m] : vmms_) start_vcpus(*m, name);
    for (auto& x : irqs_) x->source->start(events_.now());
    for (const ModeSwitch& s : cfg_.vmm.switches) {
        // `irq` is the interrupt's position in the device's list (its
        // name's suffix), whatever VFIO index it has.
        DeviceIrq* target = find(s.device + "." + std::to_string(s.irq));
        // The VMM makes the switch's calls from its I/O thread (QEMU's main
        // loop, under its big lock), so what they cost is charged there and
        // delays what else that CPU does.
        switch_work_.push_back(std::make_unique<host::Work>("vmm: switch delivery", [this, target, mode = s.delivery] {
            deliver(*target, mode);
        }));
        at(us(s.at_us), [this, w = switch_work_.back().get()] { (void)io_cpu().submit(*w, sim::Cycles{}); });
    }
    if (cfg_.vmm.kill_at_us) {
        kill_rng_ = streams_.stream("vmm.close_order." + std::to_string(cfg_.vmm.close_order_seed));
        at(us(*cfg_.vmm.kill_at_us), [this] {
            for (const VmConfig& v : cfg_.vms) kill_vmm(v.name, kill_rng_);
        });
    }
}

/// A VMM for VM `v`: the VM, its guests, its devices and their delivery
/// modes (the vCPUs run when `run` says so).
void Machine::launch_vmm(const VmConfig& v, bool run)
{
    const guest::GuestCosts gc = guest::GuestCosts::from_profile(profile_);
    const std::vector<unsigned> pin = v.pin;
    hw_.kvm->set_pinning([pin, n = cfg_.host_cpus](unsigned id) {
        return id < pin.size() ? pin[id] : (n > 1 ? 1 + id % (n - 1) : 0);
    });
    auto m = std::make_unique<vmm::Vmm>(vmm::VmmEnv{vfio_, *hw_.kvm, io_cpu(), hw_.host_costs, hw_.this_cpu},
                                        "vmm-" + v.name);
    if (const int err = m->set_up_vm(v.vcpus, vm_irqs(cfg_, v)); err < 0)
        fail(vm_key(v.name), "the VMM could not set the VM up: errno " + std::to_string(-err));
    if (cfg_.vmm.forward_policy == ForwardPolicy::bimodal) {
        // An arch that cannot forward has no policy (-ENXIO): its IRQs fall back to irqfd.
        if (const int err = m->set_forward_policy(vfio::ForwardingPolicy::bimodal); err < 0 && err != -ENXIO)
            fail("vmm.forward_policy", "kvm-vfio refused the policy: errno " + std::to_string(-err));
    }
    auto& gs = vm_guests_[v.name];
    gs.clear();
    for (unsigned id = 0; id < v.vcpus; ++id) {
        guest::GuestParams gp;
        gp.workload = cfg_.guest.busy ? guest::Workload::busy : guest::Workload::idle;
        gp.split_eoi = cfg_.guest.eoi_mode == 1;
        guests_.push_back(std::make_unique<guest::Guest>(*m->vcpu(id), gc, gp));
        gs.push_back(guests_.back().get());
    }
    vm_names_[m->vm()] = v.name;
    m->vm()->set_trace_name(v.name);
    if (observe_injections_) {
        m->vm()->set_inject_observer([this, name = v.name](unsigned, unsigned intid) {
            for (auto& x : irqs_) {
                if (x->vm == name && x->cfg->guest_irq == intid && x->observer != nullptr) x->observer->injected(events_.now());
            }
        });
    }
    if (auto old = vmms_.find(v.name); old != vmms_.end()) graveyard_.push_back(std::move(old->second));
    vmms_[v.name] = std::move(m);
    vmm::Vmm& vm = *vmms_.at(v.name);
    for (const DeviceConfig& d : cfg_.devices) {
        if (d.kind == DeviceKind::timer || d.vm != v.name) continue;
        if (const int err = vm.add_device(d.name, d.iommu_group); err < 0)
            fail(device_key(d.name), "the VMM could not open the device: errno " + std::to_string(-err));
    }
    for (auto& x : irqs_) {
        if (x->vm != v.name) continue;
        x->vmm_slot = &vmms_.find(v.name)->second;
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
void Machine::start_vcpus(vmm::Vmm& m, const std::string& vm)
{
    if (const int err = m.run_vcpus(); err < 0)
        fail(vm_key(vm), "KVM_RUN failed: errno " + std::to_string(-err));
}

void Machine::restart_vmm(const std::string& vm)
{
    for (const VmConfig& v : cfg_.vms) {
        if (v.name == vm) launch_vmm(v, true);
    }
}

void Machine::kill_vmm(const std::string& vm, sim::Rng& rng)
{
    const auto it = vmms_.find(vm);
    if (it == vmms_.end() || !it->second->alive()) return;
    if (kill_hooks_.before) kill_hooks_.before(vm);
    it->second->kill(rng);
    if (kill_hooks_.after) kill_hooks_.after(vm);
}

guest::Guest& Machine::guest_of(const std::string& vm)
{
    // Device interrupts target the VM's first vCPU (the guest's ITARGETSR).
    return *vm_guests_.at(vm).at(0);
}

void Machine::deliver(DeviceIrq& x, DeliveryMode mode)
{
    vmm::Vmm& m = *vmms_.at(x.vm);
    if (x.timer) {
        // kvm_timer_enable: the virtual timer PPI becomes a mapped interrupt.
        if (const int err = m.vm()->map_arch_timer(0, x.cfg->host_irq, x.cfg->guest_irq); err < 0)
            fail(device_key(x.plan.device), "KVM could not map the timer: errno " + std::to_string(-err));
        x.forwarded_now = true;
        return;
    }
    if (!m.alive()) return;
    (void)m.deliver(x.plan, to_vmm(mode));
    x.forwarded_now = m.delivery(x.plan) == vmm::Delivery::forwarded;
}

void Machine::at(sim::Cycles when, std::function<void()> fn)
{
    timed_.push_back(std::make_unique<sim::FunctionEvent>(std::move(fn), "system.timed"));
    events_.schedule(*timed_.back(), std::max(when, events_.now()));
}

sim::Cycles Machine::us(double micros) const
{
    return sim::Cycles{static_cast<std::uint64_t>(std::llround(micros * static_cast<double>(cfg_.clock_hz) / 1e6))};
}

const std::string& Machine::cpu_track() const
{
    static const std::string none = "host/outside any CPU";
    const host::Cpu* c = hw_.this_cpu.current();
    return c != nullptr ? c->track() : none;
}

// --- where an interrupt is --------------------------------------------------------------

DeviceIrq* Machine::find(const std::string& name) const
{
    DeviceIrq* found = nullptr;
    for (const auto& x : irqs_) {
        if (x->name == name) found = x.get();
    }
    return found;
}

kvm::Vm* Machine::live_vm(const std::string& vm) const
{
    const auto it = vmms_.find(vm);
    return it != vmms_.end() && it->second->alive() ? it->second->vm() : nullptr;
}

std::uint64_t Machine::eoi_maintenance(const DeviceIrq& x) const
{
    for (kvm::Vm* vm : hw_.kvm->vms()) {
        const auto name = vm_names_.find(vm);
        if (name == vm_names_.end() || name->second != x.vm) continue;
        const arch::Vgic* vgic = vm->arch().vgic();
        return vgic != nullptr ? vgic->eoi_maintenance(x.cfg->guest_irq) : 0;
    }
    return 0;
}

const vmm::Vmm* Machine::live_vmm(const DeviceIrq& x) const
{
    const vmm::Vmm* m = x.vmm_slot != nullptr ? x.vmm_slot->get() : nullptr;
    return m != nullptr && m->alive() ? m : nullptr;
}

bool Machine::path_holds(const DeviceIrq& x) const
{
    if (x.source->line_level()) return true; // a level line, or an edge's pulse
    const unsigned h = x.cfg->host_irq;
    if (hw_.gic->is_pending(h, x.ppi_cpu)) return true;
    // Acknowledged by a host CPU, its flow not finished; or taken with no
    // handler and marked for replay (IRQS_PENDING).
    if (hw_.irqs->in_flight(h)) return true;
    // Signalled, not yet read (the VMM's thread, or an irqfd about to be woken).
    if (x.context != nullptr && x.context->trigger() != nullptr && x.context->trigger()->count() > 0) return true;
    const vmm::Vmm* m = live_vmm(x);
    if (m == nullptr) return false;
    const kvm::Vm* vm = m->vm();
    // Read by the VMM's I/O thread or injected by KVM, the effect still to
    // come once its charged cost has elapsed (host::Cpu::after_charged).
    if (m->acts_pending() || vm->acts_pending()) return true;
    // Read from GICV_IAR, the handler not yet told (the read's cost runs).
    if (x.guests != nullptr && !x.guests->empty() && x.guests->front()->acknowledging(x.cfg->guest_irq)) return true;
    if (!x.timer && vm->irqfd_injection_queued(x.cfg->guest_irq)) return true;
    const arch::Vgic* vgic = vm->arch().vgic();
    return vgic != nullptr && vgic->pending_for_guest(0, x.cfg->guest_irq);
}

bool Machine::guest_ready(const DeviceIrq& x) const
{
    const vmm::Vmm* m = live_vmm(x);
    const kvm::Vm* vm = m != nullptr ? m->vm() : nullptr;
    const arch::Vgic* vgic = vm != nullptr ? vm->arch().vgic() : nullptr;
    if (vgic == nullptr || !vgic->dist_enabled()) return false;
    const arch::VirtualIrq* v = vgic->irq(0, x.cfg->guest_irq);
    return v != nullptr && v->enabled && v->edge == (x.source->trigger() == dev::Trigger::edge);
}

std::string Machine::observe(const DeviceIrq& x) const
{
    const unsigned h = x.cfg->host_irq;
    std::string s = "line=" + std::to_string(x.source->line_level());
    s += " phys=" + std::string(hw_.gic->is_pending(h) ? "P" : "-") + (hw_.gic->is_active(h) ? "A" : "-") +
         (hw_.gic->is_enabled(h) ? "E" : "-");
    s += " vfio=" + std::string(x.context && x.context->masked() ? "masked" : "open");
    // VFIO signalling set up (a trigger eventfd) and the mode published.
    s += " trigger=" + std::string(x.context && x.context->has_trigger() ? "1" : "0");
    s += " fwd=" + std::string(x.context && x.context->forwarded() ? "1" : "0");
    kvm::Vm* vm = live_vm(x.vm);
    if (vm != nullptr && vm->arch().vgic() != nullptr) {
        const arch::VirtualIrq* v = vm->arch().vgic()->irq(0, x.cfg->guest_irq);
        s += " virq=" + std::string(v->pending() ? "P" : "-") + (v->active ? "A" : "-") + (v->hw ? "H" : "-");
        if (kvm::Vcpu* vc = vm->vcpu(0)) {
            // While the vCPU holds it, its state is in a list register.
            std::string lr = "-";
            const unsigned pcpu = vc->pcpu().id();
            for (unsigned n = 0; n < cfg_.gic_lrs; ++n) {
                const gic::ListRegister l{hw_.gic->read(gic::Block::gich, pcpu, gic::gich::lr0 + 4 * n)};
                if (l.virtual_id() != x.cfg->guest_irq || l.state() == gic::ListRegister::State::invalid) continue;
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
    return s + " serviced=" + std::to_string(x.source->delivered());
}

bool Machine::guest_gicd_write(const std::string& vm, unsigned vcpu, std::uint32_t offset, std::uint32_t value)
{
    kvm::Vm* v = live_vm(vm);
    arch::Vgic* vgic = v != nullptr ? v->arch().vgic() : nullptr;
    if (vgic == nullptr || vcpu >= vgic->nr_vcpus()) return false;
    sim::Cycles cost{};
    vgic->dist_write(vcpu, offset, value, cost);
    return true;
}

} // namespace fwdsim::machine
