// fwdsim-gic-diff: runs gic-script cases against fwdsim's GIC model and
// against QEMU's arm_gic (qemu-system-aarch64 -M virt,gic-version=2,
// virtualization=on, under the qtest protocol), and compares every read.
//
// usage: fwdsim-gic-diff QEMU_BINARY CASE.gic...
//
// What QEMU can express: register accesses (readl/readb/writel/writeb) on
// CPU 0.  Observation commands (irq, fiq, virq, vfiq, maint, step) change no state and
// are dropped; a case that drives input lines (spi, ppi) or selects another
// CPU cannot be replayed and is reported as skipped.  fwdsim runs with
// QEMU virt's implementation-defined sizes (288 IDs, 8 priority bits, 4 LRs).
// Differences that the architecture leaves to the implementation are
// allowed and counted separately (kAllowed); any other difference fails.
#include <fwdsim/gic/gic_script.h>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace {

struct Allowed {
    std::uint64_t address;
    const char* why;
};

// IHI 0048B leaves these values to the implementation.
constexpr Allowed kAllowed[] = {
    {0x08000008, "GICD_IIDR: implementer and revision are implementation defined (IHI 0048B 4.3)"},
    {0x080100FC, "GICC_IIDR: implementation defined (IHI 0048B 4.4)"},
    {0x080400FC, "GICV_IIDR: implementation defined (IHI 0048B 5.5)"},
    {0x080100D0, "GICC_APR0: the format of the active priority registers is implementation defined (IHI 0048B 4.4)"},
};

struct QemuDeviation {
    const char* case_name; ///< file name of the case
    int line;
    const char* why;
};

// Differences judged to be QEMU's, each with the section that decides it.
constexpr const char* kAliasesUnimplemented =
    "QEMU 7.2 does not implement GICC_AIAR/AEOIR/AHPPIR (or GICV's) without the Security Extensions: they read 0 and writes are ignored, so nothing is acknowledged through them; IHI 0048B 4.4.6-4.4.9 (and 5.5 for GICV): in a GICv2 without the Security Extensions they are the group 1 aliases of IAR, EOIR and HPPIR";
constexpr const char* kGroupEnableNotForwarding =
    "QEMU 7.2 gates only the signalling by GICD_CTLR.EnableGrp1, and acknowledges a group 1 interrupt through GICC_IAR while the distributor's group 1 is disabled (the later reads of this case follow from that acknowledge); IHI 0048B 4.3.1 (GICD_CTLR.EnableGrp1 = 0: group 1 interrupts are not forwarded to the CPU interfaces)";
constexpr const char* kVirtualGroupDisabled =
    "QEMU 7.2 acknowledges a group 1 list register through GICV_IAR while GICV_CTLR.EnableGrp1 is 0 (the later reads of this case follow from that acknowledge); IHI 0048B 4.4.1 and 4.4.4 (5.5 for GICV): with EnableGrp1 = 0 the interface signals no group 1 interrupt, and IAR acknowledges only the interrupt it signals";
constexpr const char* kPpiPendingSmp =
    "QEMU 7.2 with more than one CPU does not set a PPI pending through GICD_ISPENDR0 (it sets the SPI-style target mask, which a PPI does not have; the later reads of this case follow from that); IHI 0048B 4.3.7 (GICD_ISPENDRn) and 4.3.2 (word 0 banked): the write sets the accessing CPU's own PPI pending";
constexpr const char* kOneOfN =
    "QEMU 7.2 lets a second CPU acknowledge an SPI that another CPU targeted with it has already acknowledged; IHI 0048B 1.4.3 (1-N model: only one processor handles the interrupt) and 3.2.4: an active interrupt is not signalled or acknowledged again until it is deactivated";
constexpr const char* kTargetsMovePending =
    "QEMU 7.2 keeps a pending SPI at the CPUs it targeted when it became pending; IHI 0048B 4.3.12 (GICD_ITARGETSRn): a change of an interrupt's CPU targets takes effect on a pending interrupt";
