// microbench-table: runs every microbenchmark of docs/calibration.md with a
// profile (the built-in default, or the file given) and prints the table.
#include <fwdsim/guest/microbench.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv)
{
    using namespace fwdsim;
    try {
        const sim::CostProfile profile = argc > 1 ? sim::CostProfile::load(argv[1]) : sim::CostProfile::builtin_default();
        std::printf("profile %s\n%-44s %10s %10s %8s\n", profile.name().c_str(), "microbenchmark", "paper", "fwdsim", "diff");
        for (const auto& i : guest::microbenchmarks()) {
            const guest::MicrobenchResult r = guest::run_microbench(i.kind, profile);
            if (!r.modelled) {
                std::printf("%-44s %10llu %10s %8s  %s\n", i.title, static_cast<unsigned long long>(i.paper_kvm_arm), "-", "-", r.note.c_str());
                continue;
            }
            const double diff = i.paper_kvm_arm ? 100.0 * (r.mean() - static_cast<double>(i.paper_kvm_arm)) / static_cast<double>(i.paper_kvm_arm) : 0.0;
            std::printf("%-44s %10llu %10.0f %+7.1f%%  (min %llu max %llu n %zu)\n", i.title, static_cast<unsigned long long>(i.paper_kvm_arm),
                        r.mean(), diff, static_cast<unsigned long long>(r.min()), static_cast<unsigned long long>(r.max()), r.samples.size());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "microbench-table: %s\n", e.what());
        return 1;
    }
    return 0;
}
