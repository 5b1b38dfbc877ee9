// The machine's refusals: every key against its sim::Param, then what one
// key owes another, then what cannot be wired.  See
// include/fwdsim/machine/validate.h.
#include <fwdsim/machine/validate.h>

#include <fwdsim/arch/vgic.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/machine/params.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/vfio/uapi.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace fwdsim::machine {

/// The physical CPU vCPU `id` of VM `vm` is pinned to.
unsigned vcpu_pcpu(const MachineConfig& cfg, const std::string& vm, unsigned id)
{
    for (const VmConfig& v : cfg.vms) {
        if (v.name == vm) return id < v.pin.size() ? v.pin[id] : (cfg.host_cpus > 1 ? 1 + id % (cfg.host_cpus - 1) : 0);
    }
    return 0;
}

namespace {

/// Refuses with the configuration's file and the line its key was given on.
struct Refuse {
    const MachineConfig& cfg;

    [[noreturn]] void operator()(const std::string& path, const std::string& what) const
    {
        throw sim::ConfigError(cfg.origin, cfg.lines.line(path), path, what);
    }
    void unless_empty(const std::string& path, const std::string& problem) const
    {
        if (!problem.empty()) (*this)(path, problem);
    }
    /// `value` at `path` (an instance of spec.key) against its own range.
    void range(const sim::Param& spec, const std::string& path, double value) const
    {
        unless_empty(path, spec.problem(value));
    }
    /// A span of microseconds: its range, then its length in cycles.
    void span(const sim::Param& spec, const std::string& path, double us) const
    {
        range(spec, path, us);
        unless_empty(path, span_problem(us, cfg.clock_hz, spec.above_min));
    }
};

void validate_vms(const MachineConfig& cfg, const Refuse& refuse)
{
    std::set<std::string> names;
    for (std::size_t i = 0; i < cfg.vms.size(); ++i) {
        const VmConfig& vm = cfg.vms[i];
        const std::string f = fmt::format("vms.{}", i);
        if (!names.insert(vm.name).second) refuse(f + ".name", "another VM has this name");
        refuse.range(arch::kParamVcpus, f + ".vcpus", vm.vcpus);
        // A configuration made in C++ may leave the pinning to vcpu_pcpu().
        if (!vm.pin.empty() && vm.pin.size() != vm.vcpus) refuse(f + ".pin", "needs one physical CPU per vCPU");
        for (const unsigned p : vm.pin) {
            if (p >= cfg.host_cpus) refuse(f + ".pin", fmt::format("CPU {} does not exist (host.cpus is {})", p, cfg.host_cpus));
        }
        // irqs 0 is the default, unless a file wrote it.
        if (vm.irqs != 0 || cfg.lines.has(f + ".irqs")) {
            refuse.range(arch::kParamVgicIrqs, f + ".irqs", vm.irqs);
            if (vm.irqs > cfg.gic_irqs) refuse(f + ".irqs", fmt::format("more than the GIC has (gic.irqs is {})", cfg.gic_irqs));
        } else if (vm_irqs(cfg, vm) < arch::Vgic::kMinNrIrqs) {
            refuse(f + ".irqs", fmt::format("a vgic needs at least {} interrupts and gic.irqs is {}", arch::Vgic::kMinNrIrqs,
                                            cfg.gic_irqs));
        }
    }
}

void validate_traffic(const MachineConfig& cfg, const Refuse& refuse, const TrafficConfig& t, const std::string& f)
{
    using K = TrafficConfig::Kind;
    if (t.kind == K::periodic || t.kind == K::poisson || t.kind == K::bursty) {
        refuse.range(dev::kParamRate, f + ".rate_per_s", t.rate_per_s);
        refuse.unless_empty(f + ".rate_per_s", rate_problem(t.rate_per_s, cfg.clock_hz));
    }
    if (t.kind == K::periodic) refuse.span(dev::kParamJitter, f + ".jitter_us", t.jitter_us);
    if (t.kind == K::bursty) {
        refuse.span(dev::kParamOn, f + ".on_us", t.on_us);
        refuse.span(dev::kParamOff, f + ".off_us", t.off_us);
    }
    if (t.kind == K::trace) (void)dev::trace_traffic_from_file(t.trace_file);
}

/// The interrupt IDs of each device's interrupt: each value's own range and
/// the GIC's or the vgic's, by the device's kind.
void validate_intids(const MachineConfig& cfg, const Refuse& refuse, const DeviceConfig& d, const DeviceIrqConfig& ic,
                     const std::string& f)
{
    refuse.range(kParamSubindex, f + ".subindex", ic.subindex);
    refuse.range(kParamHostIrq, f + ".host_irq", ic.host_irq);
    refuse.range(kParamGuestIrq, f + ".guest_irq", ic.guest_irq);
    if (d.kind == DeviceKind::timer) {
        if (ic.host_irq < 16 || ic.host_irq >= 32) refuse(f + ".host_irq", "a timer interrupt is a PPI (16..31)");
        if (ic.guest_irq < 16 || ic.guest_irq >= 32) refuse(f + ".guest_irq", "a timer interrupt is a PPI (16..31)");
        return;
    }
    if (ic.host_irq < 32 || ic.host_irq >= cfg.gic_irqs)
        refuse(f + ".host_irq", fmt::format("must be an SPI of the GIC (32..{})", cfg.gic_irqs - 1));
    // The guest's INTID must exist in its VM's vgic, which may be smaller
    // than the GIC (at most 992 interrupts where the GIC has 1020).
    const auto vm = std::find_if(cfg.vms.begin(), cfg.vms.end(), [&](const VmConfig& v) { return v.name == d.vm; });
    const unsigned vgic = vm_irqs(cfg, *vm);
    if (ic.guest_irq < 32 || ic.guest_irq >= vgic) {
        const bool defaulted = !cfg.lines.empty() && !cfg.lines.has(f + ".guest_irq");
        refuse(f + ".guest_irq", fmt::format("must be an SPI of {}'s vgic (32..{}){}", d.vm, vgic - 1,
                                             defaulted ? "; without guest_irq it is host_irq" : ""));
    }
}

void validate_devices(const MachineConfig& cfg, const Refuse& refuse)
{
    // Who holds each physical input and each guest INTID, to name the first
    // owner when a second device claims it.  A PPI is per CPU, an SPI global.
    constexpr unsigned kAnyCpu = ~0u;
    std::map<std::pair<unsigned, unsigned>, std::string> host_owner;
    std::map<std::pair<std::string, unsigned>, std::string> guest_owner;
    std::set<std::string> names;
    for (std::size_t di = 0; di < cfg.devices.size(); ++di) {
        const DeviceConfig& d = cfg.devices[di];
        const std::string field = "devices." + std::to_string(di);
        if (!names.insert(d.name).second) refuse(field + ".name", "another device has this name");
        if (std::none_of(cfg.vms.begin(), cfg.vms.end(), [&](const VmConfig& v) { return v.name == d.vm; }))
            refuse(field + ".vm", "no VM is named '" + d.vm + "'");
        bool intx = false;
        std::vector<bool> vectors; // MSI-X subindexes listed
        for (std::size_t ii = 0; ii < d.irqs.size(); ++ii) {
            const DeviceIrqConfig& ic = d.irqs[ii];
            const std::string f = field + ".irqs." + std::to_string(ii);
            validate_intids(cfg, refuse, d, ic, f);
            const bool level = ic.trigger == TriggerKind::level;
            if (d.kind == DeviceKind::timer) {
                if (ic.delivery != DeliveryMode::forwarded)
                    refuse(f + ".delivery", "the arch timer belongs to KVM: only 'forwarded' (a mapped PPI)");
                if (ic.host_irq == kvm::kMaintenancePpi)
                    refuse(f + ".host_irq", "PPI 25 is the vgic maintenance interrupt KVM requests on every CPU");
            } else if (d.kind == DeviceKind::platform) {
                if (ic.index != ii) refuse(f + ".index", "platform IRQ indexes must be 0, 1, ... in order");
            } else if (ic.index == vfio::VFIO_PCI_INTX_IRQ_INDEX && level && !intx) {
                intx = true;
            } else if (ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX && !level && (ic.subindex >= vectors.size() || !vectors[ic.subindex])) {
                if (ic.subindex >= vectors.size()) vectors.resize(ic.subindex + 1);
                vectors[ic.subindex] = true;
            } else {
                refuse(f + ".index",
                       "a PCI device has one level INTx (index 0) and edge MSI-X vectors (index 2, one per subindex)");
            }
            const unsigned cpu = d.kind == DeviceKind::timer ? vcpu_pcpu(cfg, d.vm, 0) : kAnyCpu;
            if (const auto [it, fresh] = host_owner.emplace(std::pair{cpu, ic.host_irq}, f); !fresh)
                refuse(f + ".host_irq",
                       "host IRQ " + std::to_string(ic.host_irq) + " is already " + it->second + "'s: one GIC input, one device");
            if (const auto [it, fresh] = guest_owner.emplace(std::pair{d.vm, ic.guest_irq}, f); !fresh)
                refuse(f + ".guest_irq",
                       "guest IRQ " + std::to_string(ic.guest_irq) + " of " + d.vm + " is already " + it->second + "'s");
            validate_traffic(cfg, refuse, ic.traffic, f + ".traffic");
        }
        if (intx && !vectors.empty())
            refuse(field + ".irqs", "INTx and MSI-X on one PCI device: vfio-pci enables one interrupt type at a time");
        if (std::find(vectors.begin(), vectors.end(), false) != vectors.end())
            refuse(field + ".irqs", "MSI-X vectors must be listed 0, 1, ... without gaps");
    }
}

void validate_vmm(const MachineConfig& cfg, const Refuse& refuse)
{
    if (cfg.vmm.kill_at_us) refuse.span(kParamKillAt, "vmm.kill_at_us", *cfg.vmm.kill_at_us);
    for (std::size_t si = 0; si < cfg.vmm.switches.size(); ++si) {
        const ModeSwitch& m = cfg.vmm.switches[si];
        const std::string f = "vmm.switches." + std::to_string(si);
        refuse.span(kParamSwitchAt, f + ".at_us", m.at_us);
        const auto dev = std::find_if(cfg.devices.begin(), cfg.devices.end(), [&](const DeviceConfig& d) { return d.name == m.device; });
        if (dev == cfg.devices.end()) refuse(f + ".device", "no device is named '" + m.device + "'");
        if (m.irq >= dev->irqs.size())
            refuse(f + ".irq", fmt::format("device '{}' has {} interrupts", m.device, dev->irqs.size()));
        if (dev->kind == DeviceKind::timer) refuse(f + ".device", "the arch timer belongs to KVM: the VMM cannot switch it");
    }
}

} // namespace

