// The default profile reproduces Dall et al. (ISCA 2016)'s KVM ARM column,
// and each microbenchmark is simulated, not stored: perturbing one
// primitive moves exactly the benchmarks whose paths hold it, by the
// primitive's change times its count along the path (docs/calibration.md).
#include <fwdsim/machine/microbench.h>
#include <fwdsim/sim/cost_profile.h>

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace fwdsim;
using guest::Microbench;

namespace {

constexpr unsigned kIterations = 8;

std::map<Microbench, double> run_all(const sim::CostProfile& profile)
{
    std::map<Microbench, double> out;
    for (const auto& i : guest::microbenchmarks()) {
        const auto r = machine::run_microbench(i.kind, profile, kIterations);
        REQUIRE(r.samples.size() == kIterations);
        out[i.kind] = r.mean();
    }
    return out;
}

/// Perturbs `key` by `delta` and checks every benchmark moved by
/// delta x its count in `counts` (absent: 0).
void check_perturbation(const std::string& key, std::uint64_t delta, const std::map<Microbench, int>& counts)
{
    const sim::CostProfile& base = sim::CostProfile::builtin_default();
    sim::CostProfile perturbed = base;
    const auto& e = base.entries().at(key);
    perturbed.set(key, e.cycles + sim::Cycles{delta}, e.description, "perturbed by the calibration test");
    const auto before = run_all(base);
    const auto after = run_all(perturbed);
    for (const auto& [kind, mean] : before) {
        const auto it = counts.find(kind);
        const double expected = static_cast<double>(delta) * (it == counts.end() ? 0 : it->second);
        INFO(key << " +" << delta << ": " << guest::info(kind).key << " moved " << after.at(kind) - mean << ", expected " << expected);
        CHECK(after.at(kind) - mean == Approx(expected).margin(0.5));
    }
}

} // namespace

TEST_CASE("every microbenchmark is within 10% of the paper's KVM ARM figure")
{
    const sim::CostProfile& profile = sim::CostProfile::builtin_default();
    for (const auto& i : guest::microbenchmarks()) {
        if (i.paper_kvm_arm == 0) continue; // a prediction, no paper row
        const auto r = machine::run_microbench(i.kind, profile, kIterations);
        const double paper = static_cast<double>(i.paper_kvm_arm);
        INFO(i.title << ": fwdsim " << r.mean() << " vs paper " << paper);
        REQUIRE(r.samples.size() == kIterations);
        CHECK(r.mean() >= 0.9 * paper);
        CHECK(r.mean() <= 1.1 * paper);
        // The same path every iteration: a deterministic simulation.
        CHECK(r.min() == r.max());
    }
}

TEST_CASE("virtual IRQ completion takes no exit; the I/O benchmarks exercise their paths")
{
    const sim::CostProfile& profile = sim::CostProfile::builtin_default();
    const auto completion = machine::run_microbench(Microbench::virq_completion, profile, kIterations);
    CHECK(completion.exits_in_window == 0);
    CHECK(completion.mean() == Approx(2.0 * static_cast<double>(profile.get("gic.gicv_access").count())));
    // A host-to-guest interrupt costs more than the guest-to-host notification.
    const auto in = machine::run_microbench(Microbench::io_in, profile, kIterations);
    const auto out = machine::run_microbench(Microbench::io_out, profile, kIterations);
    CHECK(in.mean() > out.mean());
}

TEST_CASE("perturbing the world-switch exit moves each benchmark by its number of exits on the path")
{
    // hypercall, GICD trap, MMIO notify: one exit each; virtual IPI: the
    // sender's and the kicked receiver's; a running vCPU kicked by an irqfd:
    // one; VM switch: the outgoing VM's; an idle vCPU woken from WFI and the
    // GICV completion: none.
    // Each exit is handled (kvm.handle_exit) before anything it causes --
    // the IPI sender's too -- so the decode sits wherever the exit does.
    for (const char* key : {"kvm.world_switch_exit", "kvm.handle_exit"})
        check_perturbation(key, 1000,
                           {{Microbench::hypercall, 1},
                            {Microbench::gicd_trap, 1},
                            {Microbench::virtual_ipi, 2},
                            {Microbench::vm_switch, 1},
                            {Microbench::io_out, 1},
                            {Microbench::io_in_running, 1}});
}

