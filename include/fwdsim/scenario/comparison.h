// Comparison: a conclusion a scenario declares about its delivery modes.
//
// A scenario may state what it expects to conclude, one line each:
//
//     compare:
//       - forwarded < irqfd on host_cycles_per_irq
//       - 1.5 * forwarded <= irqfd on host_cycles_per_irq
//       - irqfd < userspace on ack_p50
//
// The two sides name delivery modes, each optionally scaled by a factor;
// the metric is one of metric_names().  It is checked between every two
// results of the same interrupt whose sweep points differ only in their
// delivery (`fwdsim sensitivity` reports whether it survives the cost
// profile's uncertainty).  `fwdsim run` and `sweep` ignore it.
#pragma once

#include <fwdsim/scenario/results.h>

#include <span>
#include <string>
#include <string_view>

namespace fwdsim::scenario {

struct Comparison {
    enum class Op { less, less_equal, greater, greater_equal };

    std::string text; ///< as written
    int line = 0;     ///< where, for messages
    double lhs_factor = 1.0;
    std::string lhs; ///< a delivery mode
    Op op = Op::less;
    double rhs_factor = 1.0;
    std::string rhs;
    std::string metric;

    /// Whether `lhs_factor * a  op  rhs_factor * b`.
    bool holds(double a, double b) const;
    /// How far it holds: positive when it holds, the distance between the
    /// two scaled sides (in the metric's unit).
    double margin(double a, double b) const;
};

/// Parses one `compare` line; throws sim::ConfigError naming origin, line and
/// `compare.N` when it does not read as `[F *] MODE OP [F *] MODE on METRIC`.
Comparison parse_comparison(std::string_view text, const std::string& origin, int line, std::size_t index);

/// The metrics a comparison or a sensitivity report can name.
std::span<const std::string_view> metric_names();
/// The value of metric `name` in one interrupt's result; throws
/// std::out_of_range for an unknown name.
double metric_value(const IrqResult& irq, std::string_view name);

} // namespace fwdsim::scenario
