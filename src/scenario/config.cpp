#include "yaml_reader.h"

#include <fwdsim/machine/params.h>
#include <fwdsim/machine/validate.h>
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

// The reader only reads: the types, the keys it knows, what is required,
// and the line of every key (MachineConfig::lines).  Ranges, and what one
// key owes another, are machine::validate()'s, run once at the end.

namespace {

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

/// The line of every key (where the key is written) and list entry under
/// `node`, by its dotted path.
void record_lines(const YAML::Node& node, const std::string& path, machine::SourceLines& lines)
{
    const std::string prefix = path.empty() ? "" : path + ".";
    if (node.IsSequence()) {
        std::size_t k = 0;
        for (const auto& item : node) {
            lines.set(prefix + std::to_string(k), line_of(item));
            record_lines(item, prefix + std::to_string(k++), lines);
        }
    } else if (node.IsMap()) {
        for (const auto& kv : node) {
            if (!kv.first.IsScalar()) continue; // the reader refuses it
            lines.set(prefix + kv.first.Scalar(), line_of(kv.first));
            record_lines(kv.second, prefix + kv.first.Scalar(), lines);
        }
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
                            const std::string& base_dir)
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
    }
    if (t.kind == K::periodic) r.get("jitter_us", t.jitter_us);
    if (t.kind == K::bursty) {
        r.require("on_us", t.on_us);
        r.require("off_us", t.off_us);
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

DeviceIrqConfig parse_irq(const YAML::Node& node, const std::string& origin, const std::string& path,
                          const std::string& base_dir)
{
    YamlReader r(node, origin, path);
    DeviceIrqConfig irq;
    irq.line = line_of(node);
    r.get("index", irq.index);
    r.get("subindex", irq.subindex);
    r.get_enum("trigger", irq.trigger, {{"level", TriggerKind::level}, {"edge", TriggerKind::edge}});
    r.require("host_irq", irq.host_irq);
    irq.guest_irq = irq.host_irq;
    r.get("guest_irq", irq.guest_irq);
    r.get_enum("delivery", irq.delivery, kDeliveryNames);
    if (r.has("traffic")) {
        irq.traffic = parse_traffic(r.child("traffic"), origin, r.path_of("traffic"), base_dir);
    }
    r.finish();
    return irq;
}

DeviceConfig parse_device(const YAML::Node& node, const std::string& origin, const std::string& path,
                          const std::string& base_dir)
{
    YamlReader r(node, origin, path);
    DeviceConfig d;
    d.line = line_of(node);
    r.require("name", d.name);
    r.get_enum("kind", d.kind,
               {{"platform", DeviceKind::platform}, {"pci", DeviceKind::pci}, {"timer", DeviceKind::timer}});
    r.require("vm", d.vm);
    r.get("iommu_group", d.iommu_group);
    const auto irqs = sequence(r, "irqs");
    check(!irqs.empty(), r, "irqs", "a device needs at least one interrupt");
    for (std::size_t i = 0; i < irqs.size(); ++i) {
        d.irqs.push_back(
            parse_irq(irqs[i], origin, fmt::format("{}.irqs.{}", path, i), base_dir));
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
    record_lines(root, "", c.lines);
    r.require("scenario", c.name);
    r.get("seed", c.seed);
    r.get("clock_hz", c.clock_hz);
    r.require("duration_us", c.duration_us);
    r.get("warmup_us", c.warmup_us);
    r.get("profile", c.profile);
    if (c.profile != "default" && std::filesystem::path(c.profile).is_relative()) {
        c.profile = (std::filesystem::path(base_dir) / c.profile).string();
    }
    if (c.profile != "default") check_input_file(r, "profile", c.profile);
    (void)r.child("sweep"); // expanded by sweep.cpp, not part of one scenario

    if (r.has("host")) {
        YamlReader h(r.child("host"), origin, "host");
        h.get("cpus", c.host_cpus);
        h.finish();
    }
    if (r.has("gic")) {
        YamlReader g(r.child("gic"), origin, "gic");
        g.get("irqs", c.gic_irqs);
        g.get("lrs", c.gic_lrs);
        g.get("priority_bits", c.gic_priority_bits);
        g.finish();
    }
    const auto vms = sequence(r, "vms");
    check(!vms.empty(), r, "vms", "at least one VM is required");
    for (std::size_t i = 0; i < vms.size(); ++i) {
        YamlReader v(vms[i], origin, fmt::format("vms.{}", i));
        VmConfig vm;
        v.require("name", vm.name);
        v.get("vcpus", vm.vcpus);
        if (v.has("pin")) {
            try {
                vm.pin = v.child("pin").as<std::vector<unsigned>>();
            } catch (const YAML::BadConversion&) {
                v.fail("pin", "expected a list of physical CPU numbers");
            }
        } else {
            // Default: vCPU i on physical CPU i+1; CPU 0 stays the host's.
            // (A vcpus out of range gets none: validate() refuses it.)
            for (unsigned k = 0; k < vm.vcpus && k < machine::kMaxVmVcpus; ++k) vm.pin.push_back(k + 1);
        }
        v.get("irqs", vm.irqs);
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
            } else {
                h.require("cycles", c.guest.handler.cycles);
            }
            h.finish();
        }
        g.get("eoi_mode", c.guest.eoi_mode);
        g.get_enum("workload", c.guest.busy, {{"idle", false}, {"busy", true}});
        g.finish();
    }
    const auto devices = sequence(r, "devices");
    for (std::size_t i = 0; i < devices.size(); ++i) {
        c.devices.push_back(parse_device(devices[i], origin, fmt::format("devices.{}", i), base_dir));
    }
    if (r.has("vmm")) {
        YamlReader v(r.child("vmm"), origin, "vmm");
        if (v.has("kill_at_us")) {
            double at = 0;
            v.get("kill_at_us", at);
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
            s.require("device", m.device);
            s.get("irq", m.irq);
            s.get_enum("delivery", m.delivery, kDeliveryNames);
            check(s.has("delivery"), s, "delivery", "required key is missing");
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
    machine::validate_file(c);
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
