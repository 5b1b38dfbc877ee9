// The machine's parameter table: every key a scenario file (or --set, or a
// sweep) can give a machine, in the order a file gives them, each with its
// unit, default, range and what it is for.
//
// Each component declares its own keys beside its parameter struct
// (gic::kParamIrqs in gic.h, arch::kParamVgicIrqs in vgic.h, the traffic
// keys in dev/traffic.h...); the keys no single component owns (the clock,
// the run, the devices' wiring, the VMM's actions) are declared here.
// param_table() lists them all: validate() holds a configuration to it,
// `fwdsim params` prints it and docs/scenario-format.md's key table is
// generated from it (tests/docs check that the two agree).  The vmm-script
// machine's key=value options have a table of their own, whose gic_irqs and
// gic_lrs are the GIC's keys under their script names.
#pragma once

#include <fwdsim/machine/config.h>
#include <fwdsim/sim/param.h>

#include <span>
#include <string>
#include <string_view>

namespace fwdsim::machine {

inline constexpr sim::Param kParamSeed{.key = "seed", .fallback = "1",
    .description = "the run's seed; each component draws from its own named stream"};
inline constexpr sim::Param kParamClockHz{.key = "clock_hz", .unit = "Hz", .fallback = "2400000000",
    .description = "the reference clock; times in microseconds become cycles with it", .ranged = true,
    .min = 1e3, .max = 1e11};
inline constexpr sim::Param kParamDuration{.key = "duration_us", .unit = "us", .fallback = "required",
    .description = "simulated time to run", .ranged = true, .real = true, .min = 0, .above_min = true,
    .rule = "at least one cycle, at most 2^62 cycles"};
inline constexpr sim::Param kParamWarmup{.key = "warmup_us", .unit = "us", .fallback = "0",
    .description = "measurements start after this", .ranged = true, .real = true, .min = 0,
    .rule = "below duration_us"};
inline constexpr sim::Param kParamProfile{.key = "profile", .fallback = "default",
    .description = "cost profile: default (built in) or a file, relative to the scenario"};
inline constexpr sim::Param kParamVmName{.key = "vms[].name", .fallback = "required",
    .description = "the VM's name, unique"};
inline constexpr sim::Param kParamPin{.key = "vms[].pin", .fallback = "vCPU i on CPU i+1",
    .description = "the physical CPU of each vCPU (CPU 0 is left to the host)",
    .rule = "one per vCPU, each below host.cpus"};
inline constexpr sim::Param kParamHandlerKind{.key = "guest.handler.kind", .fallback = "fixed",
    .description = "the guest handler's service time: fixed, exponential (mean: cycles) or uniform"};
inline constexpr sim::Param kParamHandlerCycles{.key = "guest.handler.cycles", .unit = "cycles", .fallback = "2000",
    .description = "fixed: the handler's own work per interrupt; exponential: its mean", .ranged = true,
    .min = 0, .max = static_cast<double>(kMaxHandlerCycles), .note = "longer is a hang, not a measurement"};
inline constexpr sim::Param kParamMinCycles{.key = "guest.handler.min_cycles", .unit = "cycles",
    .fallback = "required (uniform)", .description = "uniform: the shortest service time", .ranged = true, .min = 0,
    .max = static_cast<double>(kMaxHandlerCycles), .note = "longer is a hang, not a measurement", .rule = "at most max_cycles"};
inline constexpr sim::Param kParamMaxCycles{.key = "guest.handler.max_cycles", .unit = "cycles",
    .fallback = "required (uniform)", .description = "uniform: the longest service time", .ranged = true, .min = 0,
    .max = static_cast<double>(kMaxHandlerCycles), .note = "longer is a hang, not a measurement"};
inline constexpr sim::Param kParamDeviceName{.key = "devices[].name", .fallback = "required",
    .description = "the device's name, unique"};
inline constexpr sim::Param kParamDeviceKind{.key = "devices[].kind", .fallback = "platform",
    .description = "platform (vfio-platform), pci (vfio-pci) or timer (the arch timer, a PPI KVM forwards)"};
inline constexpr sim::Param kParamDeviceVm{.key = "devices[].vm", .fallback = "required",
    .description = "the VM it is assigned to", .rule = "a VM's name"};
inline constexpr sim::Param kParamIommuGroup{.key = "devices[].iommu_group", .fallback = "0",
    .description = "its IOMMU group"};
inline constexpr sim::Param kParamIrqIndex{.key = "devices[].irqs[].index", .fallback = "0",
    .description = "the VFIO IRQ index: platform, the position in irqs; pci, 0 (INTx) or 2 (MSI-X)",
    .rule = "platform 0, 1, ... in order; pci one level INTx or edge MSI-X vectors 0, 1, ..."};
inline constexpr sim::Param kParamSubindex{.key = "devices[].irqs[].subindex", .fallback = "0",
    .description = "the VFIO subindex: for MSI-X (index 2), the vector", .ranged = true, .min = 0,
    .max = kMaxMsixVectors - 1, .note = "an MSI-X table has at most 2048 vectors"};
inline constexpr sim::Param kParamTrigger{.key = "devices[].irqs[].trigger", .fallback = "level",
    .description = "level or edge"};
inline constexpr sim::Param kParamHostIrq{.key = "devices[].irqs[].host_irq", .fallback = "required",
    .description = "the physical INTID the line is wired to", .ranged = true, .min = 16, .max = 1019,
    .rule = "an SPI below gic.irqs, one device each; a timer's is a PPI (16..31), not 25"};
inline constexpr sim::Param kParamGuestIrq{.key = "devices[].irqs[].guest_irq", .fallback = "host_irq",
    .description = "the INTID the guest sees", .ranged = true, .min = 16, .max = 991,
    .rule = "an SPI below its VM's vms[].irqs, one device each; a timer's is a PPI (16..31)"};
inline constexpr sim::Param kParamDelivery{.key = "devices[].irqs[].delivery", .fallback = "irqfd",
    .description = "userspace, irqfd or forwarded (a timer: forwarded)"};
inline constexpr sim::Param kParamTrafficKind{.key = "devices[].irqs[].traffic.kind", .fallback = "none",
    .description = "none, periodic, poisson, bursty or trace (required once traffic is given)"};
inline constexpr sim::Param kParamTraceFile{.key = "devices[].irqs[].traffic.file", .fallback = "required (trace)",
    .description = "event times in cycles, one a line, relative to the scenario"};
inline constexpr sim::Param kParamKillAt{.key = "vmm.kill_at_us", .unit = "us", .fallback = "never",
    .description = "the VMM is killed (kill -9) then", .ranged = true, .real = true, .min = 0,
    .rule = "at most duration_us"};
inline constexpr sim::Param kParamCloseOrderSeed{.key = "vmm.close_order_seed", .fallback = "0",
    .description = "the order a killed VMM's files close in"};
inline constexpr sim::Param kParamForwardPolicy{.key = "vmm.forward_policy", .fallback = "exclusive",
    .description = "exclusive or bimodal: the kvm-vfio forwarding policy (docs/irq-forwarding-mode.md)"};
inline constexpr sim::Param kParamSwitchAt{.key = "vmm.switches[].at_us", .unit = "us", .fallback = "required",
    .description = "when the VMM switches the interrupt's delivery", .ranged = true, .real = true, .min = 0,
    .rule = "at most duration_us"};
inline constexpr sim::Param kParamSwitchDevice{.key = "vmm.switches[].device", .fallback = "required",
    .description = "the device whose interrupt it switches", .rule = "a device's name, not a timer"};
inline constexpr sim::Param kParamSwitchIrq{.key = "vmm.switches[].irq", .fallback = "0",
    .description = "the interrupt's position in the device's irqs (not its VFIO index)",
    .rule = "below the device's number of irqs"};
inline constexpr sim::Param kParamSwitchDelivery{.key = "vmm.switches[].delivery", .fallback = "required",
    .description = "the delivery it switches to: userspace, irqfd or forwarded"};

/// A VM's most vCPUs, for a reader that must not make a default for more
/// (arch::Vgic::kMaxVcpus, arch::kParamVcpus; params.cpp asserts they agree).
inline constexpr unsigned kMaxVmVcpus = 8;

/// Every key of a machine, in the order a scenario file gives them.
std::span<const sim::Param> param_table();
/// The vmm-script machine's key=value options (script_machine.h).
std::span<const sim::Param> script_param_table();
/// The entry of `key` ("gic_lrs") in `table`; nullptr when there is none.
const sim::Param* find_param(std::span<const sim::Param> table, std::string_view key);
/// A table as Markdown rows: key, unit, default, range, meaning.
std::string param_markdown(std::span<const sim::Param> table);
/// A table as text for --help: "  key=default  [unit]\n      meaning; range\n".
std::string param_help(std::span<const sim::Param> table);

} // namespace fwdsim::machine
