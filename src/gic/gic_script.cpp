#include <fwdsim/gic/gic_script.h>
#include <fwdsim/sim/number.h>

#include <fmt/format.h>

#include <charconv>
#include <istream>
#include <optional>
#include <ostream>
#include <sstream>
#include <vector>

namespace fwdsim::gic {
namespace {

std::optional<std::uint64_t> number(const std::string& s) { return sim::parse_unsigned(s); }

struct Decoded {
    Block block;
    std::uint32_t offset;
};

std::optional<Decoded> decode(std::uint64_t addr)
{
    auto in = [&](std::uint64_t base) { return addr >= base && addr < base + MemoryMap::block_size; };
    if (in(MemoryMap::gicd_base)) return Decoded{Block::gicd, static_cast<std::uint32_t>(addr - MemoryMap::gicd_base)};
    if (in(MemoryMap::gicc_base)) return Decoded{Block::gicc, static_cast<std::uint32_t>(addr - MemoryMap::gicc_base)};
    if (in(MemoryMap::gich_base)) return Decoded{Block::gich, static_cast<std::uint32_t>(addr - MemoryMap::gich_base)};
    if (in(MemoryMap::gicv_base)) return Decoded{Block::gicv, static_cast<std::uint32_t>(addr - MemoryMap::gicv_base)};
    return std::nullopt;
}

GicCosts script_costs()
{
    return GicCosts::from_profile(sim::CostProfile::builtin_default());
}

} // namespace

GicScript::GicScript(const GicScriptOptions& o)
{
    GicParams p;
    p.num_irqs = o.irqs;
    p.num_cpus = o.cpus;
    p.num_lrs = o.lrs;
    p.priority_bits = o.priority_bits;
    gic_ = std::make_unique<Gic>(queue_, p, script_costs());
}

GicScript::~GicScript() = default;

std::string GicScript::execute(const std::string& raw)
{
    std::string line = raw.substr(0, raw.find('#'));
    std::istringstream in(line);
    std::vector<std::string> t;
    for (std::string w; in >> w;) t.push_back(w);
    if (t.empty()) return {};

    queue_.run_until_idle(); // quiescence: propagation already under way completes
    const std::string& cmd = t[0];
    auto arg = [&](std::size_t i, const char* what) -> std::uint64_t {
        if (i >= t.size()) throw std::invalid_argument(fmt::format("{}: missing {}", cmd, what));
        const auto v = number(t[i]);
        if (!v) throw std::invalid_argument(fmt::format("{}: {} '{}' is not a number", cmd, what, t[i]));
        return *v;
    };
    auto arity = [&](std::size_t n) {
        if (t.size() != n + 1) throw std::invalid_argument(fmt::format("{}: expected {} argument(s)", cmd, n));
    };
    auto cpu_arg = [&](std::size_t i) -> unsigned {
        const auto c = arg(i, "CPU");
        if (c >= gic_->params().num_cpus) throw std::invalid_argument(fmt::format("{}: no CPU {}", cmd, c));
        return static_cast<unsigned>(c);
    };
    auto level_arg = [&](std::size_t i) -> bool {
        const auto l = arg(i, "LEVEL");
        if (l > 1) throw std::invalid_argument(fmt::format("{}: LEVEL must be 0 or 1", cmd));
        return l == 1;
    };
    try {
        if (cmd == "cpu") {
            arity(1);
            cpu_ = cpu_arg(1);
            return "OK";
        }
        if (cmd == "readl" || cmd == "readb" || cmd == "writel" || cmd == "writeb") {
            const bool write = cmd[0] == 'w';
            const unsigned size = cmd.back() == 'l' ? 4 : 1;
            arity(write ? 2 : 1);
            const auto d = decode(arg(1, "ADDR"));
            if (!d) throw std::invalid_argument(fmt::format("{}: address {} is not a GIC register", cmd, t[1]));
            if (size == 4 && (d->offset & 3) != 0) throw std::invalid_argument(fmt::format("{}: unaligned address {}", cmd, t[1]));
            if (write) {
                const auto v = arg(2, "VALUE");
                if (v > (size == 4 ? 0xFFFFFFFFull : 0xFFull)) throw std::invalid_argument(fmt::format("{}: VALUE too wide", cmd));
                gic_->write(d->block, cpu_, d->offset, static_cast<std::uint32_t>(v), size);
                return "OK";
            }
            const std::uint32_t v = gic_->read(d->block, cpu_, d->offset, size);
            return size == 4 ? fmt::format("OK 0x{:08x}", v) : fmt::format("OK 0x{:02x}", v);
        }
        if (cmd == "spi") {
            arity(2);
            const auto id = arg(1, "ID");
            if (id < 32 || id >= gic_->params().num_irqs) throw std::invalid_argument(fmt::format("spi: {} is not an SPI", id));
            gic_->set_spi_level(static_cast<unsigned>(id), level_arg(2));
            return "OK";
        }
        if (cmd == "ppi") {
            arity(3);
            const unsigned c = cpu_arg(1);
            const auto id = arg(2, "ID");
            if (id < 16 || id >= 32) throw std::invalid_argument(fmt::format("ppi: {} is not a PPI", id));
            gic_->set_ppi_level(c, static_cast<unsigned>(id), level_arg(3));
            return "OK";
        }
        if (cmd == "step") {
            arity(1);
            queue_.run_for(sim::Cycles{arg(1, "CYCLES")});
            return "OK";
        }
        if (cmd == "irq" || cmd == "fiq" || cmd == "virq" || cmd == "vfiq" || cmd == "maint") {
            arity(1);
            const unsigned c = cpu_arg(1);
            const bool v = cmd == "irq"    ? gic_->irq_line(c)
                           : cmd == "fiq"  ? gic_->fiq_line(c)
                           : cmd == "virq" ? gic_->virq_line(c)
                           : cmd == "vfiq" ? gic_->vfiq_line(c)
                                           : gic_->maintenance_pending(c);
            return v ? "OK 1" : "OK 0";
        }
        return fmt::format("ERR unknown command '{}'", cmd);
    } catch (const std::invalid_argument& e) {
        return fmt::format("ERR {}", e.what());
    }
}

std::size_t run_gic_script(std::istream& in, std::ostream& out, const GicScriptOptions& options)
{
    GicScript script(options);
    std::size_t errors = 0;
    for (std::string line; std::getline(in, line);) {
        const std::string answer = script.execute(line);
        if (answer.empty()) continue;
        if (answer.rfind("ERR", 0) == 0) ++errors;
        out << answer << '\n';
        out.flush();
    }
    return errors;
}

} // namespace fwdsim::gic
