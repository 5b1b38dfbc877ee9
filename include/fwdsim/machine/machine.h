// Machine: one whole simulated system assembled from a MachineConfig -- the
// host board (physical GIC and CPUs, the host's IRQ layer, KVM with the
// kvm-vfio device), VFIO with the physical devices and their traffic, one
// VMM per VM and a guest per vCPU -- and the operations a run performs on
// it: start, the VMM's delivery switches, kills and restarts, scripted
// device events.
//
// This is the only place a scenario's system is wired.  It measures
// nothing: what the layer above wants to hear about each device interrupt
// (the device asserting it, a host CPU acknowledging and deactivating it,
// KVM injecting it, the guest acknowledging, servicing and completing it)
// reaches it through an IrqObserver, and a VMM's kill through KillHooks.
// Everything runs on the machine's one event queue, so the same
// configuration and seed give the same run, bit for bit.
#pragma once

#include <fwdsim/dev/interrupt_source.h>
#include <fwdsim/dev/irq_line.h>
#include <fwdsim/guest/guest.h>
#include <fwdsim/machine/config.h>
#include <fwdsim/machine/host_board.h>
#include <fwdsim/sim/cost_profile.h>
#include <fwdsim/sim/event_queue.h>
#include <fwdsim/sim/random.h>
#include <fwdsim/sim/trace.h>
#include <fwdsim/vfio/vfio.h>
#include <fwdsim/vmm/vmm.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fwdsim::machine {

/// What the layer above hears about one device interrupt.  Each call comes
/// at the simulated time it names, from inside the model's own step.
class IrqObserver {
public:
    virtual ~IrqObserver() = default;
    /// The device raised its line or sent its edge (its InterruptSource's raise hook).
    virtual void asserted(sim::Cycles now) = 0;
    /// A host CPU read its INTID from GICC_IAR / deactivated it.
    virtual void host_acknowledged(sim::Cycles now) = 0;
    virtual void host_deactivated(sim::Cycles now) = 0;
    /// KVM made it pending in the vgic (only when injections are observed).
    virtual void injected(sim::Cycles now) = 0;
    /// The guest's handler: GICV_IAR returned it; the device is about to be
    /// serviced / has been; the guest wrote its EOI.
    virtual void guest_acknowledged(sim::Cycles now) = 0;
    virtual void before_service(sim::Cycles now) = 0;
    virtual void after_service(sim::Cycles now) = 0;
    virtual void guest_completed(sim::Cycles now) = 0;
};

/// One device interrupt as the machine wired it: the physical line and its
/// traffic, VFIO's context for it, the VMM's plan, and the guest driver's
/// handler for it (this object).
struct DeviceIrq final : guest::IrqHandler {
    std::string name; ///< "<device>.<position in its irqs list>"
    const DeviceIrqConfig* cfg = nullptr;
    std::string vm;
    std::unique_ptr<dev::IrqLine> line;
    std::unique_ptr<dev::InterruptSource> source;
    vfio::IrqContext* context = nullptr;
    vmm::IrqPlan plan;
    ServiceTime service_cfg;
    sim::Rng rng{1};
    bool forwarded_now = false;
    bool timer = false;   ///< the arch timer: KVM maps it, no VMM or VFIO involved
    unsigned ppi_cpu = 0; ///< the timer's PPI: the physical CPU whose bank it is in
    std::uint64_t mmio = 0; ///< where the VMM maps the device's registers in the guest
    /// Its VM's entries in the machine's `vmms` and `vm_guests` (map nodes do
    /// not move), set when the VM boots: the observer asks where the
    /// interrupt is at every assertion, and a lookup by name there was a
    /// tenth of a forwarded interrupt's host time.
    const std::unique_ptr<vmm::Vmm>* vmm_slot = nullptr;
    const std::vector<guest::Guest*>* guests = nullptr;
    IrqObserver* observer = nullptr;

    std::uint64_t mmio_address() const override { return mmio; }
    sim::Cycles service_time() override;
    void acknowledged(sim::Cycles now) override;
    void service(sim::Cycles now) override;
    void completed(sim::Cycles now) override;
};

/// Around a VMM's kill: what the layer above keeps of the dying VM's
/// counters, and what it audits once the VM is gone.
struct KillHooks {
    std::function<void(const std::string& vm)> before;
    std::function<void(const std::string& vm)> after;
};

class Machine {
public:
    /// Builds the machine; throws sim::ConfigError naming the file, line and
    /// key of a configuration it cannot build (validate() first).
    Machine(const MachineConfig& config, const sim::CostProfile& profile, sim::Tracer* tracer = nullptr);
    ~Machine();
    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

    /// Each VMM sets its VM and its device IRQs up, the vCPUs run, the
    /// traffic starts; the configured switches and kill are scheduled.
    void start();
    bool started() const { return started_; }

    /// Observers and hooks, set before start(): an interrupt's observer may
    /// be null.  With `observe_injections`, each VM's injections are reported.
    void set_observer(std::size_t irq, IrqObserver* observer) { irqs_.at(irq)->observer = observer; }
    void set_kill_hooks(KillHooks hooks) { kill_hooks_ = std::move(hooks); }
    void observe_injections(bool on) { observe_injections_ = on; }

