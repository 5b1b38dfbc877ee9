// Golden gic-script cases: every tests/gic/scripts/NAME.gic runs through the
// script engine and must answer exactly NAME.expected, line by line.  The
// same files are what the differential runner replays against QEMU.
#include <fwdsim/gic/gic_script.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace fwdsim::gic;

TEST_CASE("every golden gic-script answers as recorded")
{
    int cases = 0;
    for (const auto& entry : std::filesystem::directory_iterator(FWDSIM_GIC_SCRIPTS)) {
        if (entry.path().extension() != ".gic") continue;
        auto expected_path = entry.path();
        expected_path.replace_extension(".expected");
        INFO(entry.path().filename().string());
        std::ifstream script(entry.path()), expected(expected_path);
        REQUIRE(expected.good());
        std::ostringstream out;
        run_gic_script(script, out, GicScriptOptions{});
        std::istringstream got(out.str());
        std::string want_line, got_line;
        int line = 0;
        while (std::getline(expected, want_line)) {
            ++line;
            REQUIRE(std::getline(got, got_line));
            INFO("answer " << line);
            CHECK(got_line == want_line);
        }
        CHECK_FALSE(std::getline(got, got_line));
        ++cases;
    }
    CHECK(cases >= 3);
}

TEST_CASE("malformed script lines answer ERR and the script goes on")
{
    GicScript s(GicScriptOptions{});
    CHECK(s.execute("frob") == "ERR unknown command 'frob'");
    CHECK(s.execute("readl") .rfind("ERR", 0) == 0);
    CHECK(s.execute("readl 0x1000").rfind("ERR", 0) == 0);
    CHECK(s.execute("readl 0x08000002").rfind("ERR", 0) == 0);
    CHECK(s.execute("writeb 0x08000400 0x100").rfind("ERR", 0) == 0);
    CHECK(s.execute("spi 5 1").rfind("ERR", 0) == 0);
    CHECK(s.execute("cpu 3").rfind("ERR", 0) == 0);
    CHECK(s.execute("# only a comment").empty());
    CHECK(s.execute("readl 0x08000008") == "OK 0x0200143b");
}
