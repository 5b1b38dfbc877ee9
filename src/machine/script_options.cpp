// The vmm-script machine's key=value options.  See
// include/fwdsim/machine/script_machine.h.
#include <fwdsim/machine/script_machine.h>

#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <charconv>
#include <istream>
#include <set>

namespace fwdsim::machine {

namespace {

struct Key {
    const char* name;
    const char* what;
};
constexpr Key kKeys[] = {
    {"max_vcpus", "vCPUs the machine has CPUs for (physical CPUs = max_vcpus + 1), 1..7"},
    {"gic_irqs", "GIC interrupt IDs, a multiple of 32, 64..1020"},
    {"gic_lrs", "list registers per CPU, 1..64"},
    {"arch", "arm | minimal (an arch that cannot forward)"},
    {"profile", "cost profile: default or a profile file"},
    {"kill_seed", "seed of the close order `kill` draws"},
    {"handler_cycles", "the guest handler's own work per interrupt, cycles"},
    {"settle_cycles", "check: device events younger than this are in flight, not lost"},
    {"plat0.group", "plat0's IOMMU group"},
    {"plat0.irq0", "host SPI of plat0 index 0 (level)"},
    {"plat0.irq1", "host SPI of plat0 index 1 (edge)"},
    {"pci0.group", "pci0's IOMMU group"},
    {"pci0.intx", "host SPI of pci0's INTx (level)"},
    {"pci0.msix_base", "host SPI of pci0's MSI-X vector 0 (vector v: base + v)"},
    {"pci0.msix_vectors", "pci0's MSI-X vectors, 0..64"},
};

std::string trim(std::string s)
{
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

std::uint64_t to_u64(const std::string& origin, int line, const std::string& key, const std::string& v)
{
    std::uint64_t out = 0;
    const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size())
        throw sim::ConfigError(origin, line, key, "must be a non-negative number, got '" + v + "'");
    return out;
}

std::string config_value(const ScriptMachineConfig& c, const std::string& key)
{
    if (key == "max_vcpus") return std::to_string(c.max_vcpus);
    if (key == "gic_irqs") return std::to_string(c.gic_irqs);
    if (key == "gic_lrs") return std::to_string(c.gic_lrs);
    if (key == "arch") return c.arch;
    if (key == "profile") return c.profile;
    if (key == "kill_seed") return std::to_string(c.kill_seed);
    if (key == "handler_cycles") return std::to_string(c.handler_cycles);
    if (key == "settle_cycles") return std::to_string(c.settle_cycles);
    if (key == "plat0.group") return std::to_string(c.plat0_group);
    if (key == "plat0.irq0") return std::to_string(c.plat0_irq0);
    if (key == "plat0.irq1") return std::to_string(c.plat0_irq1);
    if (key == "pci0.group") return std::to_string(c.pci0_group);
    if (key == "pci0.intx") return std::to_string(c.pci0_intx);
    if (key == "pci0.msix_base") return std::to_string(c.pci0_msix_base);
    return std::to_string(c.pci0_msix_vectors);
}

} // namespace

ScriptMachineConfig parse_script_machine_config(std::istream& in, const std::string& origin)
{
    ScriptMachineConfig c;
    std::string raw;
    int line = 0;
    std::set<std::string> seen;
    while (std::getline(in, raw)) {
        ++line;
        if (const auto hash = raw.find('#'); hash != std::string::npos) raw.resize(hash);
        const std::string text = trim(raw);
        if (text.empty()) continue;
        const auto eq = text.find('=');
        if (eq == std::string::npos) throw sim::ConfigError(origin, line, text, "expected key=value");
        const std::string key = trim(text.substr(0, eq));
        const std::string value = trim(text.substr(eq + 1));
        if (!seen.insert(key).second) throw sim::ConfigError(origin, line, key, "given twice");
        auto u32 = [&](unsigned lo, unsigned hi) {
            const auto v = to_u64(origin, line, key, value);
            if (v < lo || v > hi)
                throw sim::ConfigError(origin, line, key, fmt::format("must be in {}..{}, got {}", lo, hi, v));
            return static_cast<unsigned>(v);
        };
        if (key == "max_vcpus") c.max_vcpus = u32(1, 7);
        else if (key == "gic_irqs") {
            c.gic_irqs = u32(64, 1020);
            if (c.gic_irqs % 32 != 0 && c.gic_irqs != 1020)
                throw sim::ConfigError(origin, line, key, "must be a multiple of 32 (or 1020)");
        } else if (key == "gic_lrs") c.gic_lrs = u32(1, 64);
        else if (key == "arch") {
            if (value != "arm" && value != "minimal")
                throw sim::ConfigError(origin, line, key, "must be arm or minimal, got '" + value + "'");
            c.arch = value;
        } else if (key == "profile") {
            if (value.empty()) throw sim::ConfigError(origin, line, key, "must name a profile");
            c.profile = value;
        } else if (key == "kill_seed") c.kill_seed = to_u64(origin, line, key, value);
        else if (key == "handler_cycles") c.handler_cycles = to_u64(origin, line, key, value);
        else if (key == "settle_cycles") c.settle_cycles = to_u64(origin, line, key, value);
        else if (key == "plat0.group") c.plat0_group = u32(0, 0xFFFF);
        else if (key == "plat0.irq0") c.plat0_irq0 = u32(32, 1019);
        else if (key == "plat0.irq1") c.plat0_irq1 = u32(32, 1019);
        else if (key == "pci0.group") c.pci0_group = u32(0, 0xFFFF);
        else if (key == "pci0.intx") c.pci0_intx = u32(32, 1019);
        else if (key == "pci0.msix_base") c.pci0_msix_base = u32(32, 1019);
        else if (key == "pci0.msix_vectors") c.pci0_msix_vectors = u32(0, 64);
        else {
            std::string known;
            for (const Key& k : kKeys) known += fmt::format("{}{}", known.empty() ? "" : ", ", k.name);
            throw sim::ConfigError(origin, line, key, "unknown key (known: " + known + ")");
        }
    }
    return c;
}

std::string script_machine_config_help()
{
    const ScriptMachineConfig d;
    std::string out;
    for (const Key& k : kKeys) out += fmt::format("  {}={}\n      {}\n", k.name, config_value(d, k.name), k.what);
    return out;
}

} // namespace fwdsim::machine
