// The vmm-script back end over the real layers: golden scripts, the
// configuration file, and the tool driven through a pipe.
#include <fwdsim/sim/config_error.h>
#include <fwdsim/vmm/script.h>
#include <fwdsim/machine/script_machine.h>

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

using namespace fwdsim;
using machine::ScriptMachine;

namespace {

std::string read_file(const std::string& path)
{
    std::ifstream in(path);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string l;
    while (std::getline(in, l)) out.push_back(l);
    return out;
}

std::string run(const std::string& script, ScriptMachine& m)
{
    std::istringstream in(script);
    std::ostringstream out;
    (void)vmm::run_script(in, out, m);
    return out.str();
}

std::string run_one(const std::string& line, ScriptMachine& m)
{
    std::ostringstream out;
    vmm::run_line(line, out, m);
    return out.str();
}

/// The set-up every script starts with: plat0 open, a VM with vCPU 0, the
/// vgic, and the kvm-vfio device with group 1 added (fds 3..9) ...
constexpr const char* kSetupDevices = "open_container\nopen_group 1\nset_container 4 3\nset_iommu 3\nget_device 4 plat0\n"
                                      "create_vm\ncreate_vcpu 6 0\ncreate_device 6 vgic-v2\ncreate_device 6 vfio\n"
                                      "set_attr 9 VFIO_GROUP ADD fd=4\n";
/// ... then the vgic's frames and initialisation and vCPU 0's init, which
/// Linux needs before an irqfd (EAGAIN) and KVM_RUN (ENXIO, ENOEXEC).
constexpr const char* kVgicReady = "set_attr 8 ADDR DIST value=0x8000000\nset_attr 8 ADDR CPU value=0x8010000\n"
                                   "set_attr 8 CTRL INIT\nvcpu_init 7\n";
const std::string kSetup = std::string(kSetupDevices) + kVgicReady;

} // namespace

TEST_CASE("golden scripts give their expected answers through the real kernel layers")
{
    const std::string dir = FWDSIM_VMM_SCRIPTS_DIR;
    const char* names[] = {"level_irqfd", "forward", "kill", "msix_irqfd", "lost"};
    for (const char* name : names) {
        DYNAMIC_SECTION(name)
        {
            ScriptMachine m;
            const std::string got = run(read_file(dir + "/" + name + ".vmm"), m);
            if (std::getenv("FWDSIM_UPDATE_GOLDEN") != nullptr) {
                std::ofstream(dir + "/" + name + ".expected") << got;
            }
            const auto want = lines_of(read_file(dir + "/" + name + ".expected"));
            const auto have = lines_of(got);
            for (std::size_t i = 0; i < std::max(want.size(), have.size()); ++i) {
                INFO(name << ".vmm answer line " << i + 1);
                CHECK((i < have.size() ? have[i] : "<missing>") == (i < want.size() ? want[i] : "<missing>"));
            }
        }
    }
}

TEST_CASE("the level irqfd path services the device and references come back after close")
{
    ScriptMachine m;
    run(kSetup, m);
    CHECK(run("eventfd\neventfd\nirqfd 6 10 16 resample=11\nset_irqs 5 0 0 1 TRIGGER EVENTFD 10\n"
              "set_irqs 5 0 0 1 UNMASK EVENTFD 11\nrun 100000\n",
              m) == "OK fd=10\nOK fd=11\nOK\nOK\nOK\nOK now=100000 serviced=0\n");
    for (int i = 1; i <= 3; ++i) {
        run_one("device_irq plat0 0 1", m);
        run_one("run 200000", m);
        CHECK(m.serviced() == static_cast<std::uint64_t>(i));
        CHECK(m.check().empty());
    }
    const auto refs = m.refs();
    CHECK(std::find(refs.begin(), refs.end(), "device plat0 refcount=2 open=1") != refs.end());
    CHECK(run("close 5\ndevice_irq plat0 0 1\nrun 200000\n", m).find("serviced=3") != std::string::npos);
    // The device file is gone: the level line stays high, visible, not lost.
    CHECK(m.check().empty());
}

