// ScriptMachine: the vmm-script back end over the real kernel layers -- a
// whole host (GICv2, host GIC driver, IRQ layer, CPUs, VFIO, KVM with the
// kvm-vfio device) and one VMM process "vmm" whose fds the script's calls
// use.  Each call goes to the same fd interface a C VMM would reach
// (vfio::Vfio, kvm::Kvm, host eventfds), so its answer is the kernel's.
//
// The default system (ScriptMachineConfig{}; docs/vmm-script.md):
// * physical CPUs: max_vcpus + 1 (default 4 + 1).  CPU 0 is the host's;
//   vCPU i runs on CPU i + 1 (KVM's default pinning), so a vCPU id >=
//   max_vcpus answers ERR EINVAL.
// * GICv2 with 256 interrupt IDs and 4 list registers.
// * vfio-platform "plat0" in IOMMU group 1: IRQ index 0 is a level SPI
//   (host IRQ 40), index 1 an edge SPI (host IRQ 41).
// * vfio-pci "pci0" in IOMMU group 2: INTx (level SPI, host IRQ 48) and 8
//   MSI-X vectors (edge SPIs 64..71, as GICv2m turns MSIs into SPIs).
// Every device IRQ's physical line is a dev::InterruptSource on a GIC SPI:
// `device_irq NAME INDEX LEVEL` drives it.  LEVEL 1 raises one device
// event (a level line goes high and stays high until serviced; an edge or
// MSI line pulses); LEVEL 0 on a level line withdraws the request (the
// device drops its line); on an edge line it does nothing.  For pci0, INDEX
// is the VFIO index (0 INTx, 2 MSI-X) and the subindex (MSI-X vector)
// follows the name after a colon: `device_irq pci0:3 2 1` is vector 3.
//
// vCPUs: a vCPU enters KVM_RUN at `run_vcpu FD` (KVM_RUN's errno is the
// answer), or else at the first `run` after its creation (a failure is
// named in run's answer), with a guest::Guest (idle workload).  The guest on
// the first vCPU started in a VM gets a handler for each GSI then routed in
// that VM -- by an irqfd (KVM_IRQFD) or a forwarded entry (FORWARD_IRQ) --
// at INTID gsi + 32, edge or level as the device IRQ behind it (for an
// irqfd whose eventfd is no device's trigger: level with a resamplefd, else
// edge).  A handler services, at the time it runs, the device IRQ its GSI
// leads to: the forwarded entry's, or the one whose VFIO trigger eventfd is
// the irqfd's.  GSIs routed after a VM's guest booted get no handler: the
// guest never enables them and their interrupts stay pending in the vgic.
//
// `kill` kills the process (Process::kill with the configured seed: a
// random close order); its calls then answer ERR ESRCH, while run, refs,
// check and device_irq keep working.
#pragma once

#include <fwdsim/machine/config.h>
#include <fwdsim/vmm/script.h>

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fwdsim::machine {

struct ScriptMachineConfig {
    unsigned max_vcpus = 4;          ///< physical CPUs = max_vcpus + 1 (1..7)
    unsigned gic_irqs = 256;         ///< interrupt IDs, a multiple of 32
    unsigned gic_lrs = 4;            ///< list registers per CPU
    std::string arch = "arm";        ///< arm | minimal (no forwarding)
    std::string profile = "default"; ///< cost profile: default or a file
    std::uint64_t kill_seed = 1;     ///< seeds the close order of `kill`
    std::uint64_t handler_cycles = 2000; ///< guest handler's own work per IRQ
    std::uint64_t settle_cycles = 20000; ///< check: events younger than this are in flight
    unsigned plat0_group = 1;
    unsigned plat0_irq0 = 40;        ///< level SPI
    unsigned plat0_irq1 = 41;        ///< edge SPI
    unsigned pci0_group = 2;
    unsigned pci0_intx = 48;         ///< level SPI
    unsigned pci0_msix_base = 64;    ///< first MSI-X vector's SPI
    unsigned pci0_msix_vectors = 8;
    std::string origin = "vmm-script config"; ///< the file the options came from
    SourceLines lines;               ///< the line of each option the file gives
};

/// Reads a key=value configuration (one a line, '#' comments, keys as the
/// fields above, script_param_table() in machine/params.h); throws
/// sim::ConfigError naming the key and line of a bad entry.  `origin` names
/// the file in messages.
ScriptMachineConfig parse_script_machine_config(std::istream& in, const std::string& origin);
/// Refuses (sim::ConfigError naming the option's file, line and key; line 0
/// for a configuration made in C++) a value outside its option's range, a
/// host SPI at or above gic_irqs or used twice, one IOMMU group for both
/// devices.  parse_script_machine_config() and ScriptMachine call it.
void validate_script_config(const ScriptMachineConfig& config);
/// The value of option `key` in `config`, as the file would write it.
std::string script_option_value(const ScriptMachineConfig& config, std::string_view key);
/// The keys, their defaults, units, ranges and what each is for (for --help).
std::string script_machine_config_help();

class ScriptMachine final : public vmm::ScriptBackend {
public:
    using Answer = vmm::Answer;
    using SetIrqsArgs = vmm::SetIrqsArgs;
    using AttrArgs = vmm::AttrArgs;
    using VcpuInitArgs = vmm::VcpuInitArgs;

    /// Builds the system; throws sim::ConfigError when the configuration
    /// cannot be built (an SPI out of range, too many CPUs...).
    explicit ScriptMachine(const ScriptMachineConfig& config = {});
    ~ScriptMachine() override;
    ScriptMachine(const ScriptMachine&) = delete;
    ScriptMachine& operator=(const ScriptMachine&) = delete;

    Answer open_container() override;
    Answer open_group(std::uint32_t group) override;
    Answer set_container(int group_fd, int container_fd) override;
    Answer set_iommu(int container_fd, std::uint32_t type) override;
    Answer get_device(int group_fd, const std::string& name) override;
    Answer group_status(int group_fd) override;
    Answer unset_container(int group_fd) override;
    Answer check_extension(int container_fd, std::uint64_t extension) override;
    Answer irq_info(int device_fd, std::uint32_t index) override;
    Answer eventfd() override;
    Answer set_irqs(const SetIrqsArgs& args) override;
    Answer create_vm() override;
    Answer create_vcpu(int vm_fd, std::uint32_t id) override;
    Answer create_device(int vm_fd, std::uint32_t type, std::uint32_t flags) override;
    Answer set_attr(const AttrArgs& args) override;
    Answer get_attr(const AttrArgs& args) override;
    Answer has_attr(const AttrArgs& args) override;
    Answer vcpu_init(const VcpuInitArgs& args) override;
    Answer run_vcpu(int vcpu_fd) override;
    Answer irqfd(int vm_fd, int event_fd, std::uint32_t gsi, std::uint32_t flags, int resample_fd) override;
    Answer irq_line(int vm_fd, std::uint32_t field, std::uint32_t level) override;
    Answer close(int fd) override;
    Answer device_irq(const std::string& device, std::uint32_t index, std::uint32_t level) override;
    Answer signal(int event_fd, std::uint64_t value) override;
    Answer read(int event_fd) override;
    Answer run(std::uint64_t cycles) override;
    Answer kill() override;
    std::vector<std::string> refs() override;
    std::vector<std::string> check() override;

    /// Guest handler runs that serviced a device IRQ, over the whole run.
    std::uint64_t serviced() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace fwdsim::machine
