// Command-line parsing shared by the two ring benchmarks, so both accept
// and reject exactly the same arguments and print the same RESULT line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace fwdsim::bench {

struct RingArgs {
    std::uint64_t nodes = 0;
    std::uint64_t tokens = 0;
    std::uint64_t events = 0;
};

inline bool parse_count(const char* s, std::uint64_t& out)
{
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || *s == '-' || v == 0) {
        return false;
    }
    out = v;
    return true;
}

/// argv: PROGRAM ring NODES TOKENS EVENTS.  Exits with status 2 on bad input.
inline RingArgs parse_ring_args(int argc, char** argv, const char* program)
{
    RingArgs a;
    if (argc != 5 || std::string(argv[1]) != "ring" || !parse_count(argv[2], a.nodes) ||
        !parse_count(argv[3], a.tokens) || !parse_count(argv[4], a.events) || a.tokens > a.nodes) {
        std::fprintf(stderr,
                     "usage: %s ring NODES TOKENS EVENTS\n"
                     "  positive integers; TOKENS <= NODES (tokens start on distinct nodes)\n",
                     program);
        std::exit(2);
    }
    return a;
}

inline void print_result(const char* impl, const RingArgs& a, std::uint64_t cycles, double wall_s)
{
    const double ev_per_s = static_cast<double>(a.events) / wall_s;
    std::printf("RESULT impl=%s nodes=%llu tokens=%llu events=%llu cycles=%llu wall_s=%.6f ev_per_s=%.0f ns_per_ev=%.3f\n",
                impl, static_cast<unsigned long long>(a.nodes), static_cast<unsigned long long>(a.tokens),
                static_cast<unsigned long long>(a.events), static_cast<unsigned long long>(cycles), wall_s, ev_per_s,
                1e9 / ev_per_s);
}

} // namespace fwdsim::bench
