// Vm: one virtual machine (struct kvm): its arch state (the vgic, through
// arch::VmArch), vCPUs, kvm devices, GSI routing, irqfds and their
// resamplers, KVM_IRQ_LINE, and IRQ forwarding by GSI.
//
// GSI routing starts as KVM/arm's default (GSI n is irqchip pin n, that is
// INTID n + 32) and can be replaced (KVM_SET_GSI_ROUTING) by irqchip entries
// and MSI entries (on a GICv2 an MSI is a write that GICv2m turns into an
// SPI: its data is the INTID).  An irqfd's injection is a work item on the
// CPU that signalled (kvm.irqfd_inject).  Every injection takes effect once
// the work charged before it has elapsed (host::Cpu::after_charged):
// KVM_IRQ_LINE after kvm.irq_line, a forwarded IRQ after kvm.vgic_inject,
// a kick after whatever its caller charged.
//
// Emulated MMIO outside the vgic: an ioeventfd (in the kernel), or a
// device region the VMM maps into the guest (KVM_SET_USER_MEMORY_REGION on
// its mmap) -- a guest access to a mapped region costs no exit; to one
// the VMM has unmapped it exits to user space (KVM_EXIT_MMIO), where the
// VMM's handler (set_user_mmio_handler) runs on the vCPU's thread.
//
// A Vm is reference counted: its VM file, each vCPU file and each device
// file hold one reference (kvm_get_kvm); the last put destroys it -- every
// device first (kvm-vfio unforwards everything there), then irqfds, vCPUs
// and the arch state -- so the order files are closed in does not matter.
#pragma once

#include <fwdsim/arch/vgic.h> // what users of a VM read through arch().vgic()
#include <fwdsim/arch/vm_arch.h>
#include <fwdsim/host/eventfd.h>
#include <fwdsim/host/host_costs.h>
#include <fwdsim/host/irq_layer.h>
#include <fwdsim/host/process.h>
#include <fwdsim/kvm/device.h>
#include <fwdsim/kvm/kvm_costs.h>
#include <fwdsim/kvm/vcpu.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/trace.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace fwdsim::kvm {

// include/uapi/linux/kvm.h
constexpr std::uint32_t kIrqfdFlagDeassign = 1u << 0;
constexpr std::uint32_t kIrqfdFlagResample = 1u << 1;
constexpr unsigned kArmIrqTypeShift = 24;
constexpr unsigned kArmIrqVcpuShift = 16;
constexpr std::uint32_t kArmIrqTypeCpu = 0;
constexpr std::uint32_t kArmIrqTypeSpi = 1;
constexpr std::uint32_t kArmIrqTypePpi = 2;
/// SPI pin `pin`'s INTID: the SGIs and PPIs take the first 32.  The default
/// GSI routing, KVM_IRQ_LINE's SPI type and a VMM's view of its SPIs all
/// count this way (Vm::gsi_to_intid also follows a custom routing).
constexpr std::uint32_t spi_intid(std::uint32_t pin) { return pin + 32; }
/// KVM_IRQ_LINE's irq field for SPI pin `pin`.
constexpr std::uint32_t irq_line_spi(std::uint32_t pin) { return (kArmIrqTypeSpi << kArmIrqTypeShift) | spi_intid(pin); }
constexpr std::uint32_t kIrqRoutingIrqchip = 1;
constexpr std::uint32_t kIrqRoutingMsi = 2;
/// KVM_MAX_VCPUS for a vgic-v2 VM.
constexpr unsigned kMaxVcpus = 8;
/// VGIC_ADDR_UNDEF: a vgic base not set yet.
constexpr std::uint64_t kVgicAddrUndef = ~std::uint64_t{0};
/// The vgic-v2 regions (KVM_VGIC_V2_DIST_SIZE, KVM_VGIC_V2_CPU_SIZE).
constexpr std::uint64_t kVgicV2DistSize = 0x1000, kVgicV2CpuSize = 0x2000;
/// The IPA size of a VM created with type 0 (KVM_VM_TYPE_ARM_IPA_SIZE
/// unset): 40 bits.
constexpr unsigned kDefaultIpaBits = 40;

