// The resolved scenario as JSON.  See include/fwdsim/scenario/resolved.h.
#include <fwdsim/scenario/resolved.h>
#include <fwdsim/sim/trace.h>

#include <fmt/format.h>

#include <filesystem>

namespace fwdsim::scenario {

#ifndef FWDSIM_VERSION
#error "FWDSIM_VERSION comes from the CMake project's version (src/scenario/CMakeLists.txt)"
#endif

const char* fwdsim_version() { return FWDSIM_VERSION; }

namespace {

std::string text(std::string_view s) { return "\"" + sim::json_escape(s) + "\""; }

// The shortest decimal that reads back as the same double.
std::string number(double v) { return fmt::format("{}", v); }

// A file the scenario names, as the file wrote it: parsing joined a
// relative path to the scenario's folder, which depends on how fwdsim was
// pointed at the file (`a.yaml`, `./a.yaml`, an absolute path); the result
// must not.
std::string as_written(const std::string& path, const std::string& origin)
{
    const std::filesystem::path folder = std::filesystem::path(origin).parent_path();
    if (folder.empty()) return path;
    const std::string prefix = (folder / "").string();
    return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
}

std::string_view trigger_name(TriggerKind t) { return t == TriggerKind::level ? "level" : "edge"; }

std::string_view device_kind_name(DeviceKind k)
{
    switch (k) {
    case DeviceKind::platform: return "platform";
    case DeviceKind::pci: return "pci";
    case DeviceKind::timer: return "timer";
    }
    return "?";
}

std::string traffic_json(const TrafficConfig& t, const std::string& origin)
{
    using K = TrafficConfig::Kind;
    static constexpr const char* kNames[] = {"none", "periodic", "poisson", "bursty", "trace"};
    std::string out = fmt::format(R"({{"kind":"{}")", kNames[static_cast<int>(t.kind)]);
    // Only the keys the kind reads: the others are refused by the parser.
    if (t.kind == K::periodic || t.kind == K::poisson || t.kind == K::bursty)
        out += fmt::format(R"(,"rate_per_s":{})", number(t.rate_per_s));
    if (t.kind == K::periodic) out += fmt::format(R"(,"jitter_us":{})", number(t.jitter_us));
    if (t.kind == K::bursty) out += fmt::format(R"(,"on_us":{},"off_us":{})", number(t.on_us), number(t.off_us));
    if (t.kind == K::trace) out += fmt::format(R"(,"file":{})", text(as_written(t.trace_file, origin)));
    return out + "}";
}

std::string handler_json(const ServiceTime& h)
{
    switch (h.kind) {
    case ServiceTime::Kind::fixed: return fmt::format(R"({{"kind":"fixed","cycles":{}}})", h.cycles);
    case ServiceTime::Kind::exponential: return fmt::format(R"({{"kind":"exponential","cycles":{}}})", h.cycles);
    case ServiceTime::Kind::uniform:
        return fmt::format(R"({{"kind":"uniform","min_cycles":{},"max_cycles":{}}})", h.min_cycles, h.max_cycles);
    }
    return "{}";
}

} // namespace

std::string resolved_json(const ScenarioConfig& c)
{
    std::string out = fmt::format(
        R"({{"scenario":{},"seed":{},"clock_hz":{},"duration_us":{},"warmup_us":{},"profile":{},)"
        R"("host":{{"cpus":{}}},"gic":{{"irqs":{},"lrs":{},"priority_bits":{}}},"vms":[)",
        text(c.name), c.seed, c.clock_hz, number(c.duration_us), number(c.warmup_us), text(c.profile == "default" ? c.profile : as_written(c.profile, c.origin)), c.host_cpus,
        c.gic_irqs, c.gic_lrs, c.gic_priority_bits);
    for (std::size_t v = 0; v < c.vms.size(); ++v) {
        const VmConfig& vm = c.vms[v];
        // irqs as the VM gets it (vm_irqs), so the default is spelt out too.
        out += fmt::format(R"({}{{"name":{},"vcpus":{},"pin":[{}],"irqs":{}}})", v ? "," : "", text(vm.name), vm.vcpus,
                           fmt::join(vm.pin, ","), vm_irqs(c, vm));
    }
    out += fmt::format(R"(],"guest":{{"handler":{},"eoi_mode":{},"workload":"{}"}},"devices":[)", handler_json(c.guest.handler),
                       c.guest.eoi_mode, c.guest.busy ? "busy" : "idle");
    for (std::size_t d = 0; d < c.devices.size(); ++d) {
        const DeviceConfig& dev = c.devices[d];
        out += fmt::format(R"({}{{"name":{},"kind":"{}","vm":{},"iommu_group":{},"irqs":[)", d ? "," : "", text(dev.name),
                           device_kind_name(dev.kind), text(dev.vm), dev.iommu_group);
        for (std::size_t i = 0; i < dev.irqs.size(); ++i) {
            const DeviceIrqConfig& irq = dev.irqs[i];
            out += fmt::format(R"({}{{"index":{},"subindex":{},"trigger":"{}","host_irq":{},"guest_irq":{},"delivery":"{}","traffic":{}}})",
                               i ? "," : "", irq.index, irq.subindex, trigger_name(irq.trigger), irq.host_irq,
                               irq.guest_irq, to_string(irq.delivery), traffic_json(irq.traffic, c.origin));
        }
        out += "]}";
    }
    out += R"(],"vmm":{)";
    if (c.vmm.kill_at_us) out += fmt::format(R"("kill_at_us":{},)", number(*c.vmm.kill_at_us));
    out += fmt::format(R"("close_order_seed":{},"forward_policy":"{}","switches":[)", c.vmm.close_order_seed,
                       to_string(c.vmm.forward_policy));
    for (std::size_t s = 0; s < c.vmm.switches.size(); ++s) {
        const ModeSwitch& m = c.vmm.switches[s];
        out += fmt::format(R"({}{{"at_us":{},"device":{},"irq":{},"delivery":"{}"}})", s ? "," : "", number(m.at_us),
                           text(m.device), m.irq, to_string(m.delivery));
    }
    out += "]}";
    if (!c.compare.empty()) {
        out += R"(,"compare":[)";
        for (std::size_t k = 0; k < c.compare.size(); ++k) {
            if (k) out += ',';
            out += text(c.compare[k].text);
        }
        out += "]";
    }
    return out + "}";
}

std::string run_description_json(const ScenarioConfig& c, const std::string& profile, std::uint64_t profile_digest,
                                 const std::vector<std::pair<std::string, std::string>>& params)
{
    std::string p;
    for (const auto& [key, value] : params) p += (p.empty() ? "" : ",") + text(key) + ":" + text(value);
    return fmt::format(R"({{"fwdsim":"{}","scenario":{},"params":{{{}}},"seed":{},"profile":{},"profile_digest":"{:016x}","resolved":{}}})",
                       fwdsim_version(), text(c.name), p, c.seed, text(profile), profile_digest, resolved_json(c));
}

} // namespace fwdsim::scenario
