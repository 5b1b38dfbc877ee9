#include <fwdsim/vmm/script.h>

#include <catch2/catch.hpp>

#include <cerrno>
#include <sstream>

using namespace fwdsim::vmm;

namespace {

// Records the typed calls the script layer makes; answers from a table.
struct FakeBackend final : ScriptBackend {
    std::vector<std::string> calls;
    SetIrqsArgs last_set_irqs;
    AttrArgs last_attr;
    VcpuInitArgs last_init;
    int next_fd = 3;
    bool dead = false;

    Answer fd_answer(const std::string& what)
    {
        calls.push_back(what);
        return Answer::ok("fd=" + std::to_string(next_fd++));
    }
    Answer open_container() override { return fd_answer("open_container"); }
    Answer open_group(std::uint32_t g) override { return fd_answer("open_group " + std::to_string(g)); }
    Answer set_container(int g, int c) override { calls.push_back("set_container " + std::to_string(g) + " " + std::to_string(c)); return Answer::ok(); }
    Answer set_iommu(int c, std::uint32_t t) override { calls.push_back("set_iommu " + std::to_string(c) + " " + std::to_string(t)); return Answer::ok(); }
    Answer get_device(int, const std::string& n) override { return n == "plat0" ? fd_answer("get_device") : Answer::error(-ENODEV); }
    Answer group_status(int g) override { calls.push_back("group_status " + std::to_string(g)); return Answer::ok("flags=VIABLE"); }
    Answer unset_container(int g) override { calls.push_back("unset_container " + std::to_string(g)); return Answer::ok(); }
    Answer check_extension(int c, std::uint64_t e) override
    {
        calls.push_back("check_extension " + std::to_string(c) + " " + std::to_string(e));
        return Answer::ok("value=1");
    }
    Answer irq_info(int, std::uint32_t) override { return Answer::ok("count=1 flags=EVENTFD|MASKABLE|AUTOMASKED"); }
    Answer eventfd() override { return fd_answer("eventfd"); }
    Answer set_irqs(const SetIrqsArgs& a) override { last_set_irqs = a; return Answer::ok(); }
    Answer create_vm() override { return fd_answer("create_vm"); }
    Answer create_vcpu(int, std::uint32_t) override { return fd_answer("create_vcpu"); }
    Answer create_device(int, std::uint32_t type, std::uint32_t flags) override
    {
        return fd_answer("create_device " + std::to_string(type) + (flags != 0 ? " flags=" + std::to_string(flags) : ""));
    }
    Answer set_attr(const AttrArgs& a) override { last_attr = a; return a.group == 1 || a.group == 2 ? Answer::ok() : Answer::error(-ENXIO); }
    Answer get_attr(const AttrArgs& a) override { last_attr = a; return Answer::ok("value=0x20"); }
    Answer vcpu_init(const VcpuInitArgs& a) override { last_init = a; calls.push_back("vcpu_init"); return Answer::ok(); }
    Answer run_vcpu(int fd) override { calls.push_back("run_vcpu " + std::to_string(fd)); return Answer::ok(); }
    Answer has_attr(const AttrArgs& a) override { last_attr = a; return Answer::ok(); }
    Answer irqfd(int vm, int efd, std::uint32_t gsi, std::uint32_t flags, int resample) override
    {
        calls.push_back(fmt_irqfd(vm, efd, gsi, flags, resample));
        return Answer::ok();
    }
    static std::string fmt_irqfd(int vm, int efd, std::uint32_t gsi, std::uint32_t flags, int resample)
    {
        std::ostringstream s;
        s << "irqfd " << vm << " " << efd << " " << gsi << " flags=" << flags << " resample=" << resample;
        return s.str();
    }
    Answer irq_line(int, std::uint32_t field, std::uint32_t level) override { calls.push_back("irq_line " + std::to_string(field) + " " + std::to_string(level)); return Answer::ok(); }
    Answer close(int fd) override { return fd == 99 ? Answer::error(-EBADF) : Answer::ok(); }
    Answer device_irq(const std::string&, std::uint32_t, std::uint32_t) override { return Answer::ok(); }
    Answer signal(int, std::uint64_t) override { return Answer::ok(); }
    Answer read(int) override { return Answer::ok("value=1"); }
    Answer run(std::uint64_t c) override { calls.push_back("run " + std::to_string(c)); return Answer::ok(); }
    Answer kill() override { dead = true; return Answer::ok(); }
    std::vector<std::string> refs() override { return {"device plat0 refs=2", "forwarded plat0 0.0 -> 48"}; }
    std::vector<std::string> check() override { return dead ? std::vector<std::string>{"vm0 still holds plat0"} : std::vector<std::string>{}; }
};

std::string run(const std::string& script, FakeBackend& b, std::size_t* malformed = nullptr)
{
    std::istringstream in(script);
    std::ostringstream out;
    const auto bad = run_script(in, out, b);
    if (malformed) *malformed += bad; // counted over the calls
    return out.str();
}

} // namespace