/// What KVM needs from the host it runs on.
struct KvmEnv {
    sim::EventQueue& events;
    gic::Gic& gic;
    host::IrqLayer& irqs;
    host::ThisCpu& this_cpu;
    KvmCosts costs;
    arch::VgicCosts vgic_costs;
    sim::Tracer* tracer = nullptr;
    /// Per physical CPU, the vCPU loaded on it (in or around guest mode);
    /// kept by kvm::Kvm, which routes each CPU's nVIRQ to it.
    std::vector<Vcpu*>* loaded = nullptr;
    /// The host's CPUs (kept by kvm::Kvm): a VM going away cancels the
    /// effects it left pending on them (host::Cpu::cancel_acts).
    const std::vector<host::Cpu*>* cpus = nullptr;
    /// The host's costs KVM's paths pass through (a return to user space,
    /// a syscall, the switch into a woken thread).
    host::HostCosts host_costs{};
};

/// One entry of KVM_SET_GSI_ROUTING (struct kvm_irq_routing_entry).
struct RoutingEntry {
    std::uint32_t gsi = 0;
    std::uint32_t type = kIrqRoutingIrqchip;
    std::uint32_t pin = 0;           ///< irqchip: SPI pin (INTID pin + 32)
    std::uint64_t msi_address = 0;   ///< msi
    std::uint32_t msi_data = 0;      ///< msi: the SPI's INTID (GICv2m)
};

class Vm {
public:
    Vm(const KvmEnv& env, arch::ArchKind arch);
    ~Vm();
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    const KvmEnv& env() const { return env_; }
    arch::VmArch& arch() { return *arch_; }
    const arch::VmArch& arch() const { return *arch_; }

    // --- life (kvm_get_kvm / kvm_put_kvm) ------------------------------------
    void get() { ++refcount_; }
    void put();
    unsigned refcount() const { return refcount_; }
    /// Called once, on the last put, before the VM is torn down; the owner
    /// (kvm::Kvm) frees it afterwards.
    void set_release(std::function<void(Vm&)> release) { release_ = std::move(release); }

    // --- life of the VM as a whole ----------------------------------------------
    /// kvm_vm_dead (Linux 6.12+: a failed kvm_vgic_map_resources at a first
    /// KVM_RUN): every later VM, vCPU and device ioctl answers -EIO.
    void mark_dead() { dead_ = true; }
    bool dead() const { return dead_; }
    unsigned ipa_bits() const { return kDefaultIpaBits; }

    // --- vCPUs -----------------------------------------------------------------
    /// KVM_CREATE_VCPU on physical CPU `pcpu`: -EINVAL for an id >= 8,
    /// -EBUSY once the vgic is initialised (kvm_arch_vcpu_precreate),
    /// then -EEXIST for an id in use.
    int create_vcpu(unsigned id, host::Cpu& pcpu, Vcpu*& out);
    /// Whether a vCPU got past a first KVM_RUN (vcpu_has_run_once).
    bool any_vcpu_has_run() const;
    /// Whether a vCPU is in KVM_RUN now (its thread holds its mutex:
    /// kvm_trylock_all_vcpus fails).  A vCPU here stays in KVM_RUN until
    /// its file is closed.
    bool any_vcpu_in_run() const;
    /// KVM_ARM_VCPU_INIT (arm.c kvm_arch_vcpu_ioctl_vcpu_init ->
    /// kvm_vcpu_set_target): -EINVAL for a target other than GENERIC_V8,
    /// -ENOENT for unknown feature bits or any in features[1..6], -EINVAL
    /// for one the modelled host lacks or a feature set other than the
    /// VM's first.
    int vcpu_init(Vcpu& vcpu, std::uint32_t target, std::span<const std::uint32_t, 7> features);
    /// KVM_RUN's first-run work (kvm_arch_vcpu_run_pid_change): -ENOEXEC
    /// before KVM_ARM_VCPU_INIT; then, with a vgic, kvm_vgic_map_resources
    /// -- -ENXIO for a base not set, -EINVAL for DIST and CPU regions that
    /// overlap, vgic_init's errno -- after which the VM is dead.
    int first_run(Vcpu& vcpu);

    // --- the vgic-v2's guest-physical frames (vgic-kvm-device.c kvm_vgic_addr) -------
    /// vgic_check_iorange in Linux's order: -EEXIST when set, -EINVAL for
    /// an unaligned base or a wrap, -E2BIG beyond the IPA size.
    /// `type` is kVgicV2AddrTypeDist (0) or ...Cpu (1).
    int set_vgic_base(unsigned type, std::uint64_t addr);
    std::uint64_t vgic_base(unsigned type) const { return vgic_base_[type & 1]; }
    /// vgic_ready: the first KVM_RUN mapped its resources.
    bool vgic_ready() const { return vgic_ready_; }
    Vcpu* vcpu(unsigned id) const;
    std::vector<Vcpu*> vcpus() const;
    unsigned vcpu_count() const;

