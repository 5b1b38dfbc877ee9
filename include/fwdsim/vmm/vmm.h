// Vmm: the user-space VMM (QEMU's role) for one VM.  It makes the calls
// QEMU makes, on file descriptors of its own process, and keeps nothing the
// kernel side does not also know -- so killing it (kill()) closes its files
// in whatever order and the kernel must clean up alone.
//
// set_up_vm(): KVM_CREATE_VM, the vgic-v2 device (NR_IRQS, CTRL_INIT after
// the vCPUs), KVM_CREATE_VCPU for each vCPU, the kvm-vfio device.
// add_device(): the container, the group (SET_CONTAINER, SET_IOMMU, the
// kvm-vfio GROUP ADD) and GET_DEVICE_FD.  deliver(): sets one device IRQ up
// for a delivery mode with linux-semantics.md §6's call sequences, tearing
// down the mode it had:
// * userspace: QEMU's path without KVM acceleration (hw/vfio/platform.c
//   vfio_intp_interrupt / vfio_platform_eoi, hw/vfio/pci.c vfio_intx_*).
//   The I/O thread wakes on the trigger eventfd, read()s it, and raises the
//   line with KVM_IRQ_LINE.  For a level IRQ it also takes the device's
//   mmap out of the guest (its memslot goes, KVM_SET_USER_MEMORY_REGION)
//   and arms the mmap timer: the guest's next access to the device exits
//   to user space (KVM_EXIT_MMIO) and the vCPU thread performs it (pread /
//   pwrite on the device fd), which is QEMU's EOI: the line is lowered
//   (KVM_IRQ_LINE 0) and the IRQ unmasked (VFIO_DEVICE_SET_IRQS UNMASK).
//   The timer maps the region back once no IRQ of the device is active
//   (kMmapTimeout after the last interrupt).  No resamplefd, no irqfd.
// * irqfd: KVM_IRQFD on the trigger eventfd; for a level IRQ with a
//   resamplefd that VFIO gets as its unmask eventfd.
// * forwarded: KVM_DEV_VFIO_DEVICE FORWARD_IRQ.  Where the arch cannot
//   forward (KVM_HAS_DEVICE_ATTR says -ENXIO) it falls back to irqfd.
// How a switch to or from forwarded goes depends on the kvm-vfio device's
// forwarding policy (set_forward_policy, docs/irq-forwarding-mode.md):
// exclusive (the default) tears VFIO signalling down before FORWARD_IRQ and
// sets it up again after UNFORWARD_IRQ (each with free_irq / request_irq
// underneath); bimodal keeps the VFIO signalling it had (its trigger
// eventfd, irqfd and resamplefd stay set; irqfd under an IRQ first set up
// forwarded) and switches with FORWARD_IRQ / UNFORWARD_IRQ alone, plus the
// UNMASK QEMU makes after every change of a level IRQ's delivery.
// Every call's cost in the VMM (a syscall, a wake-up) is charged on the
// CPU its thread runs on (the I/O thread's, or the vCPU's for an exit), and
// each call's effect follows its cost (host::Cpu::after_charged).
#pragma once

#include <fwdsim/host/process.h>
#include <fwdsim/host/user_thread.h>
#include <fwdsim/kvm/kvm.h>
#include <fwdsim/sim/event.h>
#include <fwdsim/vfio/vfio.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fwdsim::vmm {

enum class Delivery { none, userspace, irqfd, forwarded };
const char* delivery_name(Delivery d);

