// Seeded randomness with one independent stream per named component.
//
// A run has one seed.  Each component asks for its own stream by a stable
// name ("dev.plat0.traffic"); the stream's state is derived from the seed
// and a hash of the name alone, so adding or removing a component never
// shifts another component's draws.  The generator (xoshiro256**) and the
// distributions are written here rather than taken from <random>, whose
// distributions differ between standard libraries: the same seed must give
// the same trace everywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace fwdsim::sim {

class Rng {
public:
    explicit Rng(std::uint64_t seed);

    std::uint64_t next_u64();
    /// Uniform in [0, bound); bound must be > 0.  Unbiased.
    std::uint64_t uniform(std::uint64_t bound);
    /// Uniform in [0, 1) with 53 bits of precision.
    double uniform01();
    /// Exponentially distributed with the given mean.
    double exponential(double mean);
    bool bernoulli(double p) { return uniform01() < p; }

private:
    std::uint64_t s_[4];
};

class RandomStreams {
public:
    explicit RandomStreams(std::uint64_t seed) : seed_(seed) {}
    std::uint64_t seed() const { return seed_; }
    /// The stream named `name`; asking twice gives two generators in the
    /// same state.
    Rng stream(std::string_view name) const;

private:
    std::uint64_t seed_;
};

} // namespace fwdsim::sim
