// The machine's parameter table and its printed forms.  See
// include/fwdsim/machine/params.h.
#include <fwdsim/machine/params.h>

#include <fwdsim/arch/vgic.h>
#include <fwdsim/dev/traffic.h>
#include <fwdsim/gic/gic.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/vfio/pci/pci_device.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace fwdsim::machine {

static_assert(kMaxVmVcpus == arch::Vgic::kMaxVcpus && arch::kParamVcpus.max == kMaxVmVcpus);

namespace {

/// A key of one component under another front end's name.
constexpr sim::Param renamed(sim::Param p, std::string_view key, std::string_view rule = {})
{
    p.key = key;
    if (!rule.empty()) p.rule = rule;
    return p;
}

constexpr std::array kTable{
    kParamSeed, kParamClockHz, kParamDuration, kParamWarmup, kParamProfile,
    gic::kParamCpus, gic::kParamIrqs, gic::kParamLrs, gic::kParamPriorityBits,
    kParamVmName, arch::kParamVcpus, kParamPin, arch::kParamVgicIrqs,
    kParamHandlerKind, kParamHandlerCycles, kParamMinCycles, kParamMaxCycles, guest::kParamEoiMode, guest::kParamWorkload,
    kParamDeviceName, kParamDeviceKind, kParamDeviceVm, kParamIommuGroup,
    kParamIrqIndex, kParamSubindex, kParamTrigger, kParamHostIrq, kParamGuestIrq, kParamDelivery,
    kParamTrafficKind, dev::kParamRate, dev::kParamJitter, dev::kParamOn, dev::kParamOff, kParamTraceFile,
    kParamKillAt, kParamCloseOrderSeed, kParamForwardPolicy,
    kParamSwitchAt, kParamSwitchDevice, kParamSwitchIrq, kParamSwitchDelivery,
};

constexpr const char* kSpiRule = "below gic_irqs, one device line each";

constexpr std::array kScriptTable{
    sim::Param{.key = "max_vcpus", .fallback = "4",
               .description = "vCPUs the machine has CPUs for (physical CPUs = max_vcpus + 1)", .ranged = true,
               .min = 1, .max = 7, .note = "a GICv2 has 8 CPU interfaces, one is the host's"},
    renamed(gic::kParamIrqs, "gic_irqs"),
    renamed(gic::kParamLrs, "gic_lrs"),
    sim::Param{.key = "arch", .fallback = "arm", .description = "arm, or minimal (an arch that cannot forward)"},
    sim::Param{.key = "profile", .fallback = "default", .description = "cost profile: default or a profile file"},
    sim::Param{.key = "kill_seed", .fallback = "1", .description = "seed of the close order `kill` draws"},
    sim::Param{.key = "handler_cycles", .unit = "cycles", .fallback = "2000",
               .description = "the guest handler's own work per interrupt", .ranged = true, .min = 0,
               .max = static_cast<double>(kMaxHandlerCycles), .note = "longer is a hang, not a measurement"},
    sim::Param{.key = "settle_cycles", .unit = "cycles", .fallback = "20000",
               .description = "check: device events younger than this are in flight, not lost"},
    sim::Param{.key = "plat0.group", .fallback = "1", .description = "plat0's IOMMU group", .ranged = true,
               .min = 0, .max = 65535},
    sim::Param{.key = "plat0.irq0", .fallback = "40", .description = "host SPI of plat0 index 0 (level)",
               .ranged = true, .min = 32, .max = 1019, .rule = kSpiRule},
    sim::Param{.key = "plat0.irq1", .fallback = "41", .description = "host SPI of plat0 index 1 (edge)",
               .ranged = true, .min = 32, .max = 1019, .rule = kSpiRule},
    sim::Param{.key = "pci0.group", .fallback = "2", .description = "pci0's IOMMU group", .ranged = true, .min = 0,
               .max = 65535, .rule = "not plat0.group"},
    sim::Param{.key = "pci0.intx", .fallback = "48", .description = "host SPI of pci0's INTx (level)", .ranged = true,
               .min = 32, .max = 1019, .rule = kSpiRule},
    sim::Param{.key = "pci0.msix_base", .fallback = "64",
               .description = "host SPI of pci0's MSI-X vector 0 (vector v: base + v)", .ranged = true, .min = 32,
               .max = 1019, .rule = "every vector's SPI below gic_irqs, one device line each"},
    sim::Param{.key = "pci0.msix_vectors", .fallback = "8", .description = "pci0's MSI-X vectors", .ranged = true,
               .min = 0, .max = 64},
};

/// The range and the rule, as one phrase.
std::string limits(const sim::Param& p)
{
    std::string s = p.range();
    if (!p.note.empty() && !s.empty()) s += " (" + std::string(p.note) + ")";
    if (!p.rule.empty()) s += (s.empty() ? "" : "; ") + std::string(p.rule);
    return s;
}

} // namespace

std::span<const sim::Param> param_table() { return kTable; }
std::span<const sim::Param> script_param_table() { return kScriptTable; }

const sim::Param* find_param(std::span<const sim::Param> table, std::string_view key)
{
    const auto it = std::find_if(table.begin(), table.end(), [&](const sim::Param& p) { return p.key == key; });
    return it == table.end() ? nullptr : &*it;
}

std::string param_markdown(std::span<const sim::Param> table)
{
    std::string out = "| key | unit | default | range | meaning |\n|---|---|---|---|---|\n";
    for (const sim::Param& p : table) {
        const std::string range = limits(p);
        out += fmt::format("| `{}` | {} | {} | {} | {} |\n", p.key, p.unit.empty() ? "" : p.unit, p.fallback,
                           range.empty() ? "" : range, p.description);
    }
    return out;
}

std::string param_help(std::span<const sim::Param> table)
{
    std::string out;
    for (const sim::Param& p : table) {
        const std::string range = limits(p);
        out += fmt::format("  {}={}{}\n      {}{}\n", p.key, p.fallback, p.unit.empty() ? "" : fmt::format("  [{}]", p.unit),
                           p.description, range.empty() ? "" : "; " + range);
    }
    return out;
}

} // namespace fwdsim::machine
