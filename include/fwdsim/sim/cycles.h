// Cycles: simulated time as an integer count of reference-clock cycles.
//
// Every duration and timestamp in fwdsim is a Cycles value.  It is a strong
// type so that a cycle count is never mixed up with a host-side integer (an
// INTID, a file descriptor, a count of events).  Clock converts it to
// nanoseconds for display; the simulation itself never uses floating point
// time, which keeps runs bit-for-bit reproducible.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace fwdsim::sim {

class Cycles {
public:
    constexpr Cycles() = default;
    constexpr explicit Cycles(std::uint64_t n) : n_(n) {}

    constexpr std::uint64_t count() const { return n_; }

    static constexpr Cycles zero() { return Cycles{0}; }
    static constexpr Cycles max() { return Cycles{std::numeric_limits<std::uint64_t>::max()}; }

    friend constexpr auto operator<=>(Cycles, Cycles) = default;

    constexpr Cycles& operator+=(Cycles o) { n_ += o.n_; return *this; }
    constexpr Cycles& operator-=(Cycles o) { n_ -= o.n_; return *this; }
    friend constexpr Cycles operator+(Cycles a, Cycles b) { return Cycles{a.n_ + b.n_}; }
    friend constexpr Cycles operator-(Cycles a, Cycles b) { return Cycles{a.n_ - b.n_}; }
    friend constexpr Cycles operator*(Cycles a, std::uint64_t k) { return Cycles{a.n_ * k}; }
    friend constexpr Cycles operator*(std::uint64_t k, Cycles a) { return Cycles{a.n_ * k}; }

private:
    std::uint64_t n_ = 0;
};

namespace literals {
constexpr Cycles operator""_cy(unsigned long long n) { return Cycles{static_cast<std::uint64_t>(n)}; }
} // namespace literals

/// The reference clock: converts cycle counts to wall-clock units for display.
class Clock {
public:
    constexpr explicit Clock(std::uint64_t hz = 2'400'000'000) : hz_(hz) {}
    constexpr std::uint64_t hz() const { return hz_; }
    double to_ns(Cycles c) const { return static_cast<double>(c.count()) * 1e9 / static_cast<double>(hz_); }
    double to_us(Cycles c) const { return to_ns(c) / 1e3; }
    Cycles from_ns(std::uint64_t ns) const {
        // Rounded to the nearest cycle; integer arithmetic keeps it exact.
        return Cycles{(ns * hz_ + 500'000'000) / 1'000'000'000};
    }

private:
    std::uint64_t hz_;
};

} // namespace fwdsim::sim
