// The machine's configuration: what one simulated system is built from.
//
// These are the typed values a scenario file, a C++ program or the vmm-script
// options give the machine layer, which alone assembles a system from them
// (docs/architecture.md).  The range checks below are the machine's: each
// limit is written once, here, and every front end reports a broken one with
// its own file, line and key.
#pragma once

#include <fwdsim/vfio/pci/pci_device.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fwdsim::machine {

enum class DeliveryMode { userspace, irqfd, forwarded };
enum class TriggerKind { level, edge };
enum class DeviceKind { platform, pci, timer };
/// The kvm-vfio device's forwarding policy the VMM asks for
/// (docs/irq-forwarding-mode.md): exclusive switches by tearing VFIO
/// signalling down and setting it up again; bimodal keeps the trigger set and
/// switches with FORWARD_IRQ / UNFORWARD_IRQ alone.
enum class ForwardPolicy { exclusive, bimodal };

std::string_view to_string(DeliveryMode mode);
std::string_view to_string(ForwardPolicy policy);

struct TrafficConfig {
    enum class Kind { none, periodic, poisson, bursty, trace } kind = Kind::none;
    double rate_per_s = 0;        ///< periodic and poisson; bursty: rate while on
    double jitter_us = 0;         ///< periodic
    double on_us = 0, off_us = 0; ///< bursty
    std::string trace_file;       ///< trace: cycles, one a line (resolved against the scenario's folder)
};

struct DeviceIrqConfig {
    unsigned index = 0;       ///< VFIO IRQ index (platform resource, or pci: 0 INTx, 2 MSI-X)
    unsigned subindex = 0;    ///< vector for MSI-X
    TriggerKind trigger = TriggerKind::level;
    unsigned host_irq = 0;    ///< physical INTID the line is wired to
    unsigned guest_irq = 0;   ///< INTID the guest sees (GSI)
    DeliveryMode delivery = DeliveryMode::irqfd;
    TrafficConfig traffic;
    int line = 0;             ///< where the file defines it (0: not from a file)
};

struct DeviceConfig {
    std::string name;
    DeviceKind kind = DeviceKind::platform;
    std::string vm;           ///< the VM it is assigned to
    unsigned iommu_group = 0;
    std::vector<DeviceIrqConfig> irqs;
    int line = 0;             ///< where the file defines it (0: not from a file)
};

struct VmConfig {
    std::string name;
    unsigned vcpus = 1;
    std::vector<unsigned> pin; ///< physical CPU of each vCPU
    /// Interrupts of the VM's vgic (arch::kParamVgicIrqs); 0: as many as the
    /// GIC backs (vm_irqs()).
    unsigned irqs = 0;
};

struct ServiceTime {
    enum class Kind { fixed, exponential, uniform } kind = Kind::fixed;
    std::uint64_t cycles = 2000;    ///< fixed, or the mean for exponential
    std::uint64_t min_cycles = 0;   ///< uniform
    std::uint64_t max_cycles = 0;   ///< uniform
};

struct GuestConfig {
    ServiceTime handler;
    unsigned eoi_mode = 0;       ///< 0: EOIR deactivates; 1: EOIR drops priority, DIR deactivates
    bool busy = false;           ///< busy loop between interrupts instead of WFI
};

struct ModeSwitch {
    double at_us = 0;
    std::string device;
    unsigned irq = 0;            ///< position in the device's irqs list
    DeliveryMode delivery = DeliveryMode::irqfd;
};

struct VmmConfig {
    std::optional<double> kill_at_us;
    std::vector<ModeSwitch> switches;
    std::uint64_t close_order_seed = 0; ///< order in which a killed VMM's files close
    ForwardPolicy forward_policy = ForwardPolicy::exclusive;
};

/// Where a configuration's keys were given: the line of each key path
/// ("gic.irqs", "devices.0.irqs.1.host_irq", "vms.0" for an entry) in the
/// file its origin names.  The scenario reader and the vmm-script options
/// fill it; validate() names the line of what it refuses.  A configuration
/// built in C++ has none (line 0).
class SourceLines {
public:
    void set(std::string path, int line) { lines_[std::move(path)] = line; }
    bool has(std::string_view path) const { return lines_.find(path) != lines_.end(); }
    bool empty() const { return lines_.empty(); }
    /// The line of `path`, else of the nearest entry holding it (a key left
    /// to its default is reported where its mapping starts); 0: unknown.
    int line(std::string_view path) const;
    /// Every path given, with its line.
    const std::map<std::string, int, std::less<>>& entries() const { return lines_; }

private:
    std::map<std::string, int, std::less<>> lines_;
};

/// Everything a machine is built from: the clock, the physical CPUs and GIC,
/// the VMs and their pinning, the guest behaviour, the devices with their
/// interrupts, traffic and delivery modes, what the VMM does during the run,
/// and how long the run lasts.  A scenario file fills it (scenario::
/// ScenarioConfig adds the name, outputs and conclusions), and so can C++.
struct MachineConfig {
    std::string origin;               ///< the file it came from
    SourceLines lines;                ///< where origin gives each key
    std::uint64_t seed = 1;
    std::uint64_t clock_hz = 2'400'000'000;
    double duration_us = 10'000;
    double warmup_us = 0;
    std::string profile = "default";  ///< "default" (built in) or a path
    unsigned host_cpus = 2;
    unsigned gic_irqs = 256;
    unsigned gic_lrs = 4;
    unsigned gic_priority_bits = 5;
    std::vector<VmConfig> vms;
    GuestConfig guest;
    std::vector<DeviceConfig> devices;
    VmmConfig vmm;
};

// Range checks that depend on the clock, shared by validate() and the
// command line (--duration-us).  Each returns what is wrong with a value
// (empty: nothing), for the caller to report with its own file, line and key.
// Every other key's range is its sim::Param (machine/params.h).

/// The longest simulated span (2^62 cycles, about 60 years at 2.4 GHz): any
/// time plus any span stays inside 64 bits, so no event time wraps.
constexpr std::uint64_t kMaxSpanCycles = std::uint64_t{1} << 62;
/// A handler's service time is at most this many cycles (7.6 minutes at
/// 2.4 GHz): anything longer is a hang, not a measurement, and the uniform
/// range max - min + 1 cannot wrap.
constexpr std::uint64_t kMaxHandlerCycles = std::uint64_t{1} << 40;
/// An MSI-X table's largest size (vfio/pci/pci_device.h).
constexpr unsigned kMaxMsixVectors = vfio::pci::kMaxMsixVectors;

/// `us` microseconds at `clock_hz` as cycles, rounded; the value must have
/// passed span_problem().
std::uint64_t us_to_cycles(double us, std::uint64_t clock_hz);
/// A span of `us` microseconds must be finite, not negative and at most
/// kMaxSpanCycles; with `nonzero`, it must also round to at least one cycle.
std::string span_problem(double us, std::uint64_t clock_hz, bool nonzero);
/// A mean gap between events of clock_hz / rate_per_s cycles: finite, at
/// least one cycle, at most kMaxSpanCycles.
std::string rate_problem(double rate_per_s, std::uint64_t clock_hz);
/// The run's duration (the file's duration_us or --duration-us): a span of
/// at least one cycle, above warmup_us and every scheduled VMM action.
std::string duration_problem(const MachineConfig& c, double duration_us);

/// The vgic size VM `vm` gets: its `irqs`, or else the GIC's interrupt
/// count rounded down to what a vgic-v2 takes (a multiple of 32, at most 992).
unsigned vm_irqs(const MachineConfig& c, const VmConfig& vm);

} // namespace fwdsim::machine
