// Statistics: named counters and latency histograms.
//
// Histogram is log-linear (HdrHistogram's layout): values below
// 2^kSubBits are exact, larger ones fall in buckets whose width is a
// 1/2^kSubBits fraction of their magnitude, so a percentile is within
// 1/2^(kSubBits-1) (under 0.8%) of the true sample.  Min, max, count and sum are
// exact.  Two histograms merge by adding bucket counts, which is what a
// sweep's shards need.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fwdsim::sim {

class Counter {
public:
    void add(std::uint64_t n = 1) { value_ += n; }
    std::uint64_t value() const { return value_; }
    void merge(const Counter& o) { value_ += o.value_; }
    void reset() { value_ = 0; }

private:
    std::uint64_t value_ = 0;
};

class Histogram {
public:
    static constexpr unsigned kSubBits = 8;

    /// Inline: the system measures a few latencies per interrupt, and the
    /// call into stats.cpp cost about a third of recording one.
    void record(std::uint64_t value, std::uint64_t times = 1)
    {
        if (times == 0) {
            return;
        }
        const std::size_t b = bucket_of(value);
        if (b >= buckets_.size()) [[unlikely]] {
            grow(b);
        }
        buckets_[b] += times;
        count_ += times;
        min_ = value < min_ ? value : min_;
        max_ = value > max_ ? value : max_;
        sum_ += static_cast<Sum>(value) * times;
    }
    void merge(const Histogram& other);
    void reset();

    std::uint64_t count() const { return count_; }
    std::uint64_t min() const { return count_ ? min_ : 0; }
    std::uint64_t max() const { return max_; }
    double mean() const;
    /// The smallest recorded-bucket value v such that at least p percent of
    /// samples are <= v (nearest-rank), reported as the bucket's upper edge
    /// clamped to [min, max].  p in [0, 100].
    std::uint64_t percentile(double p) const;

    /// One bucket: the samples from `low` to `high` (inclusive).
    struct Bucket {
        std::uint64_t low = 0, high = 0, count = 0;
    };
    /// The buckets holding samples, in value order (what a result file
    /// exports, so any statistic can be recomputed from it).
    std::vector<Bucket> buckets() const;

private:
    static std::size_t bucket_of(std::uint64_t v)
    {
        if (v < kSub) {
            return static_cast<std::size_t>(v);
        }
        // Magnitude m = index of the top bit (>= kSubBits); keep kSubBits bits
        // below it.  Each magnitude owns kSub/2 buckets past the exact range.
        const unsigned m = 63u - static_cast<unsigned>(std::countl_zero(v));
        const unsigned shift = m - (kSubBits - 1);
        const std::uint64_t sub = (v >> shift) - kSub / 2;
        return static_cast<std::size_t>(kSub + (m - kSubBits) * (kSub / 2) + sub);
    }
    static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
    /// Makes bucket `b` exist (out of line: rare once a run has warmed up).
    [[gnu::noinline]] void grow(std::size_t b);
    static std::uint64_t bucket_high(std::size_t b);

    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t max_ = 0;
    // The exact sum, as an integer: a long double add per sample is x87
    // code, several times the cost of the rest of record().  128 bits
    // cannot overflow for any count a run reaches.
    __extension__ using Sum = unsigned __int128;
    Sum sum_ = 0;
};

} // namespace fwdsim::sim
