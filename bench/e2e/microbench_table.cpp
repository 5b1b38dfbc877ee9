// microbench-table: runs every microbenchmark of docs/calibration.md with a
// profile (the built-in default, or the file given) and prints the table.
// With --paths it derives each benchmark's path from the simulation: every
// primitive is raised by 1000 cycles in turn and the benchmarks that move
// are listed with the primitive's count along their path (delta / 1000).
#include <fwdsim/machine/microbench.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>

int main(int argc, char** argv)
{
    using namespace fwdsim;
    try {
        bool paths = false;
        const char* file = nullptr;
        for (int i = 1; i < argc; ++i) {
            if (std::strcmp(argv[i], "--paths") == 0) paths = true;
            else file = argv[i];
        }
        const sim::CostProfile profile = file ? sim::CostProfile::load(file) : sim::CostProfile::builtin_default();
        if (paths) {
            auto means = [](const sim::CostProfile& p) {
                std::map<std::string, double> m;
                for (const auto& i : guest::microbenchmarks()) m[i.key] = machine::run_microbench(i.kind, p, 4).mean();
                return m;
            };
            const auto base = means(profile);
            std::printf("primitive: benchmark x count along its path\n");
            for (const auto& [key, e] : profile.entries()) {
                sim::CostProfile q = profile;
                q.set(key, e.cycles + sim::Cycles{1000}, e.description, e.source);
                std::string line;
                for (const auto& [bench, v] : means(q)) {
                    const double n = (v - base.at(bench)) / 1000.0;
                    if (std::fabs(n) > 1e-9) line += " " + bench + " x" + std::to_string(static_cast<int>(std::lround(n)));
                }
                if (!line.empty()) std::printf("%s:%s\n", key.c_str(), line.c_str());
            }
            return 0;
        }
        std::printf("profile %s\n%-44s %10s %10s %8s\n", profile.name().c_str(), "microbenchmark", "paper", "fwdsim", "diff");
        for (const auto& i : guest::microbenchmarks()) {
            const machine::MicrobenchResult r = machine::run_microbench(i.kind, profile);
            if (r.samples.empty()) {
                std::printf("%-44s %10llu %10s %8s  %s\n", i.title, static_cast<unsigned long long>(i.paper_kvm_arm), "-", "-", r.note.c_str());
                continue;
            }
            const double diff = i.paper_kvm_arm ? 100.0 * (r.mean() - static_cast<double>(i.paper_kvm_arm)) / static_cast<double>(i.paper_kvm_arm) : 0.0;
            std::printf("%-44s %10llu %10.0f %+7.1f%%  (min %llu max %llu n %zu)%s%s\n", i.title, static_cast<unsigned long long>(i.paper_kvm_arm),
                        r.mean(), diff, static_cast<unsigned long long>(r.min()), static_cast<unsigned long long>(r.max()), r.samples.size(),
                        r.note.empty() ? "" : " ", r.note.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "microbench-table: %s\n", e.what());
        return 1;
    }
    return 0;
}
