// fwdsim vmm-script FILE|-: a VMM process making one kernel call a line.
#include "cli.h"
#include "commands.h"

#include <fwdsim/sim/config_error.h>
#include <fwdsim/vmm/script.h>
#include <fwdsim/machine/script_machine.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fwdsim::app {
namespace {

constexpr const char* kDescription = R"(Runs a VMM process "vmm" on a simulated ARM/GICv2 host with VFIO and KVM
(kvm-vfio with IRQ forwarding).  Each line of FILE (or standard input, -)
is one call made by that process; each is answered by one line as soon as
it is read (output flushed), so a program can drive the tool through a
pipe:  OK [results]  or  ERR <ERRNO NAME>  (or ERR <reason> for a malformed
line, which is skipped).  '#' starts a comment.  Numbers are decimal or
0x-prefixed, read at full width: one that does not fit the field it fills
answers ERR EINVAL (never a truncation).  The answers follow Linux 6.18
(docs/linux-conformance.md).)";

constexpr const char* kCalls = R"(calls:
VFIO    open_container                      -> OK fd=N
        open_group GROUP                    -> OK fd=N
        set_container GROUP_FD CONTAINER_FD
        set_iommu CONTAINER_FD [TYPE]       (TYPE default 1, TYPE1)
        get_device GROUP_FD NAME            -> OK fd=N
        group_status GROUP_FD               -> OK flags=VIABLE|CONTAINER_SET
        unset_container GROUP_FD
        check_extension CONTAINER_FD EXT    -> OK value=N
        irq_info DEVICE_FD INDEX            -> OK count=N flags=EVENTFD|...
        set_irqs DEVICE_FD INDEX START COUNT ACTION DATA [VALUE...] [argsz=N]
            ACTION MASK|UNMASK|TRIGGER, DATA NONE|BOOL|EVENTFD, or numbers
eventfd eventfd                             -> OK fd=N
        signal EVENT_FD [VALUE]             write(2) to it
        read EVENT_FD                       -> OK value=N, or ERR EAGAIN
KVM     create_vm                           -> OK fd=N
        create_vcpu VM_FD ID                -> OK fd=N
        create_device VM_FD vfio|vgic-v2|TYPE [test] -> OK fd=N (test: OK,
                                            KVM_CREATE_DEVICE_TEST)
        set_attr FD GROUP ATTR [key=value...]  (has_attr likewise)
            kvm-vfio: VFIO_GROUP ADD|DEL fd=G
                      VFIO_DEVICE FORWARD_IRQ|UNFORWARD_IRQ fd= index= subindex= gsi=
            vgic-v2:  ADDR DIST|CPU, DIST_REGS|CPU_REGS VCPU<<32|OFF,
                      NR_IRQS 0, CTRL INIT -- [value=N]
            addr=bad: an unreadable argument
        get_attr FD GROUP ATTR [addr=bad]   -> OK value=0x...
        vcpu_init VCPU_FD [target=N] [features=N] [features1..6=N]
                                            KVM_ARM_VCPU_INIT (target 5)
        run_vcpu VCPU_FD                    KVM_RUN now, with its errno
        irqfd VM_FD EVENT_FD GSI [resample=FD] [flags=N]
        irqfd_deassign VM_FD EVENT_FD GSI
        irq_line VM_FD FIELD LEVEL          (ARM encoding of FIELD)
process close FD
        kill                                SIGKILL: every fd closes, in a
                                            seeded random order; later calls
                                            answer ERR ESRCH
machine device_irq NAME[:SUB] INDEX LEVEL   the device drives its line:
                                            1 raises an event (edge/MSI: a
                                            pulse), 0 drops a level request
        run CYCLES                          start vCPUs created since the last
                                            run (KVM_RUN, idle guest), then
                                            advance -> OK now=T serviced=N
                                            [kvm_run_failed=FD:ERRNO,...]
                                            (ERR EINVAL past 2^63 cycles)
        refs                                the references held, one a line,
                                            then OK refs=N
        check                               OK, or ERR with every broken
                                            invariant (docs/vmm-script.md)

The default system: CPU 0 for the host and one CPU per vCPU (up to 4);
vfio-platform plat0 in IOMMU group 1 (index 0: level SPI 40, index 1: edge
SPI 41); vfio-pci pci0 in group 2 (index 0 INTx: level SPI 48; index 2
MSI-X: 8 vectors, edge SPIs 64..71 -- device_irq pci0:3 2 1 is vector 3).
Guest INTID = GSI + 32.  A --config FILE changes it, key=value lines (the
values shown are the defaults):
)";

} // namespace

int vmm_script_main(int argc, char** argv)
{
    std::string file, config_file;
    CLI::App app(kDescription, "fwdsim vmm-script");
    app.add_option("FILE", file, "the script, or - for standard input")->required();
    app.add_option("--config", config_file, "override the default system (its keys below; default: none)")
        ->type_name("FILE");
    // The keys' text comes from the machine, so it never drifts from what it reads.
    std::string footer = kCalls + machine::script_machine_config_help();
    footer.pop_back(); // CLI11 ends the footer with its own newline
    app.footer(footer);
    if (const int st = parse_cli(app, "vmm-script", argc, argv); st >= 0) return st;
    try {
        machine::ScriptMachineConfig config;
        if (!config_file.empty()) {
            std::error_code ec;
            std::ifstream cin(config_file);
            if (std::filesystem::is_directory(config_file, ec) || !cin) {
                fmt::print(stderr, "fwdsim vmm-script: cannot open {}\n", config_file);
                return 1;
            }
            config = machine::parse_script_machine_config(cin, config_file);
        }
        machine::ScriptMachine machine(config);
        return with_script_input("vmm-script", file, [&](std::istream& in) { vmm::run_script(in, std::cout, machine); });
    } catch (const sim::ConfigError& e) {
        fmt::print(stderr, "fwdsim vmm-script: {}\n", e.what());
        return 2;
    }
}

} // namespace fwdsim::app
