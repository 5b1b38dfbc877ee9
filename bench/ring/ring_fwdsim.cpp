// fwdsim-bench ring NODES TOKENS EVENTS: the event-kernel ring benchmark.
//
// NODES components sit in a ring.  A token arriving at a node is one
// delivery: the node counts it and passes the token on to the next node one
// cycle later.  TOKENS tokens start spread evenly around the ring, all first
// delivered at cycle 1, and the run stops after EVENTS deliveries.  Each
// token is a component-owned event scheduled through the same public API the
// models use (EventQueue::schedule_after on an Event member), so this
// measures what a model pays per event.  The run is EVENTS events long
// (EventQueue::run_events): every event is one delivery.
#include "ring_args.h"

#include <fwdsim/sim/event_queue.h>

#include <chrono>
#include <memory>
#include <vector>

namespace {

using fwdsim::sim::Cycles;
using fwdsim::sim::EventQueue;

struct Ring {
    EventQueue queue;
    std::vector<std::uint64_t> deliveries; // per node
};

class Token final : public fwdsim::sim::Event {
public:
    Token(Ring& ring, std::uint64_t node)
        : Event("ring.token"), queue_(ring.queue), deliveries_(ring.deliveries.data()),
          last_node_(ring.deliveries.size() - 1), node_(node)
    {
    }

private:
    // A token keeps what it touches at hand, as a model's event keeps its
    // owner: the counter array and the queue, not a path to them.
    void process() override
    {
        const std::uint64_t node = node_;
        ++deliveries_[node];
        // The next node, wrapping to 0 after the last, without a branch:
        // GCC lays the usual case out as a taken jump, one more per event.
        node_ = (node + 1) & (std::uint64_t{0} - std::uint64_t{node != last_node_});
        queue_.schedule_after(*this, Cycles{1});
    }

    EventQueue& queue_;
    std::uint64_t* const deliveries_;
    const std::uint64_t last_node_;
    std::uint64_t node_;
};

} // namespace

int main(int argc, char** argv)
{
    const auto args = fwdsim::bench::parse_ring_args(argc, argv, "fwdsim-bench");
    Ring ring;
    ring.deliveries.assign(args.nodes, 0);
    std::vector<std::unique_ptr<Token>> tokens;
    for (std::uint64_t t = 0; t < args.tokens; ++t) {
        tokens.push_back(std::make_unique<Token>(ring, t * args.nodes / args.tokens));
        ring.queue.schedule(*tokens.back(), Cycles{1});
    }
    const auto start = std::chrono::steady_clock::now();
    const std::uint64_t ran = ring.queue.run_events(args.events);
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;

    std::uint64_t total = 0;
    for (auto d : ring.deliveries) total += d;
    if (ran != args.events || total != args.events) {
        std::fprintf(stderr, "fwdsim-bench: counted %llu deliveries, expected %llu\n",
                     static_cast<unsigned long long>(total), static_cast<unsigned long long>(args.events));
        return 1;
    }
    fwdsim::bench::print_result("fwdsim", args, ring.queue.now().count(), wall.count());
    return 0;
}