    // --- devices (KVM_CREATE_DEVICE) ----------------------------------------------
    /// Adds a device made by its type's factory; the VM owns it.
    KvmDevice& add_device(std::unique_ptr<KvmDevice> dev);
    /// Unlinks and destroys a device whose fd could not be installed.
    void remove_device(KvmDevice& dev);
    std::vector<KvmDevice*> devices() const;

    // --- interrupts ------------------------------------------------------------------
    /// KVM_IRQ_LINE with the ARM encoding of `irq` (type, vcpu index, number).
    int irq_line(std::uint32_t irq, std::uint32_t level);
    /// KVM_IRQFD (virt/kvm/eventfd.c, Linux 6.18): -EINVAL for an unknown
    /// flag; deassign: -EBADF/-EINVAL for `fd`, else 0 whether or not an
    /// irqfd matched; assign: -EAGAIN before the vgic is initialised, then
    /// -EBADF/-EINVAL for `fd` and (RESAMPLE) `resamplefd`, -EBUSY when an
    /// irqfd of any VM waits on that eventfd.  Any GSI is accepted.
    int irqfd(host::Process& proc, int fd, std::uint32_t gsi, std::uint32_t flags, int resamplefd);
    /// KVM_SET_GSI_ROUTING: replaces the table; -EINVAL for a bad entry
    /// (unknown type, a pin or MSI data outside the SPIs, a GSI given twice).
    int set_gsi_routing(std::span<const RoutingEntry> entries);
    /// kvm_set_irq: raise or lower what `gsi` routes to.  -EINVAL when it
    /// routes nowhere.
    int set_irq(std::uint32_t gsi, bool level);
    /// The INTID an irqchip-routed `gsi` reaches, or -EINVAL.
    int gsi_to_intid(std::uint32_t gsi) const;

    // --- forwarding through the arch, by GSI (the arch sees host_irq, INTID) --------
    bool can_forward() const { return arch_->can_forward(); }
    /// -ENXIO when the arch cannot forward; -EINVAL when `gsi` is not an
    /// irqchip pin; else the arch's errno.  Initialises the vgic if needed.
    int forward_irq(unsigned host_irq, std::uint32_t gsi);
    /// Cannot fail.
    void unforward_irq(unsigned host_irq, std::uint32_t gsi);
    /// A forwarded host IRQ fired (hard-IRQ context).
    int inject_forwarded(unsigned host_irq);

    /// The arch timer of vCPU `vcpu_id` as a mapped interrupt (what
    /// arch_timer.c does for the virtual timer): the host PPI `host_ppi` is
    /// requested with a handler that injects `guest_ppi` into the vCPU
    /// loaded on the CPU that took it, enabled on the vCPU's CPU, given a
    /// vCPU affinity (the guest's EOI deactivates it) and mapped in the
    /// vgic.  -ENXIO when the arch cannot map interrupts, -EINVAL for bad
    /// PPIs or vCPU, else the IRQ layer's or vgic's errno.
    int map_arch_timer(unsigned vcpu_id, unsigned host_ppi, unsigned guest_ppi);

    /// KVM_IOEVENTFD (MMIO, any length, no datamatch): a guest write to
    /// `addr` signals the eventfd `fd`.  -EBADF/-EINVAL as eventfd_ctx_fdget,
    /// -EEXIST for an address already bound.
    int ioeventfd(host::Process& proc, int fd, std::uint64_t addr);
    /// A trapped guest write to `addr` (kvm_io_bus_write): signals the
    /// ioeventfd bound there; false when none is (KVM would exit to user space).
    bool ioeventfd_write(std::uint64_t addr);

    /// KVM_SET_USER_MEMORY_REGION for a device region at `addr`: mapped
    /// (a memslot: guest accesses do not exit) or not (they exit to user
    /// space).  Charges kvm.memslot_update when the state changes.
    void set_user_region(std::uint64_t addr, bool mapped);
    /// A guest access to `addr` exits to user space: a region is there and
    /// is not mapped.
    bool user_mmio_exits(std::uint64_t addr) const;
    /// What the VMM's vCPU thread does on KVM_EXIT_MMIO: runs on the vCPU's
    /// CPU after the exit's handling and the return to user space; `access`
    /// performs the guest's access on the device.  It charges what it
    /// costs; the vCPU re-enters when it returns (KVM_RUN).
    using UserMmioHandler = std::function<void(Vcpu&, std::uint64_t addr, const std::function<void()>& access)>;
    void set_user_mmio_handler(UserMmioHandler h) { user_mmio_ = std::move(h); }
    /// Runs the handler for a vCPU's user-space exit (no handler: the
    /// access is performed as it is).
    void handle_user_mmio(Vcpu& vcpu, std::uint64_t addr, const std::function<void()>& access);

