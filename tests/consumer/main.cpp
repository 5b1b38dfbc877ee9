// The smallest programs a user would write against the library: three
// events run in time order (the kernel alone), and a whole system -- a
// level-triggered device forwarded to a guest -- delivers interrupts and
// writes a trace (every layer, down to the scenario's YAML and threads).
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/trace.h>

#include <cstdio>
#include <sstream>
#include <vector>

int main()
{
    using fwdsim::sim::Cycles;
    fwdsim::sim::EventQueue queue;
    std::vector<std::uint64_t> seen;
    fwdsim::sim::FunctionEvent a([&] { seen.push_back(queue.now().count()); });
    fwdsim::sim::FunctionEvent b([&] { seen.push_back(queue.now().count()); });
    fwdsim::sim::FunctionEvent c([&] { seen.push_back(queue.now().count()); });
    queue.schedule(c, Cycles{30});
    queue.schedule(a, Cycles{10});
    queue.schedule(b, Cycles{20000});
    queue.run_until_idle();
    const bool ordered = seen == std::vector<std::uint64_t>{10, 30, 20000};

    using namespace fwdsim::scenario;
    ScenarioConfig cfg;
    cfg.duration_us = 2'000;
    cfg.warmup_us = 500;
    cfg.vms = {VmConfig{"vm0", 1, {1}}};
    DeviceIrqConfig irq;
    irq.trigger = TriggerKind::level;
    irq.host_irq = 48;
    irq.guest_irq = 48;
    irq.delivery = DeliveryMode::forwarded;
    irq.traffic.kind = TrafficConfig::Kind::periodic;
    irq.traffic.rate_per_s = 20'000;
    cfg.devices = {DeviceConfig{"plat0", DeviceKind::platform, "vm0", 1, {irq}}};
    std::ostringstream trace;
    std::uint64_t delivered = 0;
    {
        fwdsim::sim::ChromeTraceWriter writer(trace, fwdsim::sim::Clock{cfg.clock_hz});
        fwdsim::sim::Tracer tracer;
        tracer.attach(&writer);
        System sys(cfg, load_profile(cfg), &tracer);
        sys.start();
        sys.run_for(sys.us(cfg.duration_us));
        delivered = sys.report().irqs.at(0).delivered;
    }
    const bool traced = trace.str().find("\"IAR (guest)\"") != std::string::npos;
    std::printf("consumer: events %s, %llu interrupts delivered, trace %s\n", ordered ? "in order" : "OUT OF ORDER",
                static_cast<unsigned long long>(delivered), traced ? "written" : "MISSING");
    return ordered && delivered > 0 && traced ? 0 : 1;
}
