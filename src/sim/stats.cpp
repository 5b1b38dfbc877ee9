#include <fwdsim/sim/stats.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace fwdsim::sim {

std::uint64_t Histogram::bucket_high(std::size_t b)
{
    if (b < kSub) {
        return b;
    }
    const std::size_t rel = b - kSub;
    const unsigned m = static_cast<unsigned>(rel / (kSub / 2)) + Histogram::kSubBits;
    const std::uint64_t sub = rel % (kSub / 2) + kSub / 2;
    const unsigned shift = m - (Histogram::kSubBits - 1);
    return ((sub + 1) << shift) - 1;
}

std::vector<Histogram::Bucket> Histogram::buckets() const
{
    std::vector<Bucket> out;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
        if (buckets_[b] != 0) out.push_back({b == 0 ? 0 : bucket_high(b - 1) + 1, bucket_high(b), buckets_[b]});
    }
    return out;
}

void Histogram::grow(std::size_t b)
{
    buckets_.resize(b + 1, 0);
}

void Histogram::merge(const Histogram& other)
{
    if (other.buckets_.size() > buckets_.size()) {
        buckets_.resize(other.buckets_.size(), 0);
    }
    for (std::size_t i = 0; i < other.buckets_.size(); ++i) {
        buckets_[i] += other.buckets_[i];
    }
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

void Histogram::reset()
{
    *this = Histogram{};
}

double Histogram::mean() const
{
    return count_ ? static_cast<double>(static_cast<long double>(sum_) / count_) : 0.0;
}

std::uint64_t Histogram::percentile(double p) const
{
    if (count_ == 0) {
        return 0;
    }
    p = std::clamp(p, 0.0, 100.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    rank = std::max<std::uint64_t>(rank, 1);
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets_.size(); ++b) {
        seen += buckets_[b];
        if (seen >= rank) {
            return std::clamp(bucket_high(b), min_, max_);
        }
    }
    return max_;
}

} // namespace fwdsim::sim
