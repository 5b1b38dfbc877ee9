#include "yaml_reader.h"

#include <fwdsim/scenario/config.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fwdsim::scenario {

using detail::line_of;
using detail::YamlReader;

// Linux's KVM_DEV_ARM_VGIC_GRP_NR_IRQS takes a multiple of 32 from 64 (the
// private interrupts and one word of SPIs) to VGIC_MAX_RESERVED (1023).
constexpr unsigned kVgicMinIrqs = 64;
constexpr unsigned kVgicMaxIrqs = 992;

namespace {

constexpr const char* kHandlerLimit = "must be at most 2^40 cycles (minutes of simulated time per interrupt)";

constexpr std::initializer_list<std::pair<const char*, DeliveryMode>> kDeliveryNames{
    {"userspace", DeliveryMode::userspace}, {"irqfd", DeliveryMode::irqfd}, {"forwarded", DeliveryMode::forwarded}};

std::vector<YAML::Node> sequence(YamlReader& r, const std::string& key)
{
    std::vector<YAML::Node> items;
    const YAML::Node n = r.child(key);
    if (!n) {
        return items;
    }
    if (!n.IsSequence()) {
        r.fail(key, "expected a list");
    }
    for (const auto& item : n) {
        items.push_back(item);
    }
    return items;
}

void check(bool ok, YamlReader& r, const std::string& key, const std::string& what)
{
    if (!ok) {
        r.fail(key, what);
    }
}

/// Refuses `key` when `problem` (one of the range checks of config.h) says
/// something is wrong with it.
void check(YamlReader& r, const std::string& key, const std::string& problem)
{
    if (!problem.empty()) {
        r.fail(key, problem);
    }
}

/// A file the scenario names: it must be a readable file, not a folder.
void check_input_file(YamlReader& r, const std::string& key, const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) r.fail(key, "'" + path + "' is a directory, not a file");
    if (!std::filesystem::exists(path, ec)) r.fail(key, "'" + path + "' does not exist");
}

/// A file the scenario asks to be written (relative to the folder the
/// tool runs in): refused here, with its line, when it cannot be one.
void check_output_file(YamlReader& r, const std::string& key, const std::string& path)
{
    if (!r.has(key)) return;
    std::error_code ec;
    const std::filesystem::path p(path);
    check(!path.empty(), r, key, "names no file");
    check(!std::filesystem::is_directory(p, ec) && p.has_filename(), r, key, "'" + path + "' is a directory, not a file");
    const std::filesystem::path folder = p.parent_path();
    check(folder.empty() || std::filesystem::is_directory(folder, ec), r, key,
          "'" + path + "': there is no folder '" + folder.string() + "' to write it in");
}

TrafficConfig parse_traffic(const YAML::Node& node, const std::string& origin, const std::string& path,
                            const std::string& base_dir, std::uint64_t clock_hz)
{
    YamlReader r(node, origin, path);
    TrafficConfig t;
    using K = TrafficConfig::Kind;
    r.get_enum("kind", t.kind,
               {{"none", K::none}, {"periodic", K::periodic}, {"poisson", K::poisson}, {"bursty", K::bursty},
                {"trace", K::trace}});
    check(r.has("kind"), r, "kind", "required key is missing");
    if (t.kind == K::periodic || t.kind == K::poisson || t.kind == K::bursty) {
        r.require("rate_per_s", t.rate_per_s);
        check(r, "rate_per_s", rate_problem(t.rate_per_s, clock_hz));
    }
    if (t.kind == K::periodic) {
        r.get("jitter_us", t.jitter_us);
        check(r, "jitter_us", span_problem(t.jitter_us, clock_hz, false));
    }
    if (t.kind == K::bursty) {
        r.require("on_us", t.on_us);
        r.require("off_us", t.off_us);
        check(r, "on_us", span_problem(t.on_us, clock_hz, true));
        check(r, "off_us", span_problem(t.off_us, clock_hz, false));
    }
    if (t.kind == K::trace) {
        r.require("file", t.trace_file);
        if (!t.trace_file.empty() && std::filesystem::path(t.trace_file).is_relative()) {
            t.trace_file = (std::filesystem::path(base_dir) / t.trace_file).string();
        }
        check_input_file(r, "file", t.trace_file);
    }
    r.finish();
    return t;
}

/// The VMs a device may name, with the size of each one's vgic.
using VgicSizes = std::map<std::string, unsigned>;