TEST_CASE("each line gets one answer: OK with results or ERR with the errno name")
{
    FakeBackend b;
    const std::string out = run("open_container\n# comment\n\nopen_group 1\nget_device 4 nope\nclose 99\nirq_info 5 0\n", b);
    CHECK(out == "OK fd=3\nOK fd=4\nERR ENODEV\nERR EBADF\nOK count=1 flags=EVENTFD|MASKABLE|AUTOMASKED\n");
}

TEST_CASE("set_irqs takes names or raw numbers for ACTION and DATA")
{
    FakeBackend b;
    CHECK(run("set_irqs 5 0 0 1 TRIGGER EVENTFD 6\n", b) == "OK\n");
    CHECK(b.last_set_irqs.flags == ((1u << 5) | (1u << 2)));
    CHECK(b.last_set_irqs.data == std::vector<std::int32_t>{6});
    CHECK_FALSE(b.last_set_irqs.argsz.has_value());
    CHECK(run("set_irqs 5 0 0 1 0x40 1 -1 argsz=8\n", b) == "OK\n");
    CHECK(b.last_set_irqs.flags == (0x40u | 1u));
    CHECK(b.last_set_irqs.data == std::vector<std::int32_t>{-1});  // EVENTFD entries are s32 fds
    CHECK(b.last_set_irqs.argsz == 8u);
}

TEST_CASE("set_attr names groups and attributes, passes key=value arguments")
{
    FakeBackend b;
    CHECK(run("set_attr 9 VFIO_DEVICE FORWARD_IRQ fd=5 index=0 subindex=0 gsi=48\n", b) == "OK\n");
    CHECK(b.last_attr.group == 2);
    CHECK(b.last_attr.attr == 1);
    CHECK(b.last_attr.values.at("gsi") == 48);
    CHECK(run("set_attr 9 VFIO_GROUP ADD fd=4\n", b) == "OK\n");
    CHECK(b.last_attr.group == 1);
    CHECK(run("set_attr 9 7 3\n", b) == "ERR ENXIO\n");
    CHECK(run("set_attr 9 VFIO_GROUP ADD addr=bad\n", b) == "OK\n");
    CHECK(b.last_attr.bad_address);
}

TEST_CASE("irqfd with resample sets the RESAMPLE flag; deassign sets DEASSIGN")
{
    FakeBackend b;
    run("irqfd 3 4 48 resample=5\nirqfd_deassign 3 4 48\nirqfd 3 4 48 flags=0x80\n", b);
    REQUIRE(b.calls.size() == 3);
    CHECK(b.calls[0] == "irqfd 3 4 48 flags=2 resample=5");
    // A resamplefd not given is the zeroed struct kvm_irqfd's 0.
    CHECK(b.calls[1] == "irqfd 3 4 48 flags=1 resample=0");
    CHECK(b.calls[2] == "irqfd 3 4 48 flags=128 resample=0");
}