constexpr const char* kUntargetedPending =
    "QEMU 7.2 with more than one CPU records an SPI's pending state per targeted CPU, so GICD_ISPENDR on an SPI that targets no CPU sets nothing; IHI 0048B 4.3.7 (GICD_ISPENDRn): the write sets the interrupt's pending state, and 4.3.12: ITARGETSR only chooses where a pending interrupt is forwarded";
constexpr QemuDeviation kQemuDeviations[] = {
    {"gicd_all_registers.gic", 44,
     "QEMU 7.2 sets SGIs 0-3 pending on a GICD_SPENDSGIR0 word write whose bytes for SGIs 1-3 are zero; "
     "IHI 0048B 4.3 (GICD_SPENDSGIRn): writing 0 to a bit has no effect"},
    {"hw_deactivate_after_isactiver.gic", 14,
     "QEMU 7.2 does not deactivate a physical interrupt made active through GICD_ISACTIVER when the guest "
     "EOIs its HW=1 list register (it does when the host acknowledged it); IHI 0048B 5.4: the virtual "
     "EOI of an HW entry deactivates the physical interrupt in the Distributor, whatever made it active"},
    {"gicc_all_registers.gic", 20, kAliasesUnimplemented},
    {"gicc_all_registers.gic", 21, kAliasesUnimplemented},
    {"groups_aliases.gic", 12, kAliasesUnimplemented},
    {"groups_aliases.gic", 13, kAliasesUnimplemented},
    {"groups_aliases.gic", 14, kAliasesUnimplemented},
    {"groups_aliases.gic", 16, kAliasesUnimplemented},
    {"groups_aliases.gic", 17, kAliasesUnimplemented},
    {"groups_aliases.gic", 20, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 7, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 8, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 9, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 10, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 11, kAliasesUnimplemented},
    {"gicv_group_aliases.gic", 13, kAliasesUnimplemented},
    {"groups_distributor_enables.gic", 14, kGroupEnableNotForwarding},
    {"groups_distributor_enables.gic", 15, kGroupEnableNotForwarding},
    {"groups_distributor_enables.gic", 24, kGroupEnableNotForwarding},
    {"groups_distributor_enables.gic", 29, kGroupEnableNotForwarding},
    {"gicv_groups.gic", 25, kVirtualGroupDisabled},
    {"gicv_groups.gic", 28, kVirtualGroupDisabled},
    {"gicv_groups.gic", 39, kVirtualGroupDisabled},
    {"smp_banking_routing.gic", 21, kPpiPendingSmp},
    {"smp_banking_routing.gic", 25, kPpiPendingSmp},
    {"smp_banking_routing.gic", 27, kPpiPendingSmp},
    {"smp_banking_routing.gic", 28, kPpiPendingSmp},
    {"smp_banking_routing.gic", 42, kOneOfN},
    {"smp_banking_routing.gic", 52, kTargetsMovePending},
    {"smp_banking_routing.gic", 54, kTargetsMovePending},
    {"gicd_all_registers.gic", 17, kUntargetedPending},
    {"gicd_all_registers.gic", 19, kUntargetedPending},
    {"groups_distributor_enables.gic", 18, kGroupEnableNotForwarding},
};

const QemuDeviation* qemu_deviation(const std::string& path, int line)
{
    const std::string name = path.substr(path.find_last_of('/') + 1);
    for (const auto& d : kQemuDeviations) {
        if (name == d.case_name && line == d.line) return &d;
    }
    return nullptr;
}

const Allowed* allowed(std::uint64_t address)
{
    for (const auto& a : kAllowed) {
        if (a.address == address) return &a;
    }
    return nullptr;
}

/// How a case's line is replayed: a register access (both sides), a
/// change of accessing CPU, or (machine mode) a look at nIRQ or nFIQ.
enum class Kind { access, cpu, irq, fiq };

struct Command {
    int line;
    std::string text;
    bool is_read;
    std::uint64_t address;
    Kind kind = Kind::access;
    unsigned cpu = 0; ///< the CPU that makes the access, or the one looked at
};