/// QEMU's default mmap timeout for INTx / platform IRQs in user space
/// (x-intx-mmap-timeout-ms, mmap-timeout-ms: 1100 ms), in cycles at the
/// 2.4 GHz reference clock.
constexpr sim::Cycles kMmapTimeout{2'640'000'000};
/// Where the VMM maps device regions in guest physical memory, one page
/// apart (a platform bus's layout).
constexpr std::uint64_t kDeviceMmioBase = 0x0a00'0000;
constexpr std::uint64_t kDeviceMmioStride = 0x1'0000;

struct VmmEnv {
    vfio::Vfio& vfio;
    kvm::Kvm& kvm;
    host::Cpu& io_cpu;      ///< where the VMM's I/O thread runs
    host::HostCosts costs;
    host::ThisCpu& this_cpu;
};

/// What a VMM knows of one device IRQ it set up.
struct IrqPlan {
    std::string device;
    unsigned index = 0;
    unsigned subindex = 0;
    std::uint32_t gsi = 0;   ///< guest SPI pin: INTID gsi + 32
    bool level = true;
    /// A vfio-pci MSI or MSI-X vector (subindex = vector).
    bool msi = false;
    /// For an MSI/MSI-X index: how many vectors the VMM enables when it
    /// turns the mode on (NORESIZE: vfio-pci cannot grow them later).
    unsigned vectors = 1;
};

class Vmm {
public:
    Vmm(const VmmEnv& env, std::string name);
    ~Vmm();
    Vmm(const Vmm&) = delete;
    Vmm& operator=(const Vmm&) = delete;

    host::Process& process() { return proc_; }
    bool alive() const { return proc_.alive(); }

    /// 0 or the first failing call's -errno.
    int set_up_vm(unsigned nr_vcpus, unsigned nr_irqs = 256);
    kvm::Vm* vm() const { return vm_; }
    kvm::Vcpu* vcpu(unsigned id) const;
    /// KVM_RUN on every vCPU.
    int run_vcpus();
    /// KVM_SET_DEVICE_ATTR kDevVfioDeviceForwardPolicy on the kvm-vfio
    /// device (after set_up_vm, before any IRQ is forwarded): 0 or its
    /// errno.  Where the arch cannot forward (-ENXIO) the VMM keeps the
    /// exclusive sequences, as its IRQs fall back to irqfd anyway.
    int set_forward_policy(vfio::ForwardingPolicy policy);
    vfio::ForwardingPolicy forward_policy() const { return policy_; }

    int add_device(const std::string& name, unsigned group);
    int device_fd(const std::string& name) const;
    /// The guest physical address of the device's MMIO region (0: none).
    std::uint64_t device_mmio(const std::string& name) const;

    /// Sets `irq` up for `mode` (tearing the previous mode down first, or,
    /// under the bi-modal policy, forwarding or unforwarding over the VFIO
    /// signalling it keeps).  Returns 0 or -errno; on error the IRQ is left
    /// with no delivery (a refused bi-modal FORWARD_IRQ: with the signalling
    /// it had).  Called from code running on a CPU (a switch made by the I/O
    /// thread), the set-up that follows a teardown runs once the teardown's
    /// calls have taken their time, and its errno is not returned.
    int deliver(const IrqPlan& irq, Delivery mode);
    /// The mode an IRQ actually has (forwarded may have fallen back).
    Delivery delivery(const IrqPlan& irq) const;
    bool fell_back(const IrqPlan& irq) const;

    /// SIGKILL: every file closes in an order drawn from `rng`.
    void kill(sim::Rng& rng);

    // --- what the VMM did ---------------------------------------------------------
    std::uint64_t injections() const { return injections_; }
    std::uint64_t unmasks() const { return unmasks_; }
    /// Trips to user space and back on the interrupt path: I/O-thread
    /// wake-ups and vCPU exits to user space (KVM_EXIT_MMIO).
    std::uint64_t user_round_trips() const { return user_round_trips_; }
    std::uint64_t user_exits() const { return user_exits_; }
    /// The same, of one IRQ: its I/O thread's wake-ups, and the vCPU exits
    /// to user space that told its EOI or hit the region its path unmapped.
    /// Kept across delivery changes; an exit no IRQ caused is in neither.
    std::uint64_t user_round_trips(const IrqPlan& irq) const;
    std::uint64_t user_exits(const IrqPlan& irq) const;
    /// Delivery changes made while running (deliver() on an IRQ that had a
    /// mode), by (from, to): how many, and the host cycles their calls
    /// charged on the CPU the VMM made them from (none outside a CPU).
    struct SwitchCost {
        std::uint64_t count = 0;
        std::uint64_t cycles = 0;
    };
    const std::map<std::pair<Delivery, Delivery>, SwitchCost>& switch_costs() const { return switch_costs_; }
    /// Whether work the VMM charged still has an effect to come (an
    /// injection read from an eventfd, its KVM_IRQ_LINE not yet made).
    bool acts_pending() const;

private:
    struct IrqState;
    using Key = std::tuple<std::string, unsigned, unsigned>;
    static Key key(const IrqPlan& p) { return {p.device, p.index, p.subindex}; }
    void tear_down(IrqState& s);
    /// Sets `mode` up on an IRQ that has none (the second half of deliver()).
    int set_up(IrqState& s, Delivery mode);
    /// The bi-modal policy's switch (FORWARD_IRQ / UNFORWARD_IRQ alone);
    /// false when the change is not one it makes that way.
    bool switch_bimodal(IrqState& s, Delivery mode, int& err);
    int set_trigger(const IrqPlan& irq, int efd);
    int set_unmask_fd(const IrqPlan& irq, int efd);
    int forward_attr(const IrqPlan& irq, std::uint64_t which);
    int unmask(const IrqPlan& irq);
    void syscall();
    struct Region;
    /// Runs `fn` once what the running code charged has elapsed.
    void act(std::function<void()> fn);
    void cancel_acts();
    /// KVM_EXIT_MMIO on the device region at `addr` (the vCPU thread).
    void mmio_exit(std::uint64_t addr, const std::function<void()>& access);
    /// vfio_intx_interrupt / vfio_intp_interrupt for a level IRQ.
    void userspace_level_irq(IrqState& s);
    void mmap_timer(Region& r);
    VmmEnv env_;
    host::Process proc_;
    int vm_fd_ = -1;
    int vfio_dev_fd_ = -1;
    int container_fd_ = -1;
    kvm::Vm* vm_ = nullptr;
    std::vector<int> vcpu_fds_;
    std::vector<host::Cpu*> vcpu_cpus_; ///< where the vCPU threads run (their exits' handling)
    std::map<unsigned, int> group_fds_;
    std::map<std::string, int> device_fds_;
    std::map<std::pair<std::string, unsigned>, unsigned> vectors_on_; ///< MSI/MSI-X vectors set per (device, index)
    std::map<Key, std::unique_ptr<IrqState>> irqs_;
    std::map<std::string, std::unique_ptr<Region>> regions_; ///< by device name
    std::uint64_t injections_ = 0;
    std::uint64_t unmasks_ = 0;
    std::uint64_t user_round_trips_ = 0;
    std::uint64_t user_exits_ = 0;
    struct IrqCounts {
        std::uint64_t user_round_trips = 0;
        std::uint64_t user_exits = 0;
    };
    std::map<Key, IrqCounts> irq_counts_;
    std::map<std::pair<Delivery, Delivery>, SwitchCost> switch_costs_;
    vfio::ForwardingPolicy policy_ = vfio::ForwardingPolicy::exclusive;
};

} // namespace fwdsim::vmm
