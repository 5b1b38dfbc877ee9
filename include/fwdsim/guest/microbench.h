// Microbenchmarks as simulations: the seven hypervisor microbenchmarks of
// Dall et al., "ARM Virtualization: Performance and Architectural
// Implications" (ISCA 2016), built the way the paper describes each one and
// timed by the guest (or the host thread) from simulated timestamps.
//
// MicrobenchGuest is the guest-side driver: a kvm::GuestCode that performs
// one operation in a loop -- an HVC, a trapped GICD read, a GICD_SGIR write,
// an IAR/EOIR pair on the virtual CPU interface, an MMIO write that hits an
// ioeventfd, a read of the counter -- or receives interrupts (busy or idle
// in WFI) and timestamps its handler.  The machine each benchmark runs on
// is built by machine::run_microbench (include/fwdsim/machine/microbench.h).
// No figure here is a constant: every sample is the difference of two
// simulated times, so it moves exactly as the profile's primitives on the
// path move.
#pragma once

#include <fwdsim/guest/guest.h>
#include <fwdsim/kvm/guest_code.h>
#include <fwdsim/kvm/vcpu.h>
#include <fwdsim/sim/cost_profile.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace fwdsim::guest {

enum class Microbench {
    hypercall,        ///< HVC round trip
    gicd_trap,        ///< a trapped GICD read, emulated by the vgic
    virtual_ipi,      ///< vCPU 0 writes GICD_SGIR until vCPU 1 (running) is in its handler
    virq_completion,  ///< IAR + EOIR on GICV, no trap
    vm_switch,        ///< two VMs on one physical CPU: last guest instruction of one to the first of the other
    io_out,           ///< guest MMIO write -> ioeventfd -> host thread runs
    io_in,            ///< host thread signals an irqfd -> idle vCPU woken -> guest handler
    io_in_running,    ///< the same with the vCPU running (a model prediction, no paper row)
};

struct MicrobenchInfo {
    Microbench kind;
    const char* key;          ///< short name ("hypercall")
    const char* title;        ///< the paper's row name
    std::uint64_t paper_kvm_arm; ///< Dall ISCA'16 KVM ARM column, cycles; 0 when none
    bool paper_verified;      ///< true only for the hypercall (authors' blog)
};

/// Every benchmark, in the paper's order (io_in_running last).
std::span<const MicrobenchInfo> microbenchmarks();
const MicrobenchInfo& info(Microbench kind);

/// The guest-side driver.  One per vCPU; `Shared` links the sender and the
/// receiver of a cross-vCPU or host-to-guest benchmark.
class MicrobenchGuest final : public kvm::GuestCode {
public:
    enum class Role {
        hypercall,     ///< loop: HVC
        gicd_read,     ///< loop: trapped GICD_TYPER read
        ipi_sender,    ///< loop: GICD_SGIR write to vCPU 1
        self_sgi,      ///< loop: SGI to itself, then time IAR + EOIR of it
        mmio_notify,   ///< loop: MMIO write to an ioeventfd address
        irq_busy,      ///< runs guest code; timestamps its handler
        irq_idle,      ///< idles in WFI; timestamps its handler
        counter_loop,  ///< reads the counter in a loop; times the switch from its peer VM (watch_peer)
    };
    // Pacing, shared with the machine that drives the benchmark.  Long
    // enough that one iteration's aftermath (the receiver's handler, a
    // blocked vCPU settling in WFI) is over before the next starts.
    static constexpr sim::Cycles kSettle{200'000};
    static constexpr sim::Cycles kGap{2'000};
    static constexpr sim::Cycles kLongGap{60'000};
    static constexpr sim::Cycles kChunk{1'000'000};
    static constexpr unsigned kSgi = 1; ///< the SGI the benchmarks send (0 is KVM's kick)

    struct Shared {
        sim::Cycles t0{};                         ///< when the timed operation started
        std::vector<std::uint64_t>* samples = nullptr;
        std::function<void()> after_sample;       ///< e.g. schedule the next host signal
        unsigned warmup = 2;                      ///< samples to drop first
        unsigned wanted = 0;
        void record(sim::Cycles sample);
        bool done() const { return samples->size() >= wanted; }
    };
    /// Boot-time GICD writes the guest traps through before it starts.
    struct BootWrite {
        std::uint32_t offset, value;
    };

    MicrobenchGuest(kvm::Vcpu& vcpu, const GuestCosts& costs, Role role, Shared& shared,
                    std::vector<BootWrite> boot, std::uint64_t mmio_addr = 0);
    ~MicrobenchGuest();
    MicrobenchGuest(const MicrobenchGuest&) = delete;
    MicrobenchGuest& operator=(const MicrobenchGuest&) = delete;

    /// The other VM's vCPU on the same physical CPU (vm_switch).
    void watch_peer(const kvm::Vcpu& peer) { peer_ = &peer; }

    std::uint64_t exits_in_window() const { return exits_in_window_; }
    std::uint64_t irqs_handled() const { return handled_; }

    // --- kvm::GuestCode ----------------------------------------------------------
    void trap_done(kvm::Vcpu& vcpu) override;
    void segment_done(kvm::Vcpu& vcpu) override;
    void virq(kvm::Vcpu& vcpu) override;
    void vcpu_destroyed(kvm::Vcpu& vcpu) override;

private:
    enum class Phase { boot, boot_cpuif, gap, trap, wait, busy, idle, wfi, irq_entry, irq_ack, irq_eoi, irq_exit, cmp_ack, cmp_eoi, stopped };
    void boot_step();
    void start();
    void iterate();
    void take_irq();
    void note_gap();
    void run(Phase phase, sim::Cycles cycles);
    sim::Cycles now() const;

    kvm::Vcpu* vcpu_;
    GuestCosts costs_;
    Role role_;
    Shared& shared_;
    std::vector<BootWrite> boot_;
    std::size_t boot_next_ = 0;
    std::uint64_t mmio_addr_;
    Phase phase_ = Phase::boot;
    std::uint32_t iar_ = 0;
    sim::Cycles t0_{};
    std::uint64_t exits_at_t0_ = 0;
    std::uint64_t exits_in_window_ = 0;
    std::uint64_t handled_ = 0;
    const kvm::Vcpu* peer_ = nullptr;
    std::uint64_t entries_seen_ = 0;
};

} // namespace fwdsim::guest