struct Case {
    std::vector<Command> commands;
    std::string skip_reason;
    unsigned cpus_needed = 1; ///< one more than the highest CPU it names
};

/// `machine`: replayed on the bare-metal agent, which makes each access
/// from the CPU the case selects and can read each CPU's IRQ/FIQ lines.
Case load(const std::string& path, bool machine)
{
    Case c;
    std::ifstream in(path);
    std::string raw;
    int line = 0;
    unsigned cpu = 0;
    const char* via = machine ? "the agent" : "qtest";
    while (std::getline(in, raw)) {
        ++line;
        const std::string text = raw.substr(0, raw.find('#'));
        std::istringstream words(text);
        std::vector<std::string> t;
        for (std::string w; words >> w;) t.push_back(w);
        if (t.empty()) continue;
        const std::string joined = fmt::format("{}", fmt::join(t, " "));
        if (machine && (t[0] == "irq" || t[0] == "fiq") && t.size() == 2) {
            const auto target = static_cast<unsigned>(std::stoul(t[1], nullptr, 0));
            c.cpus_needed = std::max(c.cpus_needed, target + 1);
            c.commands.push_back({line, joined, true, 0, t[0] == "irq" ? Kind::irq : Kind::fiq, target});
            continue;
        }
        if (t[0] == "irq" || t[0] == "fiq" || t[0] == "virq" || t[0] == "vfiq" || t[0] == "maint" || t[0] == "step") continue;
        if (t[0] == "cpu" && t.size() == 2) {
            cpu = static_cast<unsigned>(std::stoul(t[1], nullptr, 0));
            c.cpus_needed = std::max(c.cpus_needed, cpu + 1);
            if (!machine && cpu != 0) {
                c.skip_reason = fmt::format("line {}: another CPU cannot be selected through qtest", line);
                return c;
            }
            c.commands.push_back({line, joined, false, 0, Kind::cpu, cpu});
            continue;
        }
        if (t[0] == "readl" || t[0] == "readb" || t[0] == "writel" || t[0] == "writeb") {
            c.commands.push_back({line, joined, t[0][0] == 'r', std::stoull(t[1], nullptr, 0), Kind::access, cpu});
            continue;
        }
        c.skip_reason = fmt::format("line {}: '{}' cannot be replayed through {}", line, t[0], via);
        return c;
    }
    return c;
}

/// A child process whose standard input and output are pipes to us.
struct Child {
    pid_t pid;
    FILE* to;
    FILE* from;
};

