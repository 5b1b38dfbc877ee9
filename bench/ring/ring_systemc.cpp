// systemc-ring ring NODES TOKENS EVENTS: the same ring on the Accellera
// SystemC kernel, for comparison.  Each node is an SC_METHOD sensitive to its
// own sc_event and passes the token on with notify(1, SC_NS); one simulated
// nanosecond stands for one cycle.  Tokens start on distinct nodes and move
// in lockstep, so a node never holds two tokens at once.
#include "ring_args.h"

#include <systemc.h>

#include <chrono>
#include <memory>
#include <vector>

namespace {

std::uint64_t g_remaining = 0;
std::uint64_t g_total = 0;

struct Node : sc_core::sc_module {
    sc_core::sc_event arrive;
    Node* next = nullptr;
    std::uint64_t deliveries = 0;

    SC_HAS_PROCESS(Node);
    explicit Node(const sc_core::sc_module_name& name) : sc_core::sc_module(name)
    {
        SC_METHOD(on_arrive);
        sensitive << arrive;
        dont_initialize();
    }

    void on_arrive()
    {
        // sc_stop() lets the rest of the current delta cycle run; those
        // methods must not count deliveries past the limit.
        if (g_remaining == 0) {
            return;
        }
        ++deliveries;
        ++g_total;
        if (--g_remaining == 0) {
            sc_core::sc_stop();
            return;
        }
        next->arrive.notify(1, sc_core::SC_NS);
    }
};

} // namespace

int sc_main(int argc, char** argv)
{
    const auto args = fwdsim::bench::parse_ring_args(argc, argv, "systemc-ring");
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    std::vector<std::unique_ptr<Node>> nodes;
    for (std::uint64_t i = 0; i < args.nodes; ++i) {
        nodes.push_back(std::make_unique<Node>(("n" + std::to_string(i)).c_str()));
    }
    for (std::uint64_t i = 0; i < args.nodes; ++i) {
        nodes[i]->next = nodes[(i + 1) % args.nodes].get();
    }
    g_remaining = args.events;
    for (std::uint64_t t = 0; t < args.tokens; ++t) {
        nodes[t * args.nodes / args.tokens]->arrive.notify(1, sc_core::SC_NS);
    }
    const auto start = std::chrono::steady_clock::now();
    sc_core::sc_start();
    const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
    if (g_total != args.events) {
        std::fprintf(stderr, "systemc-ring: counted %llu deliveries, expected %llu\n",
                     static_cast<unsigned long long>(g_total), static_cast<unsigned long long>(args.events));
        return 1;
    }
    const auto cycles = static_cast<std::uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9 + 0.5);
    fwdsim::bench::print_result("systemc", args, cycles, wall.count());
    return 0;
}
