#include <fwdsim/sim/random.h>

#include <bit>
#include <cmath>

namespace fwdsim::sim {
namespace {

std::uint64_t splitmix64(std::uint64_t& x)
{
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t fnv1a(std::string_view s)
{
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : s) {
        h = (h ^ c) * 0x100000001B3ull;
    }
    return h;
}

} // namespace

Rng::Rng(std::uint64_t seed)
{
    for (auto& word : s_) {
        word = splitmix64(seed);
    }
}

std::uint64_t Rng::next_u64()
{
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
}

std::uint64_t Rng::uniform(std::uint64_t bound)
{
    // Rejection on the low end of the range removes modulo bias.
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t r = next_u64();
        if (r >= threshold) {
            return r % bound;
        }
    }
}

double Rng::uniform01()
{
    return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Rng::exponential(double mean)
{
    return -std::log1p(-uniform01()) * mean;
}

Rng RandomStreams::stream(std::string_view name) const
{
    std::uint64_t mix = seed_ ^ fnv1a(name);
    return Rng{splitmix64(mix)};
}

} // namespace fwdsim::sim
