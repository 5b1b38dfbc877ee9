// Schedules three events and checks they ran in time order: the smallest
// program a user would write against the installed library.
#include <fwdsim/sim/event_queue.h>

#include <cstdio>
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
    const bool ok = seen == std::vector<std::uint64_t>{10, 30, 20000};
    std::printf("consumer: %s\n", ok ? "ok" : "WRONG ORDER");
    return ok ? 0 : 1;
}
