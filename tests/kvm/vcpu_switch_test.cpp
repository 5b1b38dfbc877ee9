// A vCPU's world switch (kvm/vcpu.cpp) against arch/arm64/kvm/arm.c's
// kvm_arch_vcpu_ioctl_run: the host masks IRQs before the vgic flush and
// keeps them masked through the hyp call that enters the guest, so an
// interrupt that arrives during the entry is taken only once the guest is
// entered -- the entry's whole cost elapses, then an IRQ exit at once.  A
// halt (a request) abandons the entry instead.  Either way the switch
// cycles a vCPU counts are the simulated time it spent switching.
#include "kvm_world.h"

#include <fwdsim/kvm/vm.h>

#include <array>
#include <functional>
#include <string>

namespace Catch {
template <>
struct StringMaker<fwdsim::sim::Cycles> {
    static std::string convert(fwdsim::sim::Cycles c) { return std::to_string(c.count()) + " cy"; }
};
} // namespace Catch

using namespace fwdsim;
using fwdsim::test::KvmWorld;
using fwdsim::sim::Cycles;
using State = kvm::Vcpu::State;

namespace {

constexpr std::uint32_t kGenericV8 = 5;

/// One VM with one vCPU (on physical CPU 1) that has been told KVM_RUN and
/// runs no guest code: it stays in the guest until something makes it leave.
struct OneVcpu {
    OneVcpu()
    {
        std::vector<int> fds;
        int vgic = -1;
        (void)w.vm_with_vgic(1, fds, vgic);
        REQUIRE(w.kvm().vcpu_init(w.vmm, fds[0], kGenericV8, std::array<std::uint32_t, 7>{}) == 0);
        vcpu = &host::file_cast<kvm::VcpuFile>(w.vmm.peek(fds[0]))->vcpu();
        REQUIRE(w.kvm().run(w.vmm, fds[0]) == 0);
    }
    /// Runs events one at a time until `done`; returns the time it became true.
    Cycles step_until(const std::function<bool()>& done)
    {
        while (!done()) REQUIRE(w.events.step());
        return w.events.now();
    }
    Cycles until(State s)
    {
        return step_until([&] { return vcpu->state() == s; });
    }

    KvmWorld w;
    kvm::Vcpu* vcpu = nullptr;
};

struct Entry {
    Cycles start, length;
};

/// Where the first entry starts and how long it takes, undisturbed.
Entry first_entry()
{
    OneVcpu v;
    const Cycles start = v.until(State::entering);
    const Cycles end = v.until(State::guest);
    CHECK(v.vcpu->switch_cycles() == end - start);
    return {start, end - start};
}

} // namespace

TEST_CASE("an interrupt during the entry is taken once the guest is entered: the whole entry, then an irq exit")
{
    const Entry e = first_entry();
    REQUIRE(e.length > Cycles{1000});
    OneVcpu v;
    REQUIRE(v.until(State::entering) == e.start);
    v.w.events.run_until(e.start + Cycles{e.length.count() / 2});
    REQUIRE(v.vcpu->state() == State::entering);
    host::Cpu& pcpu = v.vcpu->pcpu();
    const std::uint64_t taken = pcpu.irqs_taken();
    // kvm_vcpu_kick: the IPI reaches the CPU while its IRQs are masked.
    v.vcpu->kick();
    const Cycles arrived = v.step_until([&] { return pcpu.irq_line(); });
    CHECK(arrived < e.start + e.length);
    const Cycles exit_start = v.step_until([&] { return v.vcpu->state() != State::entering; });
    CHECK(v.vcpu->state() == State::exiting);
    CHECK(exit_start == e.start + e.length); // not cut short
    CHECK(v.vcpu->entries() == 1);           // the guest was entered ...
    CHECK(v.vcpu->guest_cycles() == Cycles{}); // ... and ran nothing
    CHECK(v.vcpu->guest_entered_at() == exit_start);
    CHECK(pcpu.irqs_taken() == taken); // the host has not taken it yet
    const Cycles back = v.until(State::host);
    CHECK(v.vcpu->exits(kvm::ExitReason::irq) == 1);
    CHECK(v.vcpu->total_exits() == 1);
    // Host cycles counted for the switches = the time spent in them.
    CHECK(v.vcpu->switch_cycles() == back - e.start);
    v.step_until([&] { return pcpu.irqs_taken() > taken; });
    // and the vCPU goes round its run loop into the guest again
    v.until(State::guest);
    CHECK(v.vcpu->entries() == 2);
}

TEST_CASE("an interrupt at the entry's first instant also lets the entry complete first")
{
    const Entry e = first_entry();
    OneVcpu v;
    REQUIRE(v.until(State::entering) == e.start);
    v.vcpu->kick();
    const Cycles exit_start = v.step_until([&] { return v.vcpu->state() != State::entering; });
    CHECK(exit_start == e.start + e.length);
    CHECK(v.vcpu->state() == State::exiting);
    const Cycles back = v.until(State::host);
    CHECK(v.vcpu->switch_cycles() == back - e.start);
}

TEST_CASE("host work queued during the entry (the scheduler's reschedule) makes the guest exit once the entry is complete")
{
    const Entry e = first_entry();
    OneVcpu v;
    REQUIRE(v.until(State::entering) == e.start);
    v.w.events.run_until(e.start + Cycles{e.length.count() / 4});
    bool ran = false;
    host::Work bottom_half("bottom half", [&] { ran = true; }); // no thread: it preempts the guest
    REQUIRE(v.vcpu->pcpu().submit(bottom_half, Cycles{100}));
    const Cycles exit_start = v.step_until([&] { return v.vcpu->state() != State::entering; });
    CHECK(exit_start == e.start + e.length);
    CHECK(v.vcpu->state() == State::exiting);
    CHECK(v.vcpu->entries() == 1);
    CHECK_FALSE(ran);
    const Cycles back = v.until(State::host);
    CHECK(v.vcpu->switch_cycles() == back - e.start);
    v.step_until([&] { return ran; });
}

TEST_CASE("a halt during the entry abandons it: only the part that ran is counted")
{
    const Entry e = first_entry();
    OneVcpu v;
    REQUIRE(v.until(State::entering) == e.start);
    const Cycles at = e.start + Cycles{e.length.count() / 3};
    v.w.events.run_until(at);
    // kvm_arm_halt_guest: the request check before the guest entry.
    v.vcpu->halt();
    CHECK(v.vcpu->state() == State::exiting);
    CHECK(v.vcpu->entries() == 0);
    const Cycles back = v.until(State::host);
    CHECK(v.vcpu->switch_cycles() == back - e.start);
    v.until(State::guest); // round the run loop, then in
    CHECK(v.vcpu->entries() == 1);
}