TEST_CASE("perturbing other primitives moves only the paths that hold them")
{
    // One GICV access for the handler's IAR; two for IAR + EOIR.
    check_perturbation("gic.gicv_access", 10,
                       {{Microbench::virq_completion, 2},
                        {Microbench::virtual_ipi, 1},
                        {Microbench::io_in, 1},
                        {Microbench::io_in_running, 1}});
    // The hypercall handler is on the hypercall's path only.
    check_perturbation("kvm.hypercall", 500, {{Microbench::hypercall, 1}});
    // A blocked vCPU's wake-up, step by step, is only on the idle I/O-in
    // path: try_to_wake_up on the signalling CPU, the reschedule IPI's
    // handler, the idle CPU leaving idle and switching into the thread.
    for (const char* step : {"host.ttwu_remote", "host.sched_ipi", "host.idle_exit", "host.idle_to_task"})
        check_perturbation(step, 700, {{Microbench::io_in, 1}});
    // Entry into the guest: every round trip and every delivery, never the
    // completion or the one-way notification out.
    check_perturbation("kvm.world_switch_enter", 300,
                       {{Microbench::hypercall, 1},
                        {Microbench::gicd_trap, 1},
                        {Microbench::virtual_ipi, 1},
                        {Microbench::vm_switch, 1},
                        {Microbench::io_in, 1},
                        {Microbench::io_in_running, 1}});
}

TEST_CASE("charge, then act: the work before an effect is on the paths that wait for the effect")
{
    // The sender's trapped GICD_SGIR write kicks the receiver only once its
    // exit is decoded and emulated; the ioeventfd's signal and the irqfd's
    // eventfd signal wake their readers only after eventfd_signal's work.
    check_perturbation("arch.vgic_mmio_emulate", 1000, {{Microbench::gicd_trap, 1}, {Microbench::virtual_ipi, 1}});
    check_perturbation("kvm.mmio_abort", 1000,
                       {{Microbench::gicd_trap, 1}, {Microbench::virtual_ipi, 1}, {Microbench::io_out, 1}});
    check_perturbation("host.eventfd_signal", 1000,
                       {{Microbench::io_out, 1}, {Microbench::io_in, 1}, {Microbench::io_in_running, 1}});
}

TEST_CASE("the scheduler's primitives are on the VM switch's path only")
{
    // One switch between vCPU threads: the outgoing vCPU put, the host's
    // context switch, the incoming vCPU loaded.  No other benchmark has two
    // vCPUs on one physical CPU.
    check_perturbation("host.context_switch", 1000, {{Microbench::vm_switch, 1}});
    check_perturbation("kvm.vcpu_put", 400, {{Microbench::vm_switch, 1}});
    // ... and the woken vCPU thread's load after its wake-up from idle.
    check_perturbation("kvm.vcpu_load", 400, {{Microbench::vm_switch, 1}, {Microbench::io_in, 1}});
    // The slice decides when a switch happens, not what it costs.
    check_perturbation("host.sched_slice", 250'000, {});
}

TEST_CASE("VM switch alternates the two VMs, one switch per time slice")
{
    const sim::CostProfile& profile = sim::CostProfile::builtin_default();
    const auto r = machine::run_microbench(Microbench::vm_switch, profile, kIterations);
    REQUIRE(r.samples.size() == kIterations);
    // A sample is never shorter than the switch's own host work.
    const auto at_least = profile.get("host.context_switch") + profile.get("kvm.vcpu_put") + profile.get("kvm.vcpu_load") +
                          profile.get("kvm.world_switch_exit") + profile.get("kvm.world_switch_enter");
    CHECK(r.min() > at_least.count());
    // Each switch follows a full slice of the other VM (two warm-up samples
    // and the first VM's boot slice come first); the run stops within a
    // 100,000-cycle step of the last sample.
    const std::uint64_t slice = profile.get("host.sched_slice").count();
    CHECK(r.context_switches >= kIterations + 2);
    CHECK(r.elapsed >= r.context_switches * slice);
    CHECK(r.elapsed <= (r.context_switches + 1) * (slice + 100'000));
}
