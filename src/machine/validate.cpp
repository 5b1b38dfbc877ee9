// The machine's refusals of what cannot be wired.  See
// include/fwdsim/machine/validate.h.
#include <fwdsim/machine/validate.h>

#include <fwdsim/dev/traffic.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/vfio/uapi.h>

#include <algorithm>
#include <map>

namespace fwdsim::machine {

/// The physical CPU vCPU `id` of VM `vm` is pinned to.
unsigned vcpu_pcpu(const MachineConfig& cfg, const std::string& vm, unsigned id)
{
    for (const VmConfig& v : cfg.vms) {
        if (v.name == vm) return id < v.pin.size() ? v.pin[id] : (cfg.host_cpus > 1 ? 1 + id % (cfg.host_cpus - 1) : 0);
    }
    return 0;
}

void validate(const MachineConfig& cfg)
{
    const auto fail = [&](int line, const std::string& field, const std::string& what) {
        throw sim::ConfigError(cfg.origin, line, field, what);
    };
    // Who holds each physical input and each guest INTID, to name the first
    // owner when a second device claims it.  A PPI is per CPU, an SPI global.
    constexpr unsigned kAnyCpu = ~0u;
    std::map<std::pair<unsigned, unsigned>, std::string> host_owner;
    std::map<std::pair<std::string, unsigned>, std::string> guest_owner;
    // The ranges a file's values are held to (config.h), for a
    // configuration built in code.
    const auto range = [&](int line, const std::string& field, const std::string& problem) {
        if (!problem.empty()) fail(line, field, problem);
    };
    range(0, "duration_us", duration_problem(cfg, cfg.duration_us));
    const ServiceTime& h = cfg.guest.handler;
    if (std::max({h.cycles, h.min_cycles, h.max_cycles}) > kMaxHandlerCycles || h.min_cycles > h.max_cycles)
        fail(0, "guest.handler", "service times are at most 2^40 cycles, min_cycles <= max_cycles");
    for (std::size_t di = 0; di < cfg.devices.size(); ++di) {
        const DeviceConfig& d = cfg.devices[di];
        const std::string field = "devices." + std::to_string(di);
        if (std::none_of(cfg.vms.begin(), cfg.vms.end(), [&](const VmConfig& v) { return v.name == d.vm; }))
            fail(d.line, field + ".vm", "no VM named '" + d.vm + "'");
        bool intx = false;
        std::vector<bool> vectors; // MSI-X subindexes listed
        for (std::size_t ii = 0; ii < d.irqs.size(); ++ii) {
            const DeviceIrqConfig& ic = d.irqs[ii];
            const std::string f = field + ".irqs." + std::to_string(ii);
            const bool level = ic.trigger == TriggerKind::level;
            if (d.kind == DeviceKind::timer) {
                if (ic.delivery != DeliveryMode::forwarded)
                    fail(ic.line, f + ".delivery", "the arch timer belongs to KVM: only 'forwarded' (a mapped PPI)");
                if (ic.host_irq == kvm::kMaintenancePpi)
                    fail(ic.line, f + ".host_irq", "PPI 25 is the vgic maintenance interrupt KVM requests on every CPU");
            } else if (d.kind == DeviceKind::platform) {
                if (ic.index != ii) fail(ic.line, f + ".index", "platform IRQ indexes must be 0, 1, ... in order");
            } else if (ic.index == vfio::VFIO_PCI_INTX_IRQ_INDEX && level && !intx) {
                intx = true;
            } else if (ic.index == vfio::VFIO_PCI_MSIX_IRQ_INDEX && !level && ic.subindex < kMaxMsixVectors &&
                       (ic.subindex >= vectors.size() || !vectors[ic.subindex])) {
                if (ic.subindex >= vectors.size()) vectors.resize(ic.subindex + 1);
                vectors[ic.subindex] = true;
            } else {
                fail(ic.line, f + ".index",
                     "a PCI device has one level INTx (index 0) and edge MSI-X vectors (index 2, one per subindex)");
            }
            const unsigned cpu = d.kind == DeviceKind::timer ? vcpu_pcpu(cfg, d.vm, 0) : kAnyCpu;
            if (const auto [it, fresh] = host_owner.emplace(std::pair{cpu, ic.host_irq}, f); !fresh)
                fail(ic.line, f + ".host_irq",
                     "host IRQ " + std::to_string(ic.host_irq) + " is already " + it->second + "'s: one GIC input, one device");
            if (const auto [it, fresh] = guest_owner.emplace(std::pair{d.vm, ic.guest_irq}, f); !fresh)
                fail(ic.line, f + ".guest_irq",
                     "guest IRQ " + std::to_string(ic.guest_irq) + " of " + d.vm + " is already " + it->second + "'s");
            const TrafficConfig& t = ic.traffic;
            using K = TrafficConfig::Kind;
            if (t.kind == K::periodic || t.kind == K::poisson || t.kind == K::bursty)
                range(ic.line, f + ".traffic.rate_per_s", rate_problem(t.rate_per_s, cfg.clock_hz));
            if (t.kind == K::periodic) range(ic.line, f + ".traffic.jitter_us", span_problem(t.jitter_us, cfg.clock_hz, false));
            if (t.kind == K::bursty) {
                range(ic.line, f + ".traffic.on_us", span_problem(t.on_us, cfg.clock_hz, true));
                range(ic.line, f + ".traffic.off_us", span_problem(t.off_us, cfg.clock_hz, false));
            }
            if (t.kind == K::trace) (void)dev::trace_traffic_from_file(t.trace_file);
        }
        if (intx && !vectors.empty())
            fail(d.line, field + ".irqs", "INTx and MSI-X on one PCI device: vfio-pci enables one interrupt type at a time");
        if (std::find(vectors.begin(), vectors.end(), false) != vectors.end())
            fail(d.line, field + ".irqs", "MSI-X vectors must be listed 0, 1, ... without gaps");
    }
    for (std::size_t si = 0; si < cfg.vmm.switches.size(); ++si) {
        const ModeSwitch& m = cfg.vmm.switches[si];
        const auto dev = std::find_if(cfg.devices.begin(), cfg.devices.end(), [&](const DeviceConfig& d) { return d.name == m.device; });
        const std::string f = "vmm.switches." + std::to_string(si);
        if (dev == cfg.devices.end()) fail(0, f + ".device", "no device is named '" + m.device + "'");
        if (m.irq >= dev->irqs.size()) fail(0, f + ".irq", "device '" + m.device + "' has " + std::to_string(dev->irqs.size()) + " interrupts");
        if (dev->kind == DeviceKind::timer) fail(0, f + ".device", "the arch timer belongs to KVM: the VMM cannot switch it");
    }
}

} // namespace fwdsim::machine