std::optional<Child> spawn(const std::vector<std::string>& args)
{
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return std::nullopt;
    const pid_t pid = fork();
    if (pid < 0) return std::nullopt;
    if (pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        close(to_child[1]);
        close(from_child[0]);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    return Child{pid, fdopen(to_child[1], "w"), fdopen(from_child[0], "r")};
}

void finish(Child& child)
{
    if (child.to != nullptr) std::fclose(child.to);
    std::fclose(child.from);
    kill(child.pid, SIGTERM);
    int status = 0;
    waitpid(child.pid, &status, 0);
}

/// Runs the commands through QEMU and returns one answer per command.
std::optional<std::vector<std::string>> run_qemu(const std::string& qemu, const std::vector<Command>& commands)
{
    auto child = spawn({qemu, "-M", "virt,gic-version=2,virtualization=on", "-cpu", "cortex-a57", "-display", "none",
                        "-nodefaults", "-qtest", "stdio"});
    if (!child) return std::nullopt;
    std::string script;
    std::size_t expected = 0;
    for (const auto& c : commands) {
        if (c.kind != Kind::access) continue; // only CPU 0, which qtest is
        script += c.text + "\n";
        ++expected;
    }
    // qtest answers every line; write everything, then read the answers.
    FILE* in = child->from;
    std::fputs(script.c_str(), child->to);
    std::fclose(child->to);
    child->to = nullptr;
    std::vector<std::string> answers;
    char buffer[512];
    while (answers.size() < expected && std::fgets(buffer, sizeof buffer, in) != nullptr) {
        std::string l(buffer);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
        if (l.empty() || l[0] == '[' || l.rfind("IRQ", 0) == 0) continue; // log lines, IRQ notifications
        answers.push_back(l);
    }
    finish(*child);
    if (answers.size() != expected) return std::nullopt;
    // One answer per command, as run_machine gives them.
    std::vector<std::string> all;
    std::size_t next = 0;
    for (const auto& c : commands) all.push_back(c.kind == Kind::access ? answers[next++] : "OK");
    return all;
}

/// Runs the commands on the bare-metal agent (agent/agent.c) booted on
/// `cpus` CPUs of a virt machine, one request at a time; answers in
/// gic-script's form.
std::optional<std::vector<std::string>> run_machine(const std::string& qemu, const std::string& agent, unsigned cpus,
                                                    const std::vector<Command>& commands)
{
    auto child = spawn({qemu, "-M", "virt,gic-version=2,virtualization=on", "-cpu", "cortex-a57", "-smp",
                        std::to_string(cpus), "-m", "128", "-display", "none", "-nodefaults", "-serial", "stdio",
                        "-kernel", agent});
    if (!child) return std::nullopt;
    FILE* out = child->to;
    FILE* in = child->from;
    char buffer[256];
    auto read_line = [&]() -> std::optional<std::string> {
        if (std::fgets(buffer, sizeof buffer, in) == nullptr) return std::nullopt;
        std::string l(buffer);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
        return l;
    };
    std::optional<std::vector<std::string>> result;
    const auto ready = read_line();
    if (ready && *ready == fmt::format("READY {:x}", cpus)) {
        std::vector<std::string> answers;
        for (const auto& c : commands) {
            if (c.kind == Kind::cpu) {
                answers.push_back("OK");
                continue;
            }
            std::istringstream words(c.text);
            std::string verb, addr, value;
            words >> verb >> addr >> value;
            char op = 'S';
            if (c.kind == Kind::access) op = verb == "readl" ? 'R' : verb == "readb" ? 'r' : verb == "writel" ? 'W' : 'w';
            const std::uint64_t a = c.kind == Kind::access ? std::stoull(addr, nullptr, 0) : 0;
            const std::uint64_t v = value.empty() ? 0 : std::stoull(value, nullptr, 0);
            std::fprintf(out, "%c %x %llx %llx\n", op, c.cpu, static_cast<unsigned long long>(a),
                         static_cast<unsigned long long>(v));
            std::fflush(out);
            const auto line = read_line();
            if (!line) break;
            const std::uint64_t got = std::stoull(*line, nullptr, 16);
            // ISR_EL1: I [7] is nIRQ, F [6] nFIQ.
            if (c.kind == Kind::irq) answers.push_back(got >> 7 & 1 ? "OK 1" : "OK 0");
            else if (c.kind == Kind::fiq) answers.push_back(got >> 6 & 1 ? "OK 1" : "OK 0");
            else if (!c.is_read) answers.push_back("OK");
            else answers.push_back(verb == "readb" ? fmt::format("OK 0x{:02x}", got) : fmt::format("OK 0x{:08x}", got));
        }
        if (answers.size() == commands.size()) result = std::move(answers);
    }
    finish(*child);
    return result;
}

/// The level an `irq`/`fiq` answer names.
std::optional<std::uint64_t> level_of(const std::string& answer)
{
    if (answer == "OK 0") return 0;
    if (answer == "OK 1") return 1;
    return std::nullopt;
}

std::optional<std::uint64_t> value_of(const std::string& answer)
{
    if (answer.rfind("OK 0x", 0) != 0) return std::nullopt;
    return std::stoull(answer.substr(3), nullptr, 16);
}

} // namespace