TEST_CASE("FORWARD_IRQ takes one device reference, refuses with the kernel's errnos, UNFORWARD gives it back")
{
    ScriptMachine m;
    run(kSetup, m);
    const std::string fwd = "set_attr 9 VFIO_DEVICE FORWARD_IRQ fd=5 index=0 subindex=0 gsi=16";
    CHECK(run("eventfd\nset_irqs 5 0 0 1 TRIGGER EVENTFD 10\n" + fwd + "\n", m) == "OK fd=10\nOK\nERR EBUSY\n");
    CHECK(run("set_irqs 5 0 0 1 TRIGGER EVENTFD -1\n" + fwd + "\n" + fwd + "\n", m) == "OK\nOK\nERR EINVAL\n");
    CHECK(run_one("set_attr 9 VFIO_DEVICE 9 fd=5", m) == "ERR ENXIO\n");
    CHECK(run_one("set_attr 9 VFIO_GROUP 3 fd=4", m) == "ERR ENXIO\n");
    auto refs = m.refs();
    CHECK(std::find(refs.begin(), refs.end(), "device plat0 refcount=3 open=1") != refs.end());
    CHECK(std::find(refs.begin(), refs.end(), "forwarded plat0 index=0 subindex=0 gsi=16 host_irq=40") != refs.end());
    run("run 100000\ndevice_irq plat0 0 1\nrun 200000\n", m);
    CHECK(m.serviced() == 1);
    CHECK(run_one("set_attr 9 VFIO_DEVICE UNFORWARD_IRQ fd=5 index=0 subindex=0", m) == "OK\n");
    refs = m.refs();
    CHECK(std::find(refs.begin(), refs.end(), "device plat0 refcount=2 open=1") != refs.end());
    CHECK(std::none_of(refs.begin(), refs.end(), [](const std::string& l) { return l.rfind("forwarded", 0) == 0; }));
    CHECK(m.check().empty());
}

TEST_CASE("after kill every call answers ESRCH, run/refs/check go on, and nothing is left in any close order")
{
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        machine::ScriptMachineConfig cfg;
        cfg.kill_seed = seed;
        ScriptMachine m(cfg);
        run(kSetup, m);
        run("set_attr 9 VFIO_DEVICE FORWARD_IRQ fd=5 index=0 subindex=0 gsi=16\neventfd\neventfd\n"
            "irqfd 6 10 17\nset_irqs 5 1 0 1 TRIGGER EVENTFD 10\nrun 100000\n"
            "device_irq plat0 0 1\ndevice_irq plat0 1 1\n",
            m);
        run_one("run " + std::to_string(500 * seed), m); // interrupts in flight at the kill
        CHECK(run_one("kill", m) == "OK\n");
        for (const char* call : {"open_container", "create_vm", "close 5", "eventfd", "kill", "signal 10",
                                 "set_attr 9 VFIO_GROUP DEL fd=4", "irqfd 6 10 17"}) {
            INFO(call);
            CHECK(run_one(call, m) == "ERR ESRCH\n");
        }
        CHECK(run_one("run 100000", m).rfind("OK now=", 0) == 0);
        CHECK(m.refs() == std::vector<std::string>{"process vmm dead", "device plat0 refcount=1 open=0",
                                                   "device pci0 refcount=1 open=0", "group 1 refcount=1",
                                                   "group 2 refcount=1"});
        INFO("seed " << seed);
        CHECK(m.check().empty());
        CHECK(run_one("check", m) == "OK\n");
    }
}

