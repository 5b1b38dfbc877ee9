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
    {"gicv_groups.gic", 23, kVirtualGroupDisabled},
    {"gicv_groups.gic", 26, kVirtualGroupDisabled},
    {"gicv_groups.gic", 37, kVirtualGroupDisabled},
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

struct Command {
    int line;
    std::string text;
    bool is_read;
    std::uint64_t address;
};

struct Case {
    std::vector<Command> commands;
    std::string skip_reason;
};

Case load(const std::string& path)
{
    Case c;
    std::ifstream in(path);
    std::string raw;
    int line = 0;
    while (std::getline(in, raw)) {
        ++line;
        const std::string text = raw.substr(0, raw.find('#'));
        std::istringstream words(text);
        std::vector<std::string> t;
        for (std::string w; words >> w;) t.push_back(w);
        if (t.empty()) continue;
        if (t[0] == "irq" || t[0] == "fiq" || t[0] == "virq" || t[0] == "vfiq" || t[0] == "maint" || t[0] == "step") continue;
        if (t[0] == "cpu" && t.size() == 2 && t[1] == "0") continue;
        if (t[0] == "readl" || t[0] == "readb" || t[0] == "writel" || t[0] == "writeb") {
            c.commands.push_back({line, fmt::format("{}", fmt::join(t, " ")), t[0][0] == 'r',
                                  std::stoull(t[1], nullptr, 0)});
            continue;
        }
        c.skip_reason = fmt::format("line {}: '{}' cannot be replayed through qtest", line, t[0]);
        return c;
    }
    return c;
}

/// Runs the commands through QEMU and returns one answer per command.
std::optional<std::vector<std::string>> run_qemu(const std::string& qemu, const std::vector<Command>& commands)
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
        execl(qemu.c_str(), qemu.c_str(), "-M", "virt,gic-version=2,virtualization=on", "-cpu", "cortex-a57",
              "-display", "none", "-nodefaults", "-qtest", "stdio", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    std::string script;
    for (const auto& c : commands) script += c.text + "\n";
    // qtest answers every line; write everything, then read the answers.
    FILE* out = fdopen(to_child[1], "w");
    FILE* in = fdopen(from_child[0], "r");
    std::fputs(script.c_str(), out);
    std::fclose(out);
    std::vector<std::string> answers;
    char buffer[512];
    while (answers.size() < commands.size() && std::fgets(buffer, sizeof buffer, in) != nullptr) {
        std::string l(buffer);
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
        if (l.empty() || l[0] == '[' || l.rfind("IRQ", 0) == 0) continue; // log lines, IRQ notifications
        answers.push_back(l);
    }
    std::fclose(in);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    if (answers.size() != commands.size()) return std::nullopt;
    return answers;
}

std::optional<std::uint64_t> value_of(const std::string& answer)
{
    if (answer.rfind("OK 0x", 0) != 0) return std::nullopt;
    return std::stoull(answer.substr(3), nullptr, 16);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: fwdsim-gic-diff QEMU_BINARY CASE.gic...\n");
        return 2;
    }
    const std::string qemu = argv[1];
    int failures = 0;
    std::size_t reads_total = 0, allowed_total = 0, differ_total = 0, skipped = 0, qemu_total = 0;
    for (int a = 2; a < argc; ++a) {
        const std::string path = argv[a];
        const Case c = load(path);
        if (!c.skip_reason.empty()) {
            std::printf("SKIP %s: %s\n", path.c_str(), c.skip_reason.c_str());
            ++skipped;
            continue;
        }
        fwdsim::gic::GicScriptOptions options;
        options.irqs = 288;
        options.priority_bits = 8;
        options.lrs = 4;
        fwdsim::gic::GicScript model(options);
        const auto qemu_answers = run_qemu(qemu, c.commands);
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
            const auto m = value_of(mine);
            const auto q = value_of((*qemu_answers)[i]);
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
    std::printf("TOTAL %d cases, %zu skipped, %zu reads, %zu allowed, %zu QEMU deviations, %zu differing\n", argc - 2,
                skipped, reads_total, allowed_total, qemu_total, differ_total);
    return failures == 0 ? 0 : 1;
}