TEST_CASE("numbers are read at full width: a value that does not fit its field answers ERR EINVAL, never a truncation")
{
    FakeBackend b;
    std::size_t malformed = 0;
    // kvm-vfio's fd= is an s32 and the vgic's value a u32 or u64: the
    // script passes the full value, the backend (which knows the device
    // behind the fd) checks it.
    CHECK(run("set_attr 9 VFIO_GROUP ADD fd=4294967301\n", b) == "OK\n");
    CHECK(b.last_attr.values.at("fd").magnitude == 4294967301u);
    CHECK_FALSE(b.last_attr.values.at("fd").fits_signed(32));
    CHECK(run("set_attr 9 VFIO_GROUP ADD fd=-1\n", b) == "OK\n");
    CHECK(b.last_attr.values.at("fd") == -1);
    CHECK(run("set_attr 9 0 0 value=0xFFFFFFFFFFFFFFFF\n", b) == "ERR ENXIO\n");
    CHECK(b.last_attr.values.at("value").fits_unsigned(64));
    CHECK_FALSE(b.last_attr.values.at("value").fits_unsigned(32));
    // Fields the script fills itself.
    b.calls.clear();
    CHECK(run("set_attr 9 4294967297 1\n", b, &malformed) == "ERR EINVAL\n");               // group: u32
    CHECK(run("create_device 6 4294967301\n", b, &malformed) == "ERR EINVAL\n");            // type: u32
    CHECK(run("set_irqs 5 0 0 1 0x100000020 EVENTFD 6\n", b, &malformed) == "ERR EINVAL\n"); // flags: u32
    CHECK(run("set_irqs 5 0 0 1 TRIGGER BOOL 256\n", b, &malformed) == "ERR EINVAL\n");      // a BOOL: u8
    CHECK(run("set_irqs 5 0 0 1 TRIGGER EVENTFD 2147483648\n", b, &malformed) == "ERR EINVAL\n"); // an fd: s32
    CHECK(run("set_irqs 5 0 0 1 TRIGGER BOOL -1\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(run("irqfd 6 10 16 flags=4294967296\n", b, &malformed) == "ERR EINVAL\n");         // kvm_irqfd.flags: u32
    CHECK(run("irqfd 6 10 16 resample=4294967301\n", b, &malformed) == "ERR EINVAL\n");      // resamplefd: u32
    CHECK(run("irqfd 6 4294967301 16\n", b, &malformed) == "ERR EINVAL\n");                  // a syscall's int fd
    CHECK(run("close 2147483648\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(run("irq_info 5 4294967296\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(run("set_irqs 5 0 0 1 TRIGGER EVENTFD 6 argsz=4294967296\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(malformed == 0);  // EINVAL answers are not malformed lines
    CHECK(run("set_attr 9 0 18446744073709551616\n", b, &malformed).rfind("ERR ", 0) == 0); // 2^64: no number at all
    CHECK(malformed == 1);
    CHECK(b.calls.empty()); // none of them reached the kernel
    // What fits passes unchanged, at the edges of each field.
    CHECK(run("set_irqs 5 0 0 2 TRIGGER BOOL 0 255\n", b) == "OK\n");
    CHECK(b.last_set_irqs.data == std::vector<std::int32_t>{0, 255});
    CHECK(run("set_irqs 5 4 0 1 TRIGGER EVENTFD -2\n", b) == "OK\n");
    CHECK(b.last_set_irqs.data == std::vector<std::int32_t>{-2});
    CHECK(run("set_irqs 5 0 0 1 TRIGGER EVENTFD -2147483648\n", b) == "OK\n");
    CHECK(run("irqfd 3 4 48 resample=4294967295\n", b) == "OK\n");
    CHECK(b.calls.back() == "irqfd 3 4 48 flags=2 resample=-1");
    CHECK(run("set_attr 9 0 0xFFFFFFFFFFFFFFFF\n", b) == "ERR ENXIO\n");
    CHECK(b.last_attr.attr == 0xFFFFFFFFFFFFFFFFull);
}

TEST_CASE("the calls a VMM needs: get_attr, KVM_CREATE_DEVICE_TEST, KVM_ARM_VCPU_INIT, KVM_RUN on one vCPU")
{
    FakeBackend b;
    std::size_t malformed = 0;
    CHECK(run("get_attr 8 ADDR CPU\n", b) == "OK value=0x20\n");
    CHECK(b.last_attr.group == 0);
    CHECK(b.last_attr.attr == 1);
    CHECK(run("get_attr 8 NR_IRQS 0 addr=bad\n", b) == "OK value=0x20\n");
    CHECK(b.last_attr.group == 3);
    CHECK(b.last_attr.bad_address);
    CHECK(run("set_attr 8 CTRL INIT\n", b) == "ERR ENXIO\n");
    CHECK(b.last_attr.group == 4);
    CHECK(b.last_attr.attr == 0);
    b.calls.clear();
    CHECK(run("create_device 6 vgic-v2 test\ncreate_device 6 0\n", b) == "OK fd=3\nOK fd=4\n");
    CHECK(b.calls == std::vector<std::string>{"create_device 5 flags=1", "create_device 0"});
    CHECK(run("vcpu_init 7\n", b) == "OK\n");
    CHECK(b.last_init.fd == 7);
    CHECK(b.last_init.target == 5); // KVM_ARM_TARGET_GENERIC_V8
    CHECK(b.last_init.features[0] == 0);
    CHECK(run("vcpu_init 7 target=3 features=0x4 features6=1\n", b) == "OK\n");
    CHECK(b.last_init.target == 3);
    CHECK(b.last_init.features[0] == 4);
    CHECK(b.last_init.features[6] == 1);
    CHECK(run("run_vcpu 7\n", b) == "OK\n");
    CHECK(b.calls.back() == "run_vcpu 7");
    CHECK(run("vcpu_init 7 features=4294967296\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(malformed == 0);
    CHECK(run("vcpu_init 7 features7=1\ncreate_device 6 vgic-v2 probe\nrun_vcpu\n", b, &malformed).rfind("ERR ", 0) == 0);
    CHECK(malformed == 3);
}

TEST_CASE("the VFIO group and container calls: group_status, unset_container, check_extension (an unsigned long)")
{
    FakeBackend b;
    std::size_t malformed = 0;
    CHECK(run("group_status 4\nunset_container 4\ncheck_extension 3 9\ncheck_extension 3 18446744073709551615\n", b) ==
          "OK flags=VIABLE\nOK\nOK value=1\nOK value=1\n");
    CHECK(b.calls == std::vector<std::string>{"group_status 4", "unset_container 4", "check_extension 3 9",
                                              "check_extension 3 18446744073709551615"});
    CHECK(run("check_extension 3 -1\n", b, &malformed) == "ERR EINVAL\n");
    CHECK(run("group_status\ncheck_extension 3\n", b, &malformed).rfind("ERR usage", 0) == 0);
    CHECK(malformed == 2);
}

TEST_CASE("malformed lines answer ERR with a reason and the script goes on")
{
    FakeBackend b;
    std::size_t malformed = 0;
    const std::string out = run("frobnicate\nopen_group\nopen_group x\nset_irqs 1 2\nirqfd 3 4 48 bogus=1\nrun -5\nopen_container\n",
                                b, &malformed);
    CHECK(malformed == 6);
    std::istringstream lines(out);
    std::string l, last;
    int n = 0;
    while (std::getline(lines, l)) {
        last = l;
        ++n;
        if (n <= 6) {
            INFO(l);
            CHECK(l.rfind("ERR ", 0) == 0);
            CHECK(l.size() > 8);
        }
    }
    CHECK(n == 7);
    CHECK(last == "OK fd=3");
}

TEST_CASE("refs prints its lines then OK; check reports broken invariants as ERR")
{
    FakeBackend b;
    CHECK(run("refs\n", b) == "device plat0 refs=2\nforwarded plat0 0.0 -> 48\nOK refs=2\n");
    CHECK(run("check\nkill\ncheck\n", b) == "OK\nOK\nERR vm0 still holds plat0\n");
}
