// Result files: nothing half-written under the real name, every write error
// seen, and merge/resume accept only complete records of one grid.
#include <fwdsim/scenario/result_files.h>
#include <fwdsim/sim/config_error.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace fwdsim;
using namespace fwdsim::scenario;

namespace {

RunResult make_run(std::size_t point, const std::string& irq_name = "plat0.")
{
    RunResult r;
    r.scenario = "t";
    r.point = point;
    r.params = {{"seed", std::to_string(point)}};
    r.seed = 1;
    r.profile = "p";
    for (int n = 0; n < 2; ++n) {
        IrqResult i;
        i.name = irq_name + std::to_string(n);
        i.delivery = "irqfd";
        i.raised = i.delivered = 10 + point;
        i.to_ack.record(100 + point);
        r.irqs.push_back(i);
    }
    return r;
}

const GridId kGrid{GridId::kFormat, 0x1234, 7, 4};

std::string shard(ResultFormat f, std::initializer_list<std::size_t> points, const GridId& grid = kGrid,
                  const std::string& name = "plat0.")
{
    std::string text = f == ResultFormat::csv ? sweep_csv_header() : "";
    for (std::size_t p : points) text += sweep_record(f, make_run(p, name), grid);
    return text;
}

std::string slurp(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void refused(ResultFormat f, const std::vector<std::pair<std::string, std::string>>& files, const std::string& words)
{
    try {
        (void)merge_results(f, files);
        FAIL("merged");
    } catch (const sim::ConfigError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(words) != std::string::npos);
    }
}

} // namespace