DeviceIrqConfig parse_irq(const YAML::Node& node, const std::string& origin, const std::string& path,
                          const std::string& base_dir, DeviceKind kind, const ScenarioConfig& c,
                          const VgicSizes::value_type& vm)
{
    const unsigned gic_irqs = c.gic_irqs;
    YamlReader r(node, origin, path);
    DeviceIrqConfig irq;
    irq.line = line_of(node);
    r.get("index", irq.index);
    r.get("subindex", irq.subindex);
    check(irq.subindex < kMaxMsixVectors, r, "subindex",
          fmt::format("an MSI-X table has at most {} vectors (0..{})", kMaxMsixVectors, kMaxMsixVectors - 1));
    r.get_enum("trigger", irq.trigger, {{"level", TriggerKind::level}, {"edge", TriggerKind::edge}});
    r.require("host_irq", irq.host_irq);
    irq.guest_irq = irq.host_irq;
    r.get("guest_irq", irq.guest_irq);
    r.get_enum("delivery", irq.delivery, kDeliveryNames);
    if (kind == DeviceKind::timer) {
        check(irq.host_irq >= 16 && irq.host_irq < 32, r, "host_irq", "a timer interrupt is a PPI (16..31)");
        check(irq.guest_irq >= 16 && irq.guest_irq < 32, r, "guest_irq", "a timer interrupt is a PPI (16..31)");
    } else {
        check(irq.host_irq >= 32 && irq.host_irq < gic_irqs, r, "host_irq",
              fmt::format("must be an SPI of the GIC (32..{})", gic_irqs - 1));
        // The guest's INTID must exist in its VM's vgic, which may be
        // smaller than the GIC (at most 992 interrupts where the GIC has 1020).
        const auto& [vm_name, vgic_irqs] = vm;
        check(irq.guest_irq >= 32 && irq.guest_irq < vgic_irqs, r, "guest_irq",
              fmt::format("must be an SPI of {}'s vgic (32..{}){}", vm_name, vgic_irqs - 1,
                          r.has("guest_irq") ? "" : "; without guest_irq it is host_irq"));
    }
    if (r.has("traffic")) {
        irq.traffic = parse_traffic(r.child("traffic"), origin, r.path_of("traffic"), base_dir, c.clock_hz);
    }
    r.finish();
    return irq;
}

DeviceConfig parse_device(const YAML::Node& node, const std::string& origin, const std::string& path,
                          const std::string& base_dir, const ScenarioConfig& c, const VgicSizes& vms)
{
    YamlReader r(node, origin, path);
    DeviceConfig d;
    d.line = line_of(node);
    r.require("name", d.name);
    r.get_enum("kind", d.kind,
               {{"platform", DeviceKind::platform}, {"pci", DeviceKind::pci}, {"timer", DeviceKind::timer}});
    r.require("vm", d.vm);
    const auto vm = vms.find(d.vm);
    check(vm != vms.end(), r, "vm", "no VM is named '" + d.vm + "'");
    r.get("iommu_group", d.iommu_group);
    const auto irqs = sequence(r, "irqs");
    check(!irqs.empty(), r, "irqs", "a device needs at least one interrupt");
    for (std::size_t i = 0; i < irqs.size(); ++i) {
        d.irqs.push_back(
            parse_irq(irqs[i], origin, fmt::format("{}.irqs.{}", path, i), base_dir, d.kind, c, *vm));
    }
    r.finish();
    return d;
}

} // namespace

namespace {
ScenarioConfig parse_scenario_checked(const std::string& text, const std::string& origin);
}

ScenarioConfig parse_scenario(const std::string& text, const std::string& origin)
{
    // Anything yaml-cpp itself rejects (a tag it cannot convert, a malformed
    // node) is still the user's input: report it located, never let it escape.
    try {
        return parse_scenario_checked(text, origin);
    } catch (const YAML::Exception& e) {
        throw sim::ConfigError(origin, e.mark.line + 1, "(yaml)", e.msg);
    }
}