TEST_CASE("closing the VM's last file with an edge IRQ on its way to it loses nothing")
{
    for (std::uint64_t at = 0; at <= 6000; at += 250) {
        ScriptMachine m;
        run(kSetup, m);
        run("eventfd\nirqfd 6 10 17\nset_irqs 5 1 0 1 TRIGGER EVENTFD 10\nrun 100000\ndevice_irq plat0 1 1\n", m);
        run_one("run " + std::to_string(at), m);
        // The VMM tears down in its own order; the VM goes with fd 9.
        CHECK(run("close 7\nclose 8\nclose 6\nclose 9\n", m) == "OK\nOK\nOK\nOK\n");
        const auto refs = m.refs();
        CHECK(std::none_of(refs.begin(), refs.end(), [](const std::string& l) { return l.rfind("vm ", 0) == 0; }));
        run_one("run 100000", m);
        INFO("closed " << at << " cycles after the device raised it");
        CHECK(m.check().empty());
    }
}

TEST_CASE("an attribute value that does not fit the field the device reads answers EINVAL: fd=4294967301 is not fd 5")
{
    ScriptMachine m;
    run("open_container\nopen_group 1\nset_container 4 3\nset_iommu 3\nget_device 4 plat0\n"
        "create_vm\ncreate_vcpu 6 0\ncreate_device 6 vgic-v2\ncreate_device 6 vfio\n",
        m);
    // virt/kvm/vfio.c kvm_vfio_set_file: get_user of an s32 fd.
    CHECK(run_one("set_attr 9 VFIO_GROUP ADD fd=4294967300", m) == "ERR EINVAL\n"); // would be fd 4, the group
    CHECK(m.refs().back().find("kvm-vfio-groups=0") != std::string::npos);
    CHECK(run_one("set_attr 9 VFIO_GROUP ADD fd=-2147483649", m) == "ERR EINVAL\n");
    CHECK(run_one("set_attr 9 VFIO_GROUP ADD fd=4", m) == "OK\n");
    // The forwarding attribute's four u32s.
    CHECK(run_one("set_attr 9 VFIO_DEVICE FORWARD_IRQ fd=4294967301 index=0 subindex=0 gsi=16", m) == "ERR EINVAL\n");
    CHECK(run_one("set_attr 9 VFIO_DEVICE FORWARD_IRQ fd=5 index=0 subindex=0 gsi=-1", m) == "ERR EINVAL\n");
    // vgic-kvm-device.c: NR_IRQS is a u32 (get_user), ADDR a u64.
    CHECK(run_one("set_attr 8 3 0 value=4294967392", m) == "ERR EINVAL\n"); // would be 96
    CHECK(run_one("set_attr 8 3 0 value=-1", m) == "ERR EINVAL\n");
    CHECK(run_one("set_attr 8 0 0 value=-4096", m) == "ERR EINVAL\n");
    CHECK(run_one("set_attr 8 3 0 value=96", m) == "OK\n");
    CHECK(m.check().empty());
}

TEST_CASE("run_vcpu answers KVM_RUN's errno; a refused vCPU starts cleanly at a later KVM_RUN, run names the failures")
{
    ScriptMachine m;
    run(kSetupDevices, m);
    // arm.c kvm_arch_vcpu_run_pid_change: no KVM_ARM_VCPU_INIT yet.
    CHECK(run_one("run_vcpu 7", m) == "ERR ENOEXEC\n");
    CHECK(run_one("run_vcpu 7", m) == "ERR ENOEXEC\n");
    CHECK(run_one("run 1000", m) == "OK now=1000 serviced=0\n"); // no longer pending
    CHECK(run("vcpu_init 7\nset_attr 8 ADDR DIST value=0x8000000\nset_attr 8 ADDR CPU value=0x8010000\n"
              "set_attr 8 CTRL INIT\neventfd\nirqfd 6 10 17\nset_irqs 5 1 0 1 TRIGGER EVENTFD 10\n",
              m) == "OK\nOK\nOK\nOK\nOK fd=10\nOK\nOK\n");
    CHECK(run_one("run_vcpu 7", m) == "OK\n");
    CHECK(run_one("run_vcpu 7", m) == "ERR EBUSY\n"); // its thread is in KVM_RUN
    run("run 100000\ndevice_irq plat0 1 1\nrun 200000\n", m);
    CHECK(m.serviced() == 1);
    CHECK(m.check().empty());
    // A second VM whose vgic frames overlap: the first KVM_RUN is EINVAL
    // and the VM is dead; run names the vCPU it could not start.
    CHECK(run("create_vm\ncreate_vcpu 11 0\ncreate_device 11 vgic-v2\nset_attr 13 ADDR CPU value=0\n"
              "set_attr 13 ADDR DIST value=0x1000\nvcpu_init 12\n",
              m) == "OK fd=11\nOK fd=12\nOK fd=13\nOK\nOK\nOK\n");
    CHECK(run_one("run 1000", m).find(" kvm_run_failed=12:EINVAL") != std::string::npos);
    CHECK(run_one("run_vcpu 12", m) == "ERR EIO\n");
    CHECK(run_one("get_attr 13 ADDR CPU", m) == "ERR EIO\n");
    CHECK(run_one("close 13", m) == "OK\n");
    CHECK(m.check().empty());
}