TEST_CASE("an output file appears under its name only when committed, and a write error is reported")
{
    const auto dir = std::filesystem::temp_directory_path() / "fwdsim-result-files-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto path = (dir / "out.jsonl").string();
    {
        std::ofstream(path) << "old\n";
        OutputFile f(path, "--json");
        f.write("new\n");
        f.flush();
        CHECK(slurp(path) == "old\n");            // the old file stays whole meanwhile
        CHECK(slurp(path + ".partial") == "new\n"); // what is finished is on disk
    } // not committed: the .partial goes, the old file stays
    CHECK(slurp(path) == "old\n");
    CHECK_FALSE(std::filesystem::exists(path + ".partial"));
    {
        OutputFile f(path, "--json");
        f.write("new\n");
        f.commit();
    }
    CHECK(slurp(path) == "new\n");
    CHECK_FALSE(std::filesystem::exists(path + ".partial"));
    CHECK_THROWS_WITH(OutputFile(dir.string(), "--csv"), Catch::Contains("is a directory"));
    CHECK_THROWS_WITH(OutputFile((dir / "no/such/dir/x.csv").string(), "--csv"), Catch::Contains("No such file"));
    if (std::filesystem::exists("/dev/full")) {
        OutputFile full("/dev/full", "--json");
        const auto fill = [&](std::size_t n) {
            full.write(std::string(n, 'x'));
            full.commit();
        };
        CHECK_THROWS_WITH(fill(10), Catch::Contains("No space left on device"));
        OutputFile big("/dev/full", "--json");
        CHECK_THROWS_WITH(big.write(std::string(1 << 20, 'x')), Catch::Contains("No space left on device"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("merge joins the shards of one grid in point order, and its output merges again")
{
    for (const ResultFormat f : {ResultFormat::json_lines, ResultFormat::csv}) {
        const std::string merged = merge_results(f, {{"b", shard(f, {1, 3})}, {"a", shard(f, {0, 2})}});
        CHECK(merged == shard(f, {0, 1, 2, 3}));
        CHECK(merge_results(f, {{"m", merged}}) == merged);
        // A shard with no point (more shards than points) is fine.
        CHECK(merge_results(f, {{"m", merged}, {"e", f == ResultFormat::csv ? sweep_csv_header() : ""}}) == merged);
    }
}

TEST_CASE("merge re-reads a CSV whose names hold newlines, commas and quotes")
{
    const std::string awkward = "dev\n\"x\",y.";
    const std::string text = shard(ResultFormat::csv, {0, 1, 2, 3}, kGrid, awkward);
    const ResultFile f = read_results(ResultFormat::csv, "s", text);
    CHECK(f.records.size() == 4);
    CHECK(merge_results(ResultFormat::csv, {{"s", text}}) == text);
}

TEST_CASE("merge refuses truncated records, gaps, duplicates and shards of another grid")
{
    for (const ResultFormat f : {ResultFormat::json_lines, ResultFormat::csv}) {
        INFO(static_cast<int>(f));
        const std::string all = shard(f, {0, 1, 2, 3});
        // Cut anywhere inside the last record: no end of line.
        refused(f, {{"s", all.substr(0, all.size() - 7)}}, "cut short");
        refused(f, {{"a", shard(f, {0, 1})}, {"b", shard(f, {3})}}, "1 of the grid's 4 points are missing (2)");
        refused(f, {{"a", shard(f, {0, 1, 2})}, {"b", shard(f, {2, 3})}}, "point 2 also appears in a");
        GridId other = kGrid;
        other.digest = 0x9999;
        refused(f, {{"a", shard(f, {0, 1})}, {"b", shard(f, {2, 3}, other)}}, "another scenario file");
        other = kGrid;
        other.seed = 8;
        refused(f, {{"a", shard(f, {0, 1})}, {"b", shard(f, {2, 3}, other)}}, "another seed");
        other = kGrid;
        other.points = 5;
        refused(f, {{"a", shard(f, {0, 1})}, {"b", shard(f, {2, 3}, other)}}, "another grid");
        other.format = GridId::kFormat + 1; // a later fwdsim's
        refused(f, {{"a", shard(f, {0, 1, 2, 3}, other)}}, "result format " + std::to_string(GridId::kFormat + 1));
        refused(f, {{"a", shard(f, {0, 1, 2, 4})}}, "outside the grid");
    }
    // A JSON line cut and then ended (a torn write followed by another).
    std::string torn = shard(ResultFormat::json_lines, {0});
    torn = torn.substr(0, torn.size() / 2) + "\n" + shard(ResultFormat::json_lines, {1, 2, 3});
    refused(ResultFormat::json_lines, {{"s", torn}}, "cut short or malformed");
    // A CSV row missing fields.
    std::string short_row = shard(ResultFormat::csv, {0, 1, 2, 3});
    short_row.insert(sweep_csv_header().size(), "3,t\n");
    refused(ResultFormat::csv, {{"s", short_row}}, "fields, the header has");
    // What `fwdsim run` writes has no grid: it is not a shard.
    std::ostringstream run;
    write_json_lines(run, {make_run(0)});
    refused(ResultFormat::json_lines, {{"r", run.str()}}, "not a fwdsim sweep record");
}

TEST_CASE("a result sink writes points in order as they finish, with resumed records in place")
{
    const auto dir = std::filesystem::temp_directory_path() / "fwdsim-result-sink-test";
    std::filesystem::create_directories(dir);
    const auto path = (dir / "s.csv").string();
    const auto f = ResultFormat::csv;
    {
        OutputFile file(path, "--csv");
        ResultSink sink(file, f, kGrid, {0, 1, 2, 3}, {{1, sweep_record(f, make_run(1), kGrid)}});
        sink.add(make_run(3));
        sink.add(make_run(2));
        CHECK(slurp(path + ".partial") == sweep_csv_header()); // 0 is not done: nothing after it yet
        sink.add(make_run(0));
        CHECK(slurp(path + ".partial") == shard(f, {0, 1, 2, 3})); // flushed as soon as it could be
        file.commit();
    }
    {
        // Interrupted: what was finished is written, gaps and all.
        OutputFile file(path, "--csv");
        ResultSink sink(file, f, kGrid, {0, 1, 2, 3}, {});
        sink.add(make_run(2));
        sink.drain();
        file.commit();
    }
    CHECK(slurp(path) == shard(f, {2}));
    std::filesystem::remove_all(dir);
}