namespace {

ScenarioConfig parse_scenario_checked(const std::string& text, const std::string& origin)
{
    const YAML::Node root = detail::load_document(text, origin);
    const std::string base_dir = std::filesystem::path(origin).parent_path().string();
    YamlReader r(root, origin, "");
    ScenarioConfig c;
    c.origin = origin;
    r.require("scenario", c.name);
    r.get("seed", c.seed);
    r.get("clock_hz", c.clock_hz);
    check(c.clock_hz >= 1000 && c.clock_hz <= 100'000'000'000, r, "clock_hz", "must be 1 kHz..100 GHz");
    r.require("duration_us", c.duration_us);
    check(r, "duration_us", span_problem(c.duration_us, c.clock_hz, true));
    r.get("warmup_us", c.warmup_us);
    check(r, "warmup_us", span_problem(c.warmup_us, c.clock_hz, false));
    check(c.warmup_us < c.duration_us, r, "warmup_us", "must be in [0, duration_us)");
    r.get("profile", c.profile);
    if (c.profile != "default" && std::filesystem::path(c.profile).is_relative()) {
        c.profile = (std::filesystem::path(base_dir) / c.profile).string();
    }
    if (c.profile != "default") check_input_file(r, "profile", c.profile);
    (void)r.child("sweep"); // expanded by sweep.cpp, not part of one scenario

    if (r.has("host")) {
        YamlReader h(r.child("host"), origin, "host");
        h.get("cpus", c.host_cpus);
        check(c.host_cpus >= 1 && c.host_cpus <= 8, h, "cpus", "must be 1..8 (GICv2 CPU interfaces)");
        h.finish();
    }
    if (r.has("gic")) {
        YamlReader g(r.child("gic"), origin, "gic");
        g.get("irqs", c.gic_irqs);
        check(c.gic_irqs >= 32 && c.gic_irqs <= 1020 && (c.gic_irqs % 32 == 0 || c.gic_irqs == 1020), g, "irqs",
              "must be a multiple of 32 in 32..1020 (or 1020)");
        g.get("lrs", c.gic_lrs);
        check(c.gic_lrs >= 1 && c.gic_lrs <= 64, g, "lrs", "must be 1..64");
        g.get("priority_bits", c.gic_priority_bits);
        check(c.gic_priority_bits >= 4 && c.gic_priority_bits <= 8, g, "priority_bits", "must be 4..8");
        g.finish();
    }
    std::set<std::string> vm_names;
    const auto vms = sequence(r, "vms");
    check(!vms.empty(), r, "vms", "at least one VM is required");
    for (std::size_t i = 0; i < vms.size(); ++i) {
        YamlReader v(vms[i], origin, fmt::format("vms.{}", i));
        VmConfig vm;
        v.require("name", vm.name);
        check(vm_names.insert(vm.name).second, v, "name", "another VM has this name");
        v.get("vcpus", vm.vcpus);
        check(vm.vcpus >= 1 && vm.vcpus <= 8, v, "vcpus", "must be 1..8");
        if (v.has("pin")) {
            try {
                vm.pin = v.child("pin").as<std::vector<unsigned>>();
            } catch (const YAML::BadConversion&) {
                v.fail("pin", "expected a list of physical CPU numbers");
            }
        } else {
            // Default: vCPU i on physical CPU i+1; CPU 0 stays the host's.
            for (unsigned k = 0; k < vm.vcpus; ++k) vm.pin.push_back(k + 1);
        }
        check(vm.pin.size() == vm.vcpus, v, "pin", "needs one physical CPU per vCPU");
        for (unsigned p : vm.pin) {
            check(p < c.host_cpus, v, "pin", fmt::format("CPU {} does not exist (host.cpus is {})", p, c.host_cpus));
        }
        v.get("irqs", vm.irqs);
        if (v.has("irqs")) {
            check(vm.irqs >= kVgicMinIrqs && vm.irqs <= kVgicMaxIrqs && vm.irqs % 32 == 0, v, "irqs",
                  "must be a multiple of 32 in 64..992 (a vgic-v2's NR_IRQS)");
            check(vm.irqs <= c.gic_irqs, v, "irqs", fmt::format("more than the GIC has (gic.irqs is {})", c.gic_irqs));
        } else {
            check(vm_irqs(c, vm) >= kVgicMinIrqs, v, "irqs",
                  fmt::format("a vgic needs at least 64 interrupts and gic.irqs is {}", c.gic_irqs));
        }
        v.finish();
        c.vms.push_back(std::move(vm));
    }
    if (r.has("guest")) {
        YamlReader g(r.child("guest"), origin, "guest");
        if (g.has("handler")) {
            YamlReader h(g.child("handler"), origin, "guest.handler");
            using K = ServiceTime::Kind;
            h.get_enum("kind", c.guest.handler.kind,
                       {{"fixed", K::fixed}, {"exponential", K::exponential}, {"uniform", K::uniform}});
            if (c.guest.handler.kind == K::uniform) {
                h.require("min_cycles", c.guest.handler.min_cycles);
                h.require("max_cycles", c.guest.handler.max_cycles);
                check(c.guest.handler.min_cycles <= c.guest.handler.max_cycles, h, "max_cycles",
                      "must not be below min_cycles");
                check(c.guest.handler.max_cycles <= kMaxHandlerCycles, h, "max_cycles", kHandlerLimit);
            } else {
                h.require("cycles", c.guest.handler.cycles);
                check(c.guest.handler.cycles <= kMaxHandlerCycles, h, "cycles", kHandlerLimit);
            }
            h.finish();
        }
        g.get("eoi_mode", c.guest.eoi_mode);
        check(c.guest.eoi_mode <= 1, g, "eoi_mode", "must be 0 or 1");
        g.get_enum("workload", c.guest.busy, {{"idle", false}, {"busy", true}});
        g.finish();
    }
    VgicSizes vgic_sizes;
    for (const VmConfig& vm : c.vms) vgic_sizes.emplace(vm.name, vm_irqs(c, vm));
    std::set<std::string> dev_names;
    const auto devices = sequence(r, "devices");
    for (std::size_t i = 0; i < devices.size(); ++i) {
        DeviceConfig d = parse_device(devices[i], origin, fmt::format("devices.{}", i), base_dir, c, vgic_sizes);
        YamlReader dr(devices[i], origin, fmt::format("devices.{}", i));
        check(dev_names.insert(d.name).second, dr, "name", "another device has this name");
        c.devices.push_back(std::move(d));
    }
    if (r.has("vmm")) {
        YamlReader v(r.child("vmm"), origin, "vmm");
        if (v.has("kill_at_us")) {
            double at = 0;
            v.get("kill_at_us", at);
            check(std::isfinite(at) && at >= 0 && at <= c.duration_us, v, "kill_at_us", "must be within the run");
            c.vmm.kill_at_us = at;
        }
        v.get("close_order_seed", c.vmm.close_order_seed);
        v.get_enum("forward_policy", c.vmm.forward_policy,
                   {{"exclusive", ForwardPolicy::exclusive}, {"bimodal", ForwardPolicy::bimodal}});
        const auto switches = sequence(v, "switches");
        for (std::size_t i = 0; i < switches.size(); ++i) {
            YamlReader s(switches[i], origin, fmt::format("vmm.switches.{}", i));
            ModeSwitch m;
            s.require("at_us", m.at_us);
            check(std::isfinite(m.at_us) && m.at_us >= 0 && m.at_us <= c.duration_us, s, "at_us", "must be within the run");
            s.require("device", m.device);
            s.get("irq", m.irq);
            s.get_enum("delivery", m.delivery, kDeliveryNames);
            check(s.has("delivery"), s, "delivery", "required key is missing");
            const auto dev = std::find_if(c.devices.begin(), c.devices.end(),
                                          [&](const DeviceConfig& d) { return d.name == m.device; });
            check(dev != c.devices.end(), s, "device", "no device is named '" + m.device + "'");
            check(m.irq < dev->irqs.size(), s, "irq", fmt::format("device '{}' has {} interrupts", m.device, dev->irqs.size()));
            s.finish();
            c.vmm.switches.push_back(m);
        }
        v.finish();
    }
    if (r.has("compare")) {
        const YAML::Node list = r.child("compare");
        if (!list.IsSequence()) r.fail("compare", "expected a list of 'MODE OP MODE on METRIC' lines");
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (!list[i].IsScalar()) {
                throw sim::ConfigError(origin, detail::line_of(list[i]), fmt::format("compare.{}", i),
                                       "expected one line of text");
            }
            c.compare.push_back(parse_comparison(list[i].Scalar(), origin, detail::line_of(list[i]), i));
        }
    }
    if (r.has("outputs")) {
        YamlReader o(r.child("outputs"), origin, "outputs");
        o.get("json", c.outputs.json);
        o.get("csv", c.outputs.csv);
        o.get("trace", c.outputs.trace);
        check_output_file(o, "json", c.outputs.json);
        check_output_file(o, "csv", c.outputs.csv);
        check_output_file(o, "trace", c.outputs.trace);
        o.finish();
    }
    r.finish();
    return c;
}

} // namespace

std::string read_input_file(const std::string& path, const std::string& what)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw sim::ConfigError(path, 0, "file", what + ": is a directory, not a file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw sim::ConfigError(path, 0, "file", what + ": cannot open it");
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        throw sim::ConfigError(path, 0, "file", what + ": cannot read it");
    }
    return buffer.str();
}

ScenarioConfig load_scenario(const std::string& path)
{
    return parse_scenario(read_input_file(path, "scenario file"), path);
}

} // namespace fwdsim::scenario