TEST_CASE("group_status, unset_container and check_extension reach VFIO's group.c and container.c answers")
{
    ScriptMachine m;
    CHECK(run("open_container\nopen_group 1\ngroup_status 4\ncheck_extension 3 9\ncheck_extension 3 2\n"
              "unset_container 4\nset_container 4 3\ngroup_status 4\nset_iommu 3\nget_device 4 plat0\n"
              "unset_container 4\nclose 5\nunset_container 4\ngroup_status 4\ngroup_status 3\n",
              m) == "OK fd=3\nOK fd=4\nOK flags=VIABLE\nOK value=1\nOK value=0\nERR EINVAL\nOK\n"
                    "OK flags=VIABLE|CONTAINER_SET\nOK\nOK fd=5\nERR EBUSY\nOK\nOK\nOK flags=VIABLE\nERR ENOTTY\n");
    CHECK(m.check().empty());
}

TEST_CASE("check reports a device interrupt nothing holds any more")
{
    ScriptMachine m;
    run("open_container\nopen_group 1\nset_container 4 3\nset_iommu 3\nget_device 4 plat0\neventfd\n"
        "set_irqs 5 1 0 1 TRIGGER EVENTFD 6\ndevice_irq plat0 1 1\nrun 50000\n",
        m);
    CHECK(m.check().empty()); // held by the trigger eventfd
    run("read 6\nrun 50000\n", m);
    const auto broken = m.check();
    REQUIRE(broken.size() == 1);
    CHECK(broken[0].find("plat0 index=1 subindex=0: an interrupt was lost") == 0);
}

TEST_CASE("device_irq names lines by device, index and :subindex")
{
    ScriptMachine m;
    CHECK(run_one("device_irq pci0:7 2 1", m) == "OK outstanding=1\n");
    CHECK(run_one("device_irq pci0 0 1", m) == "OK outstanding=1\n");
    CHECK(run_one("device_irq pci0 0 0", m) == "OK outstanding=0\n");
    CHECK(run_one("device_irq pci0:8 2 1", m).rfind("ERR no line pci0 index=2 subindex=8", 0) == 0);
    CHECK(run_one("device_irq plat0 1 2", m).rfind("ERR ", 0) == 0);
}

