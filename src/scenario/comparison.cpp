#include <fwdsim/scenario/comparison.h>
#include <fwdsim/sim/config_error.h>

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace fwdsim::scenario {
namespace {

constexpr std::array<std::string_view, 10> kMetrics = {
    "ack_p50",       "ack_p99",           "eoi_p50",         "host_cycles_per_irq", "guest_cycles_per_irq",
    "exits_per_irq", "maintenance_per_irq", "unmasks_per_irq", "delivered",           "coalesced"};

constexpr std::array<std::string_view, 3> kModes = {"userspace", "irqfd", "forwarded"};

std::vector<std::string_view> words(std::string_view s)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

bool is_mode(std::string_view w)
{
    for (auto m : kModes) {
        if (w == m) return true;
    }
    return false;
}

} // namespace

std::span<const std::string_view> metric_names() { return kMetrics; }

double metric_value(const IrqResult& i, std::string_view name)
{
    std::uint64_t exits = 0;
    for (const auto& [reason, n] : i.exits) exits += n;
    if (name == "ack_p50") return static_cast<double>(i.to_ack.percentile(50));
    if (name == "ack_p99") return static_cast<double>(i.to_ack.percentile(99));
    if (name == "eoi_p50") return static_cast<double>(i.to_eoi.percentile(50));
    if (name == "host_cycles_per_irq") return i.per_irq(i.host_cycles);
    if (name == "guest_cycles_per_irq") return i.per_irq(i.guest_cycles);
    if (name == "exits_per_irq") return i.per_irq(exits);
    if (name == "maintenance_per_irq") return i.per_irq(i.maintenance_irqs);
    if (name == "unmasks_per_irq") return i.per_irq(i.vfio_unmasks);
    if (name == "delivered") return static_cast<double>(i.delivered);
    if (name == "coalesced") return static_cast<double>(i.coalesced);
    throw std::out_of_range("unknown metric '" + std::string(name) + "'");
}

bool Comparison::holds(double a, double b) const
{
    const double l = lhs_factor * a;
    const double r = rhs_factor * b;
    switch (op) {
    case Op::less:
        return l < r;
    case Op::less_equal:
        return l <= r;
    case Op::greater:
        return l > r;
    case Op::greater_equal:
        return l >= r;
    }
    return false;
}

double Comparison::margin(double a, double b) const
{
    const double d = rhs_factor * b - lhs_factor * a;
    return op == Op::less || op == Op::less_equal ? d : -d;
}

Comparison parse_comparison(std::string_view text, const std::string& origin, int line, std::size_t index)
{
    const std::string field = "compare." + std::to_string(index);
    auto fail = [&](const std::string& what) -> Comparison {
        throw sim::ConfigError(origin, line, field,
                               what + " (expected '[F *] MODE OP [F *] MODE on METRIC', e.g. "
                                      "'forwarded < irqfd on host_cycles_per_irq')");
    };
    Comparison c;
    c.text = std::string(text);
    c.line = line;
    const auto w = words(text);
    std::size_t k = 0;
    // [F *] MODE
    auto side = [&](double& factor, std::string& mode) {
        if (k + 2 < w.size() && w[k + 1] == "*") {
            const auto s = w[k];
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), factor);
            if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(factor) || factor <= 0) {
                fail("factor '" + std::string(s) + "' is not a finite number > 0");
            }
            k += 2;
        }
        if (k >= w.size() || !is_mode(w[k])) {
            fail(k < w.size() ? "'" + std::string(w[k]) + "' is not a delivery mode (userspace, irqfd, forwarded)"
                              : std::string("a delivery mode is missing"));
        }
        mode = std::string(w[k++]);
    };
    side(c.lhs_factor, c.lhs);
    if (k >= w.size()) fail("the operator is missing");
    const auto op = w[k++];
    if (op == "<") {
        c.op = Comparison::Op::less;
    } else if (op == "<=") {
        c.op = Comparison::Op::less_equal;
    } else if (op == ">") {
        c.op = Comparison::Op::greater;
    } else if (op == ">=") {
        c.op = Comparison::Op::greater_equal;
    } else {
        fail("'" + std::string(op) + "' is not one of <, <=, >, >=");
    }
    side(c.rhs_factor, c.rhs);
    if (c.lhs == c.rhs) fail("both sides name " + c.lhs);
    if (k + 2 != w.size() || w[k] != "on") fail("expected 'on METRIC' at the end");
    c.metric = std::string(w[k + 1]);
    bool known = false;
    for (auto m : kMetrics) known = known || m == c.metric;
    if (!known) {
        std::string list;
        for (auto m : kMetrics) {
            if (!list.empty()) list += ", ";
            list += m;
        }
        fail("unknown metric '" + c.metric + "' (one of " + list + ")");
    }
    return c;
}

} // namespace fwdsim::scenario
