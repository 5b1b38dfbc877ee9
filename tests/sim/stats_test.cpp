#include <fwdsim/sim/stats.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

using fwdsim::sim::Histogram;

namespace {

std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p)
{
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    rank = std::max<std::size_t>(rank, 1);
    return v[rank - 1];
}

} // namespace

TEST_CASE("small values are recorded exactly")
{
    Histogram h;
    for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
    CHECK(h.count() == 100);
    CHECK(h.min() == 1);
    CHECK(h.max() == 100);
    CHECK(h.percentile(50) == 50);
    CHECK(h.percentile(90) == 90);
    CHECK(h.percentile(99) == 99);
    CHECK(h.percentile(100) == 100);
    CHECK(h.mean() == Approx(50.5));
}

TEST_CASE("percentiles of a wide distribution are within the bucket precision")
{
    Histogram h;
    std::vector<std::uint64_t> data;
    std::uint64_t x = 12345;
    for (int i = 0; i < 50000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const std::uint64_t v = 100 + (x >> 40) % 2'000'000; // 100 .. 2e6
        data.push_back(v);
        h.record(v);
    }
    for (double p : {50.0, 90.0, 99.0, 99.9}) {
        const double exact = static_cast<double>(exact_percentile(data, p));
        const double got = static_cast<double>(h.percentile(p));
        INFO("p" << p << " exact " << exact << " got " << got);
        CHECK(got >= exact);
        CHECK(got <= exact * (1.0 + 1.0 / 128));
    }
    CHECK(h.percentile(100) == *std::max_element(data.begin(), data.end()));
}

TEST_CASE("merging histograms equals recording everything in one")
{
    Histogram a, b, all;
    for (std::uint64_t v = 0; v < 5000; v += 3) { a.record(v * 17); all.record(v * 17); }
    for (std::uint64_t v = 0; v < 9000; v += 7) { b.record(v * 101); all.record(v * 101); }
    a.merge(b);
    CHECK(a.count() == all.count());
    CHECK(a.min() == all.min());
    CHECK(a.max() == all.max());
    for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
        CHECK(a.percentile(p) == all.percentile(p));
    }
}

TEST_CASE("an empty histogram reports zeros")
{
    Histogram h;
    CHECK(h.count() == 0);
    CHECK(h.percentile(99) == 0);
    CHECK(h.min() == 0);
    CHECK(h.mean() == 0.0);
}