    /// SIGKILL to VM `vm`'s VMM now; its files close in the order `rng` draws.
    void kill_vmm(const std::string& vm, sim::Rng& rng);
    /// A fresh VMM for `vm` (after a kill): the same devices, delivery modes
    /// and freshly booted guests, its vCPUs running.
    void restart_vmm(const std::string& vm);
    /// The VMM switches interrupt `x` to `mode` now.
    void deliver(DeviceIrq& x, DeliveryMode mode);
    /// The device interrupt named `name`, or null.
    DeviceIrq* find(const std::string& name) const;
    /// Where `x` is right now, in one line (scenario::System::observe).
    std::string observe(const DeviceIrq& x) const;
    /// A trapped guest write to VM `vm`'s distributor from vCPU `vcpu`;
    /// false when the VM or its vgic is not there.
    bool guest_gicd_write(const std::string& vm, unsigned vcpu, std::uint32_t offset, std::uint32_t value);

    /// Whether some stage of the path holds `x`'s interrupt pending or in
    /// flight, not yet acknowledged by the guest -- each place an interrupt
    /// can wait between the device and the guest's IAR, in path order.
    bool path_holds(const DeviceIrq& x) const;
    /// Whether `x`'s guest has set its interrupt up as the device drives it.
    bool guest_ready(const DeviceIrq& x) const;
    /// `x`'s VMM while it is alive, else null.
    const vmm::Vmm* live_vmm(const DeviceIrq& x) const;
    /// The live VM of `vm`'s VMM, or null.
    kvm::Vm* live_vm(const std::string& vm) const;
    /// The EOI maintenance `x`'s guest interrupt has had in its VM's vgic
    /// (arch::Vgic::eoi_maintenance) while that VM lives, else 0.
    std::uint64_t eoi_maintenance(const DeviceIrq& x) const;

    /// Schedules `fn` at `when` (at the earliest now).
    void at(sim::Cycles when, std::function<void()> fn);
    /// Microseconds of simulated time in cycles of this machine's clock.
    sim::Cycles us(double micros) const;
    /// The track of the host CPU running kernel code now.
    const std::string& cpu_track() const;

    const MachineConfig& config() const { return cfg_; }
    const sim::CostProfile& profile() const { return profile_; }
    sim::EventQueue& events() { return events_; }
    const sim::EventQueue& events() const { return events_; }
    sim::RandomStreams& streams() { return streams_; }
    const HostBoard& board() const { return hw_; }
    vfio::Vfio& vfio() { return vfio_; }
    const std::vector<std::unique_ptr<DeviceIrq>>& irqs() const { return irqs_; }
    const std::map<std::string, std::unique_ptr<vmm::Vmm>>& vmms() const { return vmms_; }
    const std::vector<std::unique_ptr<vmm::Vmm>>& graveyard() const { return graveyard_; }
    const std::vector<std::unique_ptr<guest::Guest>>& guests() const { return guests_; }
    /// The VM name of each kvm::Vm a VMM of this machine created.
    const std::map<const kvm::Vm*, std::string>& vm_names() const { return vm_names_; }

private:
    void build_devices();
    std::unique_ptr<dev::Traffic> make_traffic(const TrafficConfig& t, const std::string& field);
    void launch_vmm(const VmConfig& v, bool run);
    void start_vcpus(vmm::Vmm& m, const std::string& vm);
    guest::Guest& guest_of(const std::string& vm);
    host::Cpu& io_cpu() { return *hw_.cpus[0]; }
    bool tracing() const { return tracer_ != nullptr && tracer_->enabled(); }
    /// A refusal found while building, naming the file's line for `key`.
    [[noreturn]] void fail(const std::string& key, const std::string& what) const;
    /// "vms.N" / "devices.N": the key path of the VM / device named `name`.
    std::string vm_key(const std::string& name) const;
    std::string device_key(const std::string& name) const;

    MachineConfig cfg_;
    sim::CostProfile profile_;
    sim::Tracer* tracer_;
    sim::EventQueue events_;
    sim::RandomStreams streams_;
    HostBoard hw_; ///< GIC, host IRQ layer and CPUs, KVM
    vfio::Vfio vfio_;
    std::vector<std::unique_ptr<DeviceIrq>> irqs_;
    std::vector<DeviceIrq*> by_host_irq_; ///< the device IRQ on each host IRQ (VFIO's, not the timer's)
    std::map<std::string, std::unique_ptr<vmm::Vmm>> vmms_;
    std::vector<std::unique_ptr<guest::Guest>> guests_;
    std::map<std::string, std::vector<guest::Guest*>> vm_guests_; ///< the current guests of each VM
    std::vector<std::unique_ptr<vmm::Vmm>> graveyard_;           ///< killed VMMs replaced by fresh ones
    std::vector<std::unique_ptr<sim::FunctionEvent>> timed_;     ///< switches, kill, the layer above's
    std::vector<std::unique_ptr<host::Work>> switch_work_;       ///< the VMM's switches, run by its I/O thread
    sim::Rng kill_rng_{1};
    std::map<const kvm::Vm*, std::string> vm_names_;
    KillHooks kill_hooks_;
    bool observe_injections_ = false;
    bool started_ = false;
};

} // namespace fwdsim::machine
