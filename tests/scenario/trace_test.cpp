// Traces of whole systems: every example scenario's trace is readable
// (valid JSON, every track named, spans nested, flows complete, the
// interrupt's steps there), the same run gives the same bytes, tracing
// changes no result, and a latency the results report can be read off the
// trace.
#include <fwdsim/scenario/results.h>
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>
#include <fwdsim/sim/trace.h>

#include <catch2/catch.hpp>

#include "trace_check.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

/// At most 2 ms of simulated time (1 ms of it warm-up), everything timed
/// in the scenario (mode switches, the VMM's kill) scaled alike.
ScenarioConfig bounded(ScenarioConfig c)
{
    constexpr double kLimitUs = 2000;
    if (c.duration_us <= kLimitUs) return c;
    const double f = kLimitUs / c.duration_us;
    c.duration_us = kLimitUs;
    c.warmup_us = std::min(c.warmup_us * f, kLimitUs / 2);
    for (ModeSwitch& s : c.vmm.switches) s.at_us *= f;
    if (c.vmm.kill_at_us) *c.vmm.kill_at_us *= f;
    return c;
}

struct Traced {
    std::string trace;
    RunResult result;
};

Traced run_traced(const ScenarioConfig& c)
{
    Traced t;
    std::ostringstream out;
    {
        sim::ChromeTraceWriter writer(out, sim::Clock{c.clock_hz});
        sim::Tracer tracer;
        tracer.attach(&writer);
        System sys(c, load_profile(c), &tracer);
        sys.start();
        sys.run_for(sys.us(c.duration_us));
        t.result = sys.report();
    }
    t.trace = out.str();
    return t;
}

std::string json_of(const RunResult& r)
{
    std::ostringstream out;
    write_json_lines(out, {r});
    return out.str();
}

