// The front end against a battery of hostile edits of every shipped example:
// each scalar value replaced by each of a list of values a careless or
// hostile user might write, and each line written twice.  Every input must
// be refused with a ConfigError naming the file, a line and a key, or be
// accepted and then build and run a System for a bounded time with every
// invariant holding -- never crash, hang or throw anything else.
// docs/reliability.md reports what this finds.
#include <fwdsim/scenario/sweep.h>
#include <fwdsim/scenario/system.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

const std::vector<std::string> kHostile = {
    ".inf", "-.inf", ".nan", "1e300", "-1", "0", "-0", "1e-300", "0.0001", "1e10", "0x10", "4294967295", "4294967296",
    "18446744073709551615", "18446744073709551616", "''", "~", "[1, 2]", "{a: 1}", "\"x y\"",
};

std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Outcome {
    std::size_t inputs = 0, refused = 0, unlocated = 0, ran = 0;
    std::map<std::string, std::size_t> by_field; ///< refusals by key
};

void try_input(const std::string& text, const std::string& origin, Outcome& out)
{
    ++out.inputs;
    try {
        const Sweep sweep = Sweep::parse(text, origin);
        for (std::size_t i = 0; i < std::min<std::size_t>(sweep.size(), 2); ++i) {
            const SweepPoint p = sweep.point(i);
            System sys(p.config, load_profile(p.config));
            sys.start();
            sys.run_for(sim::Cycles{std::min<std::uint64_t>(50'000, sys.us(p.config.duration_us).count())});
            (void)sys.report();
            const auto broken = sys.check();
            INFO(text);
            CHECK(broken.empty());
        }
        ++out.ran;
    } catch (const sim::ConfigError& e) {
        ++out.refused;
        ++out.by_field[e.field()];
        if (e.line() <= 0 || e.field().empty()) {
            ++out.unlocated;
            UNSCOPED_INFO("refused without a line: " << e.what());
        }
    }
}

} // namespace

TEST_CASE("hostile edits of every example are refused, located, or run: never a crash, hang or stray exception")
{
    const std::filesystem::path dir = std::filesystem::path(FWDSIM_SOURCE_DIR) / "examples" / "scenarios";
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    // A value after "key: " up to the end of the line or of a flow item.
    const std::regex value(R"(([A-Za-z_]+): ([^,{}\[\]\n#]+?)(\s*)(?=[,}\n#]))");
    Outcome out;
    for (const auto& path : files) {
        const std::string text = slurp(path);
        const std::string origin = path.string();
        for (auto it = std::sregex_iterator(text.begin(), text.end(), value); it != std::sregex_iterator(); ++it) {
            const auto& m = *it;
            const auto at = static_cast<std::size_t>(m.position(2));
            const auto len = static_cast<std::size_t>(m.length(2));
            for (const std::string& v : kHostile) {
                std::string edited = text;
                edited.replace(at, len, v);
                try_input(edited, origin, out);
            }
        }
        // Every line written twice: a duplicate key, a repeated list item.
        std::size_t start = 0;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            if (end == std::string::npos) break;
            std::string edited = text;
            edited.insert(end + 1, text.substr(start, end - start + 1));
            try_input(edited, origin, out);
            start = end + 1;
        }
        try_input(text + "---\n" + text, origin, out);
    }
    WARN(out.inputs << " inputs: " << out.refused << " refused (" << out.unlocated << " without a line), " << out.ran
                    << " ran");
    CHECK(out.inputs > 1000);
    CHECK(out.unlocated == 0);
    CHECK(out.refused + out.ran == out.inputs);
}