void validate(const MachineConfig& cfg)
{
    const Refuse refuse{cfg};
    refuse.range(kParamClockHz, "clock_hz", static_cast<double>(cfg.clock_hz));
    refuse.span(kParamDuration, "duration_us", cfg.duration_us);
    refuse.span(kParamWarmup, "warmup_us", cfg.warmup_us);
    if (!(cfg.warmup_us < cfg.duration_us))
        refuse("warmup_us", fmt::format("must be below duration_us ({})", sim::param_number(cfg.duration_us)));
    refuse.range(gic::kParamCpus, "host.cpus", cfg.host_cpus);
    refuse.range(gic::kParamIrqs, "gic.irqs", cfg.gic_irqs);
    refuse.range(gic::kParamLrs, "gic.lrs", cfg.gic_lrs);
    refuse.range(gic::kParamPriorityBits, "gic.priority_bits", cfg.gic_priority_bits);
    validate_vms(cfg, refuse);
    const ServiceTime& h = cfg.guest.handler;
    if (h.kind == ServiceTime::Kind::uniform) {
        refuse.range(kParamMinCycles, "guest.handler.min_cycles", static_cast<double>(h.min_cycles));
        refuse.range(kParamMaxCycles, "guest.handler.max_cycles", static_cast<double>(h.max_cycles));
        if (h.min_cycles > h.max_cycles) refuse("guest.handler.max_cycles", "must not be below min_cycles");
    } else {
        refuse.range(kParamHandlerCycles, "guest.handler.cycles", static_cast<double>(h.cycles));
    }
    refuse.range(guest::kParamEoiMode, "guest.eoi_mode", cfg.guest.eoi_mode);
    validate_devices(cfg, refuse);
    validate_vmm(cfg, refuse);
}

void validate_file(const MachineConfig& cfg)
{
    validate(cfg);
    const Refuse refuse{cfg};
    const auto within = [&](const std::string& path, double us) {
        if (us > cfg.duration_us)
            refuse(path, fmt::format("must be within the run (duration_us is {})", sim::param_number(cfg.duration_us)));
    };
    if (cfg.vmm.kill_at_us) within("vmm.kill_at_us", *cfg.vmm.kill_at_us);
    for (std::size_t si = 0; si < cfg.vmm.switches.size(); ++si)
        within("vmm.switches." + std::to_string(si) + ".at_us", cfg.vmm.switches[si].at_us);
}

} // namespace fwdsim::machine
