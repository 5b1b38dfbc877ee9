// The machine's configuration: its range checks.  See
// include/fwdsim/machine/config.h.
#include <fwdsim/machine/config.h>

#include <fwdsim/arch/vgic.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace fwdsim::machine {

std::string_view to_string(DeliveryMode mode)
{
    switch (mode) {
    case DeliveryMode::userspace: return "userspace";
    case DeliveryMode::irqfd: return "irqfd";
    case DeliveryMode::forwarded: return "forwarded";
    }
    return "?";
}

std::string_view to_string(ForwardPolicy policy)
{
    return policy == ForwardPolicy::bimodal ? "bimodal" : "exclusive";
}

int SourceLines::line(std::string_view path) const
{
    for (;;) {
        if (const auto it = lines_.find(path); it != lines_.end()) return it->second;
        const auto dot = path.rfind('.');
        if (dot == std::string_view::npos) return 0;
        path = path.substr(0, dot);
    }
}

unsigned vm_irqs(const MachineConfig& c, const VmConfig& vm)
{
    return vm.irqs != 0 ? vm.irqs : std::min(arch::Vgic::kMaxNrIrqs, c.gic_irqs / 32 * 32);
}

std::uint64_t us_to_cycles(double us, std::uint64_t clock_hz)
{
    return static_cast<std::uint64_t>(std::llround(us * static_cast<double>(clock_hz) / 1e6));
}

std::string span_problem(double us, std::uint64_t clock_hz, bool nonzero)
{
    if (!std::isfinite(us)) return "must be a finite number";
    if (us < 0) return "must not be negative";
    const double cycles = us * (static_cast<double>(clock_hz) / 1e6); // finite for any finite us
    if (cycles >= static_cast<double>(kMaxSpanCycles)) {
        return fmt::format("is {:g} cycles at clock_hz {}: more than the longest span, 2^62 cycles", cycles, clock_hz);
    }
    if (nonzero && us_to_cycles(us, clock_hz) == 0) {
        return fmt::format("rounds to 0 cycles at clock_hz {}: at least {:g} us", clock_hz, 0.5e6 / static_cast<double>(clock_hz));
    }
    return {};
}

std::string rate_problem(double rate_per_s, std::uint64_t clock_hz)
{
    if (!std::isfinite(rate_per_s) || rate_per_s <= 0) return "must be a finite number greater than 0";
    const double gap = static_cast<double>(clock_hz) / rate_per_s;
    if (std::llround(gap) < 1) {
        return fmt::format("a gap of {:g} cycles at clock_hz {} rounds to 0: at most {} per second", gap, clock_hz, clock_hz);
    }
    if (gap >= static_cast<double>(kMaxSpanCycles)) return fmt::format("a gap of {:g} cycles is longer than 2^62", gap);
    return {};
}

std::string duration_problem(const MachineConfig& c, double duration_us)
{
    if (std::string why = span_problem(duration_us, c.clock_hz, true); !why.empty()) return why;
    if (duration_us <= c.warmup_us) return fmt::format("must be above the scenario's warmup_us ({})", c.warmup_us);
    return {};
}

} // namespace fwdsim::machine