int main(int argc, char** argv)
{
    std::string agent;
    unsigned cpus = 1;
    int first = 1;
    while (first + 1 < argc && argv[first][0] == '-') {
        const std::string opt = argv[first];
        if (opt == "--machine") agent = argv[first + 1];
        else if (opt == "--cpus") cpus = static_cast<unsigned>(std::stoul(argv[first + 1]));
        else break;
        first += 2;
    }
    if (argc - first < 2 || cpus < 1 || cpus > 8) {
        std::fprintf(stderr, "usage: fwdsim-gic-diff [--machine AGENT_ELF [--cpus N]] QEMU_BINARY CASE.gic...\n");
        return 2;
    }
    const bool machine = !agent.empty();
    const std::string qemu = argv[first];
    int failures = 0;
    std::size_t reads_total = 0, allowed_total = 0, differ_total = 0, skipped = 0, qemu_total = 0;
    for (int a = first + 1; a < argc; ++a) {
        const std::string path = argv[a];
        const Case c = load(path, machine);
        if (c.skip_reason.empty() && c.cpus_needed > cpus) {
            std::printf("SKIP %s: names CPU %u, runs on %u CPUs or more\n", path.c_str(), c.cpus_needed - 1, c.cpus_needed);
            ++skipped;
            continue;
        }
        if (!c.skip_reason.empty()) {
            std::printf("SKIP %s: %s\n", path.c_str(), c.skip_reason.c_str());
            ++skipped;
            continue;
        }
        fwdsim::gic::GicScriptOptions options;
        options.irqs = 288;
        options.priority_bits = 8;
        options.lrs = 4;
        options.cpus = cpus;
        fwdsim::gic::GicScript model(options);
        const auto qemu_answers = machine ? run_machine(qemu, agent, cpus, c.commands) : run_qemu(qemu, c.commands);
        if (!qemu_answers) {
            std::printf("FAIL %s: QEMU did not answer every command\n", path.c_str());
            ++failures;
            continue;
        }
        std::size_t reads = 0, differ = 0, ok_allowed = 0, qemu_bugs = 0;
        for (std::size_t i = 0; i < c.commands.size(); ++i) {
            const Command& cmd = c.commands[i];
            const std::string mine = model.execute(cmd.text);
            if (!cmd.is_read) continue;
            ++reads;
            const bool line = cmd.kind == Kind::irq || cmd.kind == Kind::fiq;
            const auto m = line ? level_of(mine) : value_of(mine);
            const auto q = line ? level_of((*qemu_answers)[i]) : value_of((*qemu_answers)[i]);
            if (m && q && *m == *q) continue;
            if (const QemuDeviation* dev = qemu_deviation(path, cmd.line)) {
                ++qemu_bugs;
                std::printf("  qemu-deviation %s:%d %s: fwdsim %s, QEMU %s (%s)\n", path.c_str(), cmd.line,
                            cmd.text.c_str(), mine.c_str(), (*qemu_answers)[i].c_str(), dev->why);
                continue;
            }
            if (const Allowed* why = allowed(cmd.address)) {
                ++ok_allowed;
                std::printf("  allowed %s:%d %s: fwdsim %s, QEMU %s (%s)\n", path.c_str(), cmd.line, cmd.text.c_str(),
                            mine.c_str(), (*qemu_answers)[i].c_str(), why->why);
                continue;
            }
            ++differ;
            std::printf("  DIFF %s:%d %s: fwdsim %s, QEMU %s\n", path.c_str(), cmd.line, cmd.text.c_str(), mine.c_str(),
                        (*qemu_answers)[i].c_str());
        }
        std::printf("%s %s: %zu reads compared, %zu allowed differences, %zu QEMU deviations, %zu differences\n",
                    differ ? "FAIL" : "PASS", path.c_str(), reads, ok_allowed, qemu_bugs, differ);
        qemu_total += qemu_bugs;
        reads_total += reads;
        allowed_total += ok_allowed;
        differ_total += differ;
        if (differ) ++failures;
    }
    std::printf("TOTAL %d cases on %u CPU(s)%s, %zu skipped, %zu reads, %zu allowed, %zu QEMU deviations, %zu differing\n",
                argc - first - 1, cpus, machine ? " (bare-metal agent)" : " (qtest)",
                skipped, reads_total, allowed_total, qemu_total, differ_total);
    return failures == 0 ? 0 : 1;
}
