// fwdsim demo: the main demonstration.
//
// Until the full system lands this is a simulation-kernel demonstration: a
// device raising interrupts as a Poisson process at several rates, served
// by one CPU with a fixed handler cost, reporting latency percentiles.  It
// exercises the event queue, named random streams and histograms.
#include "commands.h"

#include <fwdsim/sim/cycles.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/stats.h>

#include <fmt/format.h>

#include <deque>
#include <string_view>

namespace fwdsim::app {
namespace {

struct Result {
    std::uint64_t raised = 0;
    sim::Histogram latency;
};

Result run_rate(double rate_per_s, std::uint64_t seed)
{
    const sim::Clock clock{2'400'000'000};
    const sim::Cycles handler{6000};
    const sim::Cycles duration = clock.from_ns(200'000'000); // 200 ms
    sim::EventQueue q;
    sim::Rng arrivals = sim::RandomStreams(seed).stream("demo.device");
    Result r;
    std::deque<sim::Cycles> waiting;
    bool busy = false;
    const double mean_gap = static_cast<double>(clock.hz()) / rate_per_s;

    sim::FunctionEvent* done_ptr = nullptr;
    auto start_next = [&] {
        busy = true;
        q.schedule_after(*done_ptr, handler);
    };
    sim::FunctionEvent done([&] {
        r.latency.record((q.now() - waiting.front()).count());
        waiting.pop_front();
        busy = false;
        if (!waiting.empty()) start_next();
    });
    done_ptr = &done;
    sim::FunctionEvent* raise_ptr = nullptr;
    sim::FunctionEvent raise([&] {
        ++r.raised;
        waiting.push_back(q.now());
        if (!busy) start_next();
        const auto gap = sim::Cycles{1 + static_cast<std::uint64_t>(arrivals.exponential(mean_gap))};
        if (q.now() + gap < duration) q.schedule_after(*raise_ptr, gap);
    });
    raise_ptr = &raise;
    q.schedule(raise, sim::Cycles{1});
    q.run_until_idle();
    return r;
}

} // namespace

int demo_main(int argc, char** argv)
{
    if (argc > 1 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        fmt::print("usage: fwdsim demo\n\nRuns the main demonstration and prints its table.\n");
        return 0;
    }
    const sim::Clock clock{2'400'000'000};
    fmt::print("fwdsim demo: Poisson interrupts served by one CPU (handler 6000 cycles @ 2.4 GHz), seed 1\n");
    fmt::print("{:>10} {:>9} {:>10} {:>10} {:>10} {:>10}\n", "rate/s", "irqs", "p50 us", "p90 us", "p99 us",
               "max us");
    for (double rate : {1e3, 1e4, 1e5, 2e5, 3e5, 3.8e5}) {
        const Result r = run_rate(rate, 1);
        auto us = [&](std::uint64_t c) { return clock.to_us(sim::Cycles{c}); };
        fmt::print("{:>10.0f} {:>9} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n", rate, r.raised,
                   us(r.latency.percentile(50)), us(r.latency.percentile(90)), us(r.latency.percentile(99)),
                   us(r.latency.max()));
    }
    return 0;
}

} // namespace fwdsim::app