    /// Forwarded IRQs whose injection failed (the host deactivated them).
    std::uint64_t failed_forwarded_injections() const { return failed_forwarded_; }

    /// Whether an effect this VM's code charged is still to come on a host
    /// CPU (a KVM_IRQ_LINE or forwarded injection after its cost).
    bool acts_pending() const;

    /// Live (assigned, not shut down) irqfds.
    std::size_t irqfd_count() const { return irqfds_.size(); }
    /// Whether an irqfd's injection into guest INTID `intid` is queued
    /// (signalled, not yet injected): where an interrupt waits between its
    /// eventfd and the vgic (measurement: the system's ledger).
    bool irqfd_injection_queued(unsigned intid) const;
    std::size_t resampler_count() const { return resamplers_.size(); }

    /// vgic_lazy_init: initialises the vgic for the vCPUs created so far.
    /// -ENXIO without an irqchip, -EBUSY without a vCPU.
    int ensure_vgic();

    // --- observation (traces; none of it changes what happens) ---------------------
    /// The group of this VM's tracks in a trace ("vm0": its vCPUs are
    /// "vm0/vcpu0", ...); "vm" until set.
    void set_trace_name(std::string name);
    const std::string& trace_name() const { return trace_name_; }
    /// Called with (vCPU, INTID) when an injection makes an interrupt
    /// pending in the vgic (a rising line, an edge, a mapped interrupt),
    /// at the time it takes effect.
    void set_inject_observer(std::function<void(unsigned vcpu, unsigned intid)> f) { inject_observer_ = std::move(f); }

private:
    void injected(unsigned vcpu, unsigned intid)
    {
        if (inject_observer_) inject_observer_(vcpu, intid);
    }
    struct Irqfd;
    struct Resampler;
    void on_ack(unsigned intid);
    void kick(unsigned vcpu);
    /// Runs `fn` once what the executing code charged has elapsed.
    template <class F>
    void act(F fn);
    void shutdown(Irqfd& irqfd);
    void destroy();
    const RoutingEntry* route(std::uint32_t gsi) const;

    KvmEnv env_;
    std::unique_ptr<arch::VmArch> arch_;
    unsigned refcount_ = 1;
    bool dead_ = false;
    bool vgic_ready_ = false;
    std::uint64_t vgic_base_[2] = {kVgicAddrUndef, kVgicAddrUndef};
    bool vcpu_features_configured_ = false; ///< KVM_ARCH_FLAG_VCPU_FEATURES_CONFIGURED
    std::uint32_t vcpu_features_ = 0;
    std::function<void(Vm&)> release_;
    std::vector<std::unique_ptr<Vcpu>> vcpus_; // by id; null where none
    std::list<std::unique_ptr<KvmDevice>> devices_;
    bool custom_routing_ = false;
    std::map<std::uint32_t, RoutingEntry> routing_; // when custom_routing_
    std::list<std::unique_ptr<Irqfd>> irqfds_;
    std::list<std::unique_ptr<Irqfd>> retired_; ///< shut down, destroyed at the next safe point
    std::map<std::uint32_t, std::unique_ptr<Resampler>> resamplers_; // by GSI
    std::map<std::uint64_t, host::EventfdCtxRef> ioeventfds_;        // by MMIO address
    struct TimerMap {
        unsigned vcpu, host_ppi, guest_ppi;
    };
    std::vector<TimerMap> timers_;
    struct UserRegion {
        bool mapped;    ///< the slot is there: guest accesses do not exit
        bool requested; ///< what the last KVM_SET_USER_MEMORY_REGION asked for (it may not have taken effect)
    };
    std::map<std::uint64_t, UserRegion> user_regions_; ///< device regions by address
    UserMmioHandler user_mmio_;
    std::uint64_t failed_forwarded_ = 0;
    std::string trace_name_ = "vm";
    std::function<void(unsigned, unsigned)> inject_observer_;
};

} // namespace fwdsim::kvm
