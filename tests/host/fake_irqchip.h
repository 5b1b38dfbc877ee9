// FakeIrqchip: a small interrupt controller for testing the host IRQ layer
// and VFIO without the GIC model.  It keeps, per IRQ, the input line, an
// edge latch, enabled and active bits, and per CPU whether an acknowledged
// interrupt still holds the running priority; it drives each Cpu's nIRQ
// synchronously and logs every operation so tests can check order.
#pragma once

#include <fwdsim/host/cpu.h>
#include <fwdsim/host/irqchip.h>
#include <fwdsim/host/this_cpu.h>

#include <cerrno>
#include <string>
#include <vector>

namespace fwdsim::test {

class FakeIrqchip final : public host::Irqchip {
public:
    struct Irq {
        bool line = false;
        bool latch = false;
        bool enabled = false;
        bool active = false;
        host::IrqTrigger trigger = host::IrqTrigger::level;
    };

    FakeIrqchip(host::ThisCpu& this_cpu, unsigned nr = 64, bool split = true,
                sim::Cycles access = sim::Cycles{10})
        : this_cpu_(this_cpu), irqs_(nr), split_(split), access_(access)
    {
    }

    void attach(host::Cpu& cpu) { cpus_.push_back(&cpu); running_.push_back(0); update(); }

    // --- device side --------------------------------------------------------
    void set_line(unsigned irq, bool level)
    {
        Irq& i = irqs_.at(irq);
        if (level && !i.line && i.trigger == host::IrqTrigger::edge) i.latch = true;
        i.line = level;
        update();
    }
    void pulse(unsigned irq) { set_line(irq, true); set_line(irq, false); }

    // --- inspection ------------------------------------------------------------
    const Irq& irq(unsigned n) const { return irqs_.at(n); }
    bool pending(unsigned n) const
    {
        const Irq& i = irqs_.at(n);
        return i.trigger == host::IrqTrigger::level ? i.line : i.latch;
    }
    std::vector<std::string> log;

    // --- Irqchip -------------------------------------------------------------------
    unsigned nr_irqs() const override { return static_cast<unsigned>(irqs_.size()); }
    bool split_eoi() const override { return split_; }
    void irq_mask(unsigned irq) override { op("mask", irq); irqs_.at(irq).enabled = false; update(); }
    void irq_unmask(unsigned irq) override { op("unmask", irq); irqs_.at(irq).enabled = true; update(); }
    int irq_set_type(unsigned irq, host::IrqTrigger t) override
    {
        if (irq >= irqs_.size()) return -EINVAL;
        op("set_type", irq);
        irqs_[irq].trigger = t;
        return 0;
    }
    int irq_set_affinity(unsigned irq, unsigned cpu) override
    {
        return irq < irqs_.size() && cpu < cpus_.size() ? 0 : -EINVAL;
    }
    int irq_set_irqchip_state(unsigned irq, host::IrqchipState w, bool v) override
    {
        if (irq >= irqs_.size()) return -EINVAL;
        Irq& i = irqs_[irq];
        switch (w) {
        case host::IrqchipState::active: op(v ? "set_active" : "clear_active", irq); i.active = v; break;
        case host::IrqchipState::pending: op(v ? "set_pending" : "clear_pending", irq); i.latch = v; break;
        case host::IrqchipState::masked: i.enabled = !v; break;
        case host::IrqchipState::line_level: return -EINVAL;
        }
        update();
        return 0;
    }
    int irq_get_irqchip_state(unsigned irq, host::IrqchipState w, bool& v) override
    {
        if (irq >= irqs_.size()) return -EINVAL;
        const Irq& i = irqs_[irq];
        switch (w) {
        case host::IrqchipState::active: v = i.active; break;
        case host::IrqchipState::pending: v = pending(irq); break;
        case host::IrqchipState::masked: v = !i.enabled; break;
        case host::IrqchipState::line_level: v = i.line; break;
        }
        return 0;
    }
    int acknowledge(unsigned cpu) override
    {
        this_cpu_.charge(access_);
        int found = candidate(cpu);
        if (found < 0) {
            log.push_back("ack spurious");
            return -1;
        }
        Irq& i = irqs_[static_cast<unsigned>(found)];
        i.latch = false;
        i.active = true;
        ++running_[cpu];
        log.push_back("ack " + std::to_string(found));
        update();
        return found;
    }
    void priority_drop(unsigned cpu, unsigned irq) override
    {
        op("eoi", irq);
        if (running_[cpu] > 0) --running_[cpu];
        if (!split_) irqs_[irq].active = false;
        update();
    }
    void deactivate(unsigned, unsigned irq) override
    {
        op("dir", irq);
        irqs_[irq].active = false;
        update();
    }

private:
    void op(const char* what, unsigned irq)
    {
        this_cpu_.charge(access_);
        log.push_back(std::string(what) + " " + std::to_string(irq));
    }
    int candidate(unsigned cpu) const
    {
        if (running_[cpu] > 0) return -1;
        for (unsigned n = 0; n < irqs_.size(); ++n)
            if (irqs_[n].enabled && !irqs_[n].active && pending(n)) return static_cast<int>(n);
        return -1;
    }
    void update()
    {
        for (std::size_t c = 0; c < cpus_.size(); ++c) {
            const bool level = candidate(static_cast<unsigned>(c)) >= 0;
            if (level != cpus_[c]->irq_line()) cpus_[c]->set_irq_line(level);
        }
    }

    host::ThisCpu& this_cpu_;
    std::vector<Irq> irqs_;
    bool split_;
    sim::Cycles access_;
    std::vector<host::Cpu*> cpus_;
    std::vector<unsigned> running_;
};

} // namespace fwdsim::test
