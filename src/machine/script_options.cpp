// The vmm-script machine's key=value options.  See
// include/fwdsim/machine/script_machine.h; the options' ranges are
// script_param_table() (machine/params.h).
#include <fwdsim/machine/params.h>
#include <fwdsim/machine/script_machine.h>

#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <charconv>
#include <istream>
#include <limits>
#include <set>

namespace fwdsim::machine {

namespace {

using C = ScriptMachineConfig;

/// Where each option lives in the configuration: one of the three members.
struct Binding {
    std::string_view key;
    unsigned C::*u32 = nullptr;
    std::uint64_t C::*u64 = nullptr;
    std::string C::*text = nullptr;
};

constexpr Binding kBindings[] = {
    {"max_vcpus", &C::max_vcpus},
    {"gic_irqs", &C::gic_irqs},
    {"gic_lrs", &C::gic_lrs},
    {"arch", nullptr, nullptr, &C::arch},
    {"profile", nullptr, nullptr, &C::profile},
    {"kill_seed", nullptr, &C::kill_seed},
    {"handler_cycles", nullptr, &C::handler_cycles},
    {"settle_cycles", nullptr, &C::settle_cycles},
    {"plat0.group", &C::plat0_group},
    {"plat0.irq0", &C::plat0_irq0},
    {"plat0.irq1", &C::plat0_irq1},
    {"pci0.group", &C::pci0_group},
    {"pci0.intx", &C::pci0_intx},
    {"pci0.msix_base", &C::pci0_msix_base},
    {"pci0.msix_vectors", &C::pci0_msix_vectors},
};

const Binding* binding(std::string_view key)
{
    for (const Binding& b : kBindings) {
        if (b.key == key) return &b;
    }
    return nullptr;
}

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

} // namespace

std::string script_option_value(const ScriptMachineConfig& c, std::string_view key)
{
    const Binding* b = binding(key);
    if (b == nullptr) return {};
    if (b->u32 != nullptr) return std::to_string(c.*(b->u32));
    if (b->u64 != nullptr) return std::to_string(c.*(b->u64));
    return c.*(b->text);
}

ScriptMachineConfig parse_script_machine_config(std::istream& in, const std::string& origin)
{
    ScriptMachineConfig c;
    c.origin = origin;
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
        const Binding* b = binding(key);
        if (b == nullptr) {
            std::string known;
            for (const sim::Param& p : script_param_table()) known += fmt::format("{}{}", known.empty() ? "" : ", ", p.key);
            throw sim::ConfigError(origin, line, key, "unknown key (known: " + known + ")");
        }
        c.lines.set(key, line);
        if (b->text != nullptr) {
            c.*(b->text) = value;
            continue;
        }
        const std::uint64_t v = to_u64(origin, line, key, value);
        if (b->u64 != nullptr) {
            c.*(b->u64) = v;
        } else if (v > std::numeric_limits<unsigned>::max()) {
            // Beyond any option's range: said by the range, before it wraps.
            throw sim::ConfigError(origin, line, key, find_param(script_param_table(), key)->problem(static_cast<double>(v)));
        } else {
            c.*(b->u32) = static_cast<unsigned>(v);
        }
    }
    validate_script_config(c);
    return c;
}

void validate_script_config(const ScriptMachineConfig& c)
{
    const auto refuse = [&](std::string_view key, const std::string& what) {
        throw sim::ConfigError(c.origin, c.lines.line(key), std::string(key), what);
    };
    for (const sim::Param& p : script_param_table()) {
        const std::string value = script_option_value(c, p.key);
        if (p.ranged) {
            if (const std::string why = p.problem(std::stod(value)); !why.empty()) refuse(p.key, why);
        }
    }
    if (c.arch != "arm" && c.arch != "minimal") refuse("arch", "must be arm or minimal, got '" + c.arch + "'");
    if (c.profile.empty()) refuse("profile", "must name a profile");
    // Each device line is one host SPI of the GIC, its own.
    std::set<unsigned> used;
    const auto spi = [&](unsigned irq, const char* key) {
        if (irq >= c.gic_irqs) refuse(key, fmt::format("host SPI {} is outside 32..{} (gic_irqs is {})", irq, c.gic_irqs - 1, c.gic_irqs));
        if (!used.insert(irq).second) refuse(key, fmt::format("host SPI {} used twice", irq));
    };
    spi(c.plat0_irq0, "plat0.irq0");
    spi(c.plat0_irq1, "plat0.irq1");
    spi(c.pci0_intx, "pci0.intx");
    for (unsigned v = 0; v < c.pci0_msix_vectors; ++v) spi(c.pci0_msix_base + v, "pci0.msix_base");
    if (c.plat0_group == c.pci0_group) refuse("pci0.group", "plat0 and pci0 must be in different IOMMU groups");
}

std::string script_machine_config_help()
{
    return param_help(script_param_table());
}

} // namespace fwdsim::machine
