// ScenarioConfig: a whole system and its run, as a scenario file describes it.
//
// This is the typed, validated form of a scenario file: the clock, the
// physical CPUs and GIC, the VMs and how their vCPUs are pinned, the guest
// behaviour, the devices with their interrupts, traffic and delivery modes,
// what the VMM does during the run (mode switches, a kill), and where
// results go.  Parsing checks every key and value; an unknown key or a bad
// value is a sim::ConfigError naming the file, the line and the key.  The
// YAML library stays behind this header.
#pragma once

#include <fwdsim/scenario/comparison.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fwdsim::scenario {

enum class DeliveryMode { userspace, irqfd, forwarded };
enum class TriggerKind { level, edge };
enum class DeviceKind { platform, pci, timer };

std::string_view to_string(DeliveryMode mode);

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
};

struct DeviceConfig {
    std::string name;
    DeviceKind kind = DeviceKind::platform;
    std::string vm;           ///< the VM it is assigned to
    unsigned iommu_group = 0;
    std::vector<DeviceIrqConfig> irqs;
};

struct VmConfig {
    std::string name;
    unsigned vcpus = 1;
    std::vector<unsigned> pin; ///< physical CPU of each vCPU
    /// Interrupts of the VM's vgic (KVM_DEV_ARM_VGIC_GRP_NR_IRQS: a multiple
    /// of 32 in 64..992); 0: as many as the GIC backs (vm_irqs()).
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
};

struct OutputConfig {
    std::string json, csv, trace; ///< empty: not written
};

struct ScenarioConfig {
    std::string name;
    std::string origin;               ///< the file it came from
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
    OutputConfig outputs;
    std::vector<Comparison> compare; ///< conclusions `fwdsim sensitivity` checks
};

/// The vgic size VM `vm` gets: its `irqs`, or else the GIC's interrupt
/// count rounded down to what a vgic-v2 takes (a multiple of 32, at most 992).
unsigned vm_irqs(const ScenarioConfig& c, const VmConfig& vm);

/// Parses a scenario (its `sweep` section, if any, is ignored here).
ScenarioConfig parse_scenario(const std::string& text, const std::string& origin);
ScenarioConfig load_scenario(const std::string& path);

} // namespace fwdsim::scenario