std::vector<std::filesystem::path> example_files()
{
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(FWDSIM_SOURCE_DIR) / "examples" / "scenarios"))
        if (e.path().extension() == ".yaml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

TEST_CASE("every example scenario's trace is readable: JSON, named tracks, nested spans, whole flows, the interrupt's steps")
{
    const auto files = example_files();
    REQUIRE(files.size() >= 6);
    std::size_t runs = 0;
    for (const auto& file : files) {
        // Every point of a sweep: each delivery mode and rate it lists.
        for (const SweepPoint& p : load_sweep(file.string())) {
            const ScenarioConfig c = bounded(p.config);
            INFO(file.filename().string() << " point " << p.index);
            const Traced t = run_traced(c);
            const test::TraceCheck check = test::check_trace(t.trace);
            for (const std::string& problem : check.problems) UNSCOPED_INFO(problem);
            CHECK(check.problems.empty());
            ++runs;
            // Each VM's vCPUs and each host CPU on tracks of their own.
            const std::set<std::string> tracks(check.tracks.begin(), check.tracks.end());
            for (const VmConfig& v : c.vms)
                for (unsigned id = 0; id < v.vcpus; ++id) CHECK(tracks.count(v.name + "/vcpu" + std::to_string(id)) == 1);
            for (unsigned cpu = 0; cpu < c.host_cpus; ++cpu) CHECK(tracks.count("host/cpu" + std::to_string(cpu)) == 1);
            // Interrupts delivered: their steps are there, joined by flows.
            std::uint64_t delivered = 0;
            for (const IrqResult& r : t.result.irqs) delivered += r.delivered;
            if (delivered == 0) continue;
            CHECK(check.names.count("assert") == 1);
            CHECK(check.names.count("inject") == 1);
            CHECK(check.names.count("IAR (guest)") == 1);
            CHECK(check.names.count("EOI (guest)") + check.names.count("EOI (guest) = deactivate") >= 1);
            CHECK(check.flows > 0);
            bool host_path = false; // an interrupt through VFIO: the host's IAR and, unless forwarded, its DIR
            for (const DeviceConfig& d : c.devices) host_path = host_path || d.kind != DeviceKind::timer;
            if (host_path) CHECK(check.names.count("IAR (host)") == 1);
        }
    }
    CHECK(runs >= 20);
}

TEST_CASE("the same scenario and seed give the same trace bytes, and tracing changes no result")
{
    const std::string file = std::string(FWDSIM_SOURCE_DIR) + "/examples/scenarios/multi_vcpu.yaml";
    const ScenarioConfig c = bounded(load_scenario(file));
    const Traced a = run_traced(c), b = run_traced(c);
    CHECK(a.trace == b.trace);
    CHECK(a.trace.size() > 10'000);
    ScenarioConfig other = c;
    other.seed += 1;
    CHECK(run_traced(other).trace != a.trace);

    System plain(c, load_profile(c));
    plain.start();
    plain.run_for(plain.us(c.duration_us));
    CHECK(json_of(plain.report()) == json_of(a.result));
}

TEST_CASE("the latency the results report is the trace's assert -> guest IAR, interrupt by interrupt")
{
    const std::string file = std::string(FWDSIM_SOURCE_DIR) + "/examples/scenarios/headline.yaml";
    for (const SweepPoint& p : load_sweep(file)) {
        // One rate, each delivery mode.
        if (p.config.devices.at(0).irqs.at(0).traffic.rate_per_s != 50000) continue;
        const ScenarioConfig c = bounded(p.config);
        INFO("point " << p.index << ": " << to_string(c.devices.at(0).irqs.at(0).delivery));
        const Traced t = run_traced(c);
        const test::TraceCheck check = test::check_trace(t.trace);
        REQUIRE(check.problems.empty());
        const IrqResult& r = t.result.irqs.at(0);
        REQUIRE(r.to_ack.count() > 10);

        // Each flow: its assert and the guest's IAR, in cycles and in the
        // trace's own timestamps.
        std::map<std::uint64_t, const test::TraceStep*> asserted, acked;
        for (const test::TraceStep& s : check.steps) {
            if (s.name == "assert") asserted[s.flow] = &s;
            if (s.name == "IAR (guest)") acked[s.flow] = &s;
        }
        const std::uint64_t measure_from = static_cast<std::uint64_t>(c.warmup_us * static_cast<double>(c.clock_hz) / 1e6 + 0.5);
        std::vector<std::uint64_t> latencies;
        for (const auto& [flow, iar] : acked) {
            const auto a = asserted.find(flow);
            REQUIRE(a != asserted.end());
            if (a->second->cycle < measure_from) continue; // the warm-up: not measured
            const std::uint64_t cycles = iar->cycle - a->second->cycle;
            latencies.push_back(cycles);
            // The timestamps a viewer shows say the same, to the nanosecond.
            const double ns = static_cast<double>(iar->ts_ps - a->second->ts_ps) / 1000.0;
            CHECK(std::abs(ns - static_cast<double>(cycles) * 1e9 / static_cast<double>(c.clock_hz)) <= 1.0);
        }
        CHECK(latencies.size() == r.to_ack.count());
        CHECK(*std::min_element(latencies.begin(), latencies.end()) == r.to_ack.min());
        CHECK(*std::max_element(latencies.begin(), latencies.end()) == r.to_ack.max());
    }
}

TEST_CASE("outputs.trace in a scenario is read, and refused with its line when it cannot be written")
{
    const std::string file = std::string(FWDSIM_SOURCE_DIR) + "/examples/scenarios/timer_forwarded.yaml";
    const std::string text = read_input_file(file, "scenario");
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1; // after "outputs:"
    const auto with_trace = [&](const std::string& path) { return text + "outputs:\n  trace: \"" + path + "\"\n"; };
    CHECK(parse_scenario(with_trace("run.trace.json"), "t.yaml").outputs.trace == "run.trace.json");
    const auto refusal = [&](const std::string& path) -> sim::ConfigError {
        try {
            (void)parse_scenario(with_trace(path), "t.yaml");
        } catch (const sim::ConfigError& e) {
            return e;
        }
        FAIL("accepted " << path);
        throw;
    };
    for (const std::string bad : {"no/such/folder/run.json", ".", "/", ""}) {
        INFO(bad);
        const sim::ConfigError e = refusal(bad);
        CHECK(e.line() == line);
        CHECK(e.field() == "outputs.trace");
        CHECK_THAT(std::string(e.what()), Catch::Contains("t.yaml"));
    }
    CHECK_THAT(refusal("no/such/folder/run.json").message(), Catch::Contains("no folder 'no/such/folder'"));
    CHECK_THAT(refusal(".").message(), Catch::Contains("is a directory"));
}