TEST_CASE("the configuration file overrides the default system and names a bad key and its line")
{
    std::istringstream good("# a bigger machine\nmax_vcpus = 6\npci0.msix_vectors=2\narch=minimal\n");
    const auto cfg = machine::parse_script_machine_config(good, "m.conf");
    CHECK(cfg.max_vcpus == 6);
    CHECK(cfg.pci0_msix_vectors == 2);
    ScriptMachine m(cfg);
    run(kSetupDevices, m);
    CHECK(run_one("create_vcpu 6 5", m) == "OK fd=10\n");
    CHECK(run_one("create_vcpu 6 6", m) == "ERR EINVAL\n");
    // The minimal arch cannot forward: the attribute does not exist.
    CHECK(run_one("has_attr 9 VFIO_DEVICE FORWARD_IRQ", m) == "ERR ENXIO\n");
    CHECK(run_one("device_irq pci0:2 2 1", m).rfind("ERR no line", 0) == 0);

    auto error_of = [](const std::string& text) -> std::string {
        std::istringstream in(text);
        try {
            (void)machine::parse_script_machine_config(in, "m.conf");
        } catch (const sim::ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(error_of("max_vcpus=2\nfrobs=1\n").rfind("m.conf:2: frobs: unknown key", 0) == 0);
    CHECK(error_of("\n\nmax_vcpus=9\n") == "m.conf:3: max_vcpus: must be 1..7 (a GICv2 has 8 CPU interfaces, one is the host's), got 9");
    CHECK(error_of("arch=x86\n").rfind("m.conf:1: arch:", 0) == 0);
    CHECK(error_of("gic_irqs\n").rfind("m.conf:1: gic_irqs: expected key=value", 0) == 0);
    CHECK(error_of("kill_seed=1\nkill_seed=2\n") == "m.conf:2: kill_seed: given twice");
    machine::ScriptMachineConfig clash;
    clash.pci0_intx = clash.plat0_irq0;
    CHECK_THROWS_AS(ScriptMachine(clash), sim::ConfigError);
}

#ifdef FWDSIM_TOOL_PATH
TEST_CASE("fwdsim vmm-script answers each line through a pipe before the next is written")
{
    int to_child[2], from_child[2];
    REQUIRE(pipe(to_child) == 0);
    REQUIRE(pipe(from_child) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        ::close(to_child[1]);
        ::close(from_child[0]);
        execl(FWDSIM_TOOL_PATH, "fwdsim", "vmm-script", "-", static_cast<char*>(nullptr));
        _exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    std::signal(SIGPIPE, SIG_IGN);
    alarm(120); // an answer that never comes fails the test instead of hanging it
    FILE* in = fdopen(from_child[0], "r");
    REQUIRE(in != nullptr);
    auto ask = [&](const std::string& line) {
        const std::string l = line + "\n";
        REQUIRE(write(to_child[1], l.data(), l.size()) == static_cast<ssize_t>(l.size()));
        char buf[512];
        // Blocks until the tool answered this very line: the next one is
        // not written yet, so an unflushed answer would hang here.
        REQUIRE(fgets(buf, sizeof buf, in) != nullptr);
        return std::string(buf);
    };
    CHECK(ask("open_container") == "OK fd=3\n");
    CHECK(ask("open_group 1") == "OK fd=4\n");
    CHECK(ask("open_group 1") == "ERR EBUSY\n");
    CHECK(ask("set_container 4 3") == "OK\n");
    CHECK(ask("set_iommu 3") == "OK\n");
    // The answer to one call decides the next: use the fd it returned.
    const std::string dev = ask("get_device 4 plat0");
    REQUIRE(dev.rfind("OK fd=", 0) == 0);
    const std::string dfd = dev.substr(6, dev.size() - 7);
    CHECK(ask("irq_info " + dfd + " 0") == "OK count=1 flags=EVENTFD|MASKABLE|AUTOMASKED\n");
    // A comment is not answered, so the next answer is create_vm's.
    const std::string comment = "# a comment\n";
    REQUIRE(write(to_child[1], comment.data(), comment.size()) == static_cast<ssize_t>(comment.size()));
    CHECK(ask("create_vm") == "OK fd=6\n");
    CHECK(ask("kill") == "OK\n");
    CHECK(ask("create_vm") == "ERR ESRCH\n");
    CHECK(ask("check") == "OK\n");
    alarm(0);
    ::close(to_child[1]);
    fclose(in);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
#endif
