#include <fwdsim/scenario/sweep.h>

#include <catch2/catch.hpp>

#include <filesystem>

using namespace fwdsim;

// Every shipped scenario must at least be valid: a user's first run should
// never stop at a typo in our own examples.
TEST_CASE("every example scenario file parses and expands")
{
    const std::filesystem::path dir = std::filesystem::path(FWDSIM_SOURCE_DIR) / "examples" / "scenarios";
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".yaml") continue;
        INFO(entry.path().string());
        const auto points = scenario::load_sweep(entry.path().string());
        CHECK_FALSE(points.empty());
        ++files;
    }
    CHECK(files >= 6);
    const auto headline = scenario::load_sweep((dir / "headline.yaml").string());
    CHECK(headline.size() == 18); // 6 rates x 3 modes
}
