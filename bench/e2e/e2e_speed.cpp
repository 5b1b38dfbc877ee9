// e2e-speed: how fast whole systems simulate (docs/performance.md).
//
//   e2e-speed [--quick] [--headline [--only forwarded|irqfd]] [--devices N]
//             [--memory] [--csv OUT.csv] [headline.yaml]
//
// * headline: the headline scenario (one level-triggered platform device,
//   idle guest, 20 k interrupts per simulated second) under forwarded and
//   irqfd; simulated interrupts delivered per host second of this thread's
//   CPU time (wall time printed too; the shared host inflates it), best of 3.
// * scaling: host nanoseconds per delivered interrupt from 1 to 64
//   devices, 64 to 1020 interrupt IDs, 1 to 8 vCPUs (forwarded; the total
//   interrupt rate held constant, so only the system's size changes).
// * --headline, --devices N: one row (the headline's, or the devices
//   series' with N devices) and nothing else, for profiling one size.
// * --csv: the rows also go to OUT.csv, for bench/e2e/plot_scaling.py.
// * --memory: builds an 8-CPU system with a GIC of 1020 IDs (988 SPIs; the
//   VM's vgic takes 992, the most a vgic-v2 takes), 7 vCPUs and 480 devices
//   forwarded (the VMM has 1024 fds), runs it, and prints ru_maxrss; run
//   it alone, as the peak is per process.
#include <fwdsim/scenario/config.h>
#include <fwdsim/scenario/system.h>

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

struct Run {
    double wall_s = 0;
    double cpu_s = 0; ///< this thread's CPU time: what the noisy shared host does not inflate
    std::uint64_t delivered = 0;
    std::uint64_t events = 0;
    double ns_per_irq() const { return delivered ? cpu_s * 1e9 / static_cast<double>(delivered) : 0; }
    double irqs_per_s() const { return cpu_s > 0 ? static_cast<double>(delivered) / cpu_s : 0; }
};

double thread_cpu_s()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/// Builds the system, then times only the simulation (not construction).
Run run_once(const ScenarioConfig& c)
{
    System sys(c, load_profile(c));
    sys.start();
    const double c0 = thread_cpu_s();
    const auto t0 = std::chrono::steady_clock::now();
    sys.run_for(sys.us(c.duration_us));
    const auto t1 = std::chrono::steady_clock::now();
    Run r;
    r.cpu_s = thread_cpu_s() - c0;
    r.wall_s = std::chrono::duration<double>(t1 - t0).count();
    const RunResult rr = sys.report();
    for (const auto& i : rr.irqs) r.delivered += i.delivered;
    r.events = rr.events;
    if (const auto broken = sys.check(); !broken.empty()) std::fprintf(stderr, "e2e-speed: invariant broken: %s\n", broken.front().c_str());
    return r;
}

Run best_of(const ScenarioConfig& c, int reps)
{
    Run best;
    for (int i = 0; i < reps; ++i) {
        const Run r = run_once(c);
        if (i == 0 || r.ns_per_irq() < best.ns_per_irq()) best = r;
    }
    return best;
}

/// `n` platform devices, one level IRQ each on SPIs first_spi.. of the GIC
/// and first_guest_spi.. of the VM, the total rate `rate` shared evenly,
/// delivered `mode`.
void set_devices(ScenarioConfig& c, unsigned n, unsigned first_spi, unsigned first_guest_spi, double rate,
                 DeliveryMode mode)
{
    const DeviceIrqConfig proto = c.devices.at(0).irqs.at(0);
    c.devices.clear();
    for (unsigned k = 0; k < n; ++k) {
        DeviceConfig d;
        d.name = "plat" + std::to_string(k);
        d.kind = DeviceKind::platform;
        d.vm = c.vms.at(0).name;
        d.iommu_group = k + 1;
        DeviceIrqConfig irq = proto;
        irq.host_irq = first_spi + k;
        irq.guest_irq = first_guest_spi + k;
        irq.delivery = mode;
        irq.traffic.kind = TrafficConfig::Kind::poisson;
        irq.traffic.rate_per_s = rate / n;
        d.irqs.push_back(irq);
        c.devices.push_back(d);
    }
}

