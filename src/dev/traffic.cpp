#include <fwdsim/dev/traffic.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>

namespace fwdsim::dev {
namespace {

sim::Cycles at_least_one(double cycles)
{
    // Two events never share a cycle: a gap is at least one cycle.
    return sim::Cycles{std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(cycles)))};
}

class PeriodicTraffic final : public Traffic {
public:
    PeriodicTraffic(sim::Cycles period, sim::Cycles jitter) : period_(period), jitter_(jitter) {}

    std::optional<sim::Cycles> next_gap(sim::Rng& rng) override
    {
        if (jitter_.count() == 0) {
            return period_;
        }
        const std::uint64_t span = 2 * jitter_.count() + 1;
        const auto offset = static_cast<std::int64_t>(rng.uniform(span)) - static_cast<std::int64_t>(jitter_.count());
        return at_least_one(static_cast<double>(period_.count()) + static_cast<double>(offset));
    }
    std::string describe() const override
    {
        return fmt::format("periodic {} cycles (jitter {})", period_.count(), jitter_.count());
    }

private:
    sim::Cycles period_;
    sim::Cycles jitter_;
};

class PoissonTraffic final : public Traffic {
public:
    explicit PoissonTraffic(double mean_gap) : mean_gap_(mean_gap) {}
    std::optional<sim::Cycles> next_gap(sim::Rng& rng) override { return at_least_one(rng.exponential(mean_gap_)); }
    std::string describe() const override { return fmt::format("poisson mean gap {:.1f} cycles", mean_gap_); }

private:
    double mean_gap_;
};

class BurstyTraffic final : public Traffic {
public:
    BurstyTraffic(double mean_gap, sim::Cycles on, sim::Cycles off) : mean_gap_(mean_gap), on_(on), off_(off) {}

    std::optional<sim::Cycles> next_gap(sim::Rng& rng) override
    {
        // Position within the current on/off period decides whether the next
        // Poisson arrival lands in "on" or must skip past an "off" stretch.
        std::uint64_t gap = at_least_one(rng.exponential(mean_gap_)).count();
        std::uint64_t total = 0;
        for (;;) {
            const std::uint64_t left_on = on_.count() - phase_;
            if (gap <= left_on) {
                phase_ += gap;
                return sim::Cycles{total + gap};
            }
            // The rest of this "on" stretch passes without an event; memoryless
            // arrivals resume after the "off" stretch.
            total += left_on + off_.count();
            gap -= left_on;
            phase_ = 0;
        }
    }
    std::string describe() const override
    {
        return fmt::format("bursty mean gap {:.1f} cycles, on {} / off {}", mean_gap_, on_.count(), off_.count());
    }

private:
    double mean_gap_;
    sim::Cycles on_;
    sim::Cycles off_;
    std::uint64_t phase_ = 0; // cycles into the current "on" stretch
};

class TraceTraffic final : public Traffic {
public:
    explicit TraceTraffic(std::vector<sim::Cycles> times) : times_(std::move(times)) {}

    std::optional<sim::Cycles> next_gap(sim::Rng&) override
    {
        if (next_ >= times_.size()) {
            return std::nullopt;
        }
        const sim::Cycles t = times_[next_++];
        const sim::Cycles gap = t - last_;
        last_ = t;
        return gap;
    }
    std::string describe() const override { return fmt::format("trace of {} events", times_.size()); }

private:
    std::vector<sim::Cycles> times_;
    std::size_t next_ = 0;
    sim::Cycles last_{};
};

} // namespace

std::unique_ptr<Traffic> periodic_traffic(sim::Cycles period, sim::Cycles jitter)
{
    return std::make_unique<PeriodicTraffic>(period, jitter);
}

std::unique_ptr<Traffic> poisson_traffic(double mean_gap)
{
    return std::make_unique<PoissonTraffic>(mean_gap);
}

std::unique_ptr<Traffic> bursty_traffic(double mean_gap, sim::Cycles on, sim::Cycles off)
{
    return std::make_unique<BurstyTraffic>(mean_gap, on, off);
}

std::unique_ptr<Traffic> trace_traffic(std::vector<sim::Cycles> times)
{
    for (std::size_t i = 1; i < times.size(); ++i) {
        if (times[i] < times[i - 1]) {
            throw sim::ConfigError("trace", static_cast<int>(i + 1), "time", "event times must not decrease");
        }
    }
    return std::make_unique<TraceTraffic>(std::move(times));
}

std::unique_ptr<Traffic> trace_traffic_from_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) {
        throw sim::ConfigError(path, 0, "file", "cannot open traffic trace");
    }
    std::vector<sim::Cycles> times;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (const auto hash = line.find('#'); hash != std::string::npos) {
            line.resize(hash);
        }
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) {
            continue;
        }
        const auto last = line.find_last_not_of(" \t\r");
        const char* b = line.data() + first;
        const char* e = line.data() + last + 1;
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(b, e, v);
        if (ec != std::errc{} || ptr != e) {
            throw sim::ConfigError(path, line_no, "time", "expected a cycle count, got '" + std::string(b, e) + "'");
        }
        if (!times.empty() && sim::Cycles{v} < times.back()) {
            throw sim::ConfigError(path, line_no, "time", "event times must not decrease");
        }
        times.emplace_back(v);
    }
    return std::make_unique<TraceTraffic>(std::move(times));
}

} // namespace fwdsim::dev