std::FILE* g_csv = nullptr; ///< --csv: the rows again, machine-readable

void print_row(const char* what, const std::string& x, const Run& r)
{
    const double events_per_irq = r.delivered ? static_cast<double>(r.events) / static_cast<double>(r.delivered) : 0.0;
    if (g_csv != nullptr) {
        std::fprintf(g_csv, "%s,%s,%llu,%.6f,%.1f,%.1f\n", what, x.c_str(), static_cast<unsigned long long>(r.delivered), r.cpu_s,
                     r.ns_per_irq(), events_per_irq);
    }
    std::printf("| %s | %s | %llu | %.3f | %.3f | %.0f | %.2f M | %.1f |\n", what, x.c_str(), static_cast<unsigned long long>(r.delivered), r.wall_s, r.cpu_s,
                r.ns_per_irq(), r.irqs_per_s() / 1e6, events_per_irq);
}

long peak_rss_kib()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss; // KiB on Linux
}

int memory(const ScenarioConfig& base)
{
    ScenarioConfig c = base;
    c.host_cpus = 8;
    c.gic_irqs = 1020; // 988 SPIs; the VM's vgic gets 992 (NR_IRQS % 32 == 0, <= 1023)
    c.vms.at(0).vcpus = 7;
    c.vms.at(0).pin = {1, 2, 3, 4, 5, 6, 7};
    c.duration_us = 20'000;
    c.warmup_us = 0;
    // A device on every SPI does not fit: the VMM's process has 1024 fds
    // (EMFILE at the 507th device), so half the SPIs get one.
    set_devices(c, 480, 32, 32, 50'000, DeliveryMode::forwarded);
    const long before = peak_rss_kib();
    const Run r = run_once(c);
    std::printf("8 CPUs, 1020 IDs (988 SPIs), 7 vCPUs, 480 devices forwarded: delivered %llu in %.3f s; "
                "peak RSS %ld KiB (%.1f MiB; %ld KiB before building it)\n",
                static_cast<unsigned long long>(r.delivered), r.wall_s, peak_rss_kib(), static_cast<double>(peak_rss_kib()) / 1024.0, before);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    bool quick = false, mem = false, headline_only = false;
    std::string path = FWDSIM_HEADLINE;
    const char* csv_path = nullptr;
    const char* only = nullptr;
    unsigned devices_only = 0; ///< --devices N: that row alone
    const char* const usage = "usage: e2e-speed [--quick] [--headline [--only forwarded|irqfd]] [--devices N]\n"
                              "                 [--memory] [--csv OUT.csv] [headline.yaml]\n"
                              "(docs/performance.md says what each row measures)\n";
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::fputs(usage, stdout);
            return 0;
        }
        if ((std::strcmp(argv[i], "--csv") == 0 || std::strcmp(argv[i], "--only") == 0 ||
             std::strcmp(argv[i], "--devices") == 0) && !has_value) {
            std::fprintf(stderr, "e2e-speed: %s needs a value\n%s", argv[i], usage);
            return 2;
        }
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        else if (std::strcmp(argv[i], "--memory") == 0) mem = true;
        else if (std::strcmp(argv[i], "--headline") == 0) headline_only = true; // for profiling
        else if (std::strcmp(argv[i], "--csv") == 0) csv_path = argv[++i];
        else if (std::strcmp(argv[i], "--only") == 0) only = argv[++i];
        else if (std::strcmp(argv[i], "--devices") == 0) {
            char* end = nullptr;
            const unsigned long n = std::strtoul(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end != '\0' || n == 0 || n > 1020) {
                std::fprintf(stderr, "e2e-speed: --devices takes a positive count, not '%s'\n", argv[i]);
                return 2;
            }
            devices_only = static_cast<unsigned>(n);
        } else if (argv[i][0] == '-') {
            // A mistyped option is not a scenario file's name.
            std::fprintf(stderr, "e2e-speed: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else path = argv[i];
    }
    if (only != nullptr && std::string_view(only) != "forwarded" && std::string_view(only) != "irqfd") {
        std::fprintf(stderr, "e2e-speed: --only takes forwarded or irqfd, not '%s'\n", only);
        return 2;
    }
    try {
        ScenarioConfig base = load_scenario(path);
        if (csv_path != nullptr) {
            g_csv = std::fopen(csv_path, "w");
            if (g_csv == nullptr) {
                std::fprintf(stderr, "e2e-speed: --csv %s: %s\n", csv_path, std::strerror(errno));
                return 1;
            }
            std::fprintf(g_csv, "series,x,delivered,cpu_s,cpu_ns_per_irq,events_per_irq\n");
        }
        if (mem) return memory(base);
        const int reps = quick ? 1 : 3;
        const double sim_us = quick ? 100'000 : 5'000'000; // simulated time per run
        const double rate = 20'000;                         // interrupts per simulated second, well below saturation
        base.warmup_us = 0;
        base.duration_us = sim_us;

        if (devices_only != 0) {
            // The series puts device k on SPI 48 + k of both the GIC and the VM.
            const unsigned room = std::min(base.gic_irqs, vm_irqs(base, base.vms.at(0))) - 48;
            if (devices_only > room) {
                std::fprintf(stderr, "e2e-speed: --devices %u: the scenario's GIC and vgic have room for %u (SPIs 48 up)\n", devices_only, room);
                return 2;
            }
        }

        std::printf("| series | x | delivered | wall s | CPU s | CPU ns / irq | irqs / CPU s | events / irq |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        if (devices_only != 0) {
            ScenarioConfig c = base;
            set_devices(c, devices_only, 48, 48, rate, DeliveryMode::forwarded);
            print_row("devices", std::to_string(devices_only), best_of(c, reps));
            return 0;
        }
        for (DeliveryMode mode : {DeliveryMode::forwarded, DeliveryMode::irqfd}) {
            if (only != nullptr && to_string(mode) != std::string_view(only)) continue;
            ScenarioConfig c = base;
            set_devices(c, 1, 48, 48, rate, mode);
            print_row("headline", std::string(to_string(mode)), best_of(c, reps));
        }
        if (headline_only) return 0;
        for (unsigned n : {1u, 4u, 16u, 64u}) {
            ScenarioConfig c = base;
            set_devices(c, n, 48, 48, rate, DeliveryMode::forwarded);
            print_row("devices", std::to_string(n), best_of(c, reps));
        }
        for (unsigned ids : {64u, 128u, 256u, 512u, 992u, 1020u}) {
            ScenarioConfig c = base;
            c.gic_irqs = ids;
            // The GIC's highest SPI, onto the VM's highest (its vgic has at most 992).
            set_devices(c, 1, ids - 1, std::min(ids, 992u) - 1, rate, DeliveryMode::forwarded);
            print_row("interrupt IDs", std::to_string(ids), best_of(c, reps));
        }
        for (unsigned v : {1u, 2u, 4u, 8u}) {
            ScenarioConfig c = base;
            c.host_cpus = std::min(8u, v + 1);
            c.vms.at(0).vcpus = v;
            c.vms.at(0).pin.clear();
            // One vCPU per CPU: the series measures system size, not CPU
            // sharing (vCPUs on one CPU take turns by the host's time slice);
            // the 8th shares CPU 0 with the host.
            for (unsigned i = 0; i < v; ++i) c.vms.at(0).pin.push_back(i < 7 ? 1 + i : 0);
            set_devices(c, 1, 48, 48, rate, DeliveryMode::forwarded);
            print_row("vCPUs", std::to_string(v), best_of(c, reps));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "e2e-speed: %s\n", e.what());
        return 1;
    }
    return 0;
}
