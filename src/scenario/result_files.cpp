// Result files: atomic, checked writing; verified reading, merging and
// resuming.  See include/fwdsim/scenario/result_files.h.
#include <fwdsim/scenario/result_files.h>
#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <sys/stat.h>

namespace fwdsim::scenario {

std::string describe(const GridId& grid)
{
    return fmt::format("format {}, scenario digest {:016x}, seed {}, {} points", grid.format, grid.digest, grid.seed,
                       grid.points);
}

ResultFormat format_of(const std::string& path)
{
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0 ? ResultFormat::csv : ResultFormat::json_lines;
}

// --- OutputFile -------------------------------------------------------------

OutputFile::OutputFile(std::string path, std::string key) : path_(std::move(path)), key_(std::move(key))
{
    struct stat st {};
    const bool exists = ::stat(path_.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) fail("is a directory");
    // A device or FIFO (/dev/null, /dev/stdout, a pipe) is written in place:
    // it cannot be renamed over, and its reader wants the bytes as they come.
    const bool in_place = exists && !S_ISREG(st.st_mode);
    partial_ = in_place ? path_ : path_ + ".partial";
    file_ = std::fopen(partial_.c_str(), "wb");
    if (file_ == nullptr) fail(std::strerror(errno));
}

OutputFile::~OutputFile()
{
    if (file_ != nullptr) std::fclose(file_);
    if (!done_ && partial_ != path_) std::remove(partial_.c_str());
}

void OutputFile::fail(const std::string& what) const
{
    throw sim::ConfigError(path_, 0, key_, "cannot write: " + what);
}

void OutputFile::write(std::string_view text)
{
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), file_) != text.size()) fail(std::strerror(errno));
}

void OutputFile::flush()
{
    if (std::fflush(file_) != 0 || std::ferror(file_)) fail(std::strerror(errno));
}

void OutputFile::commit()
{
    flush();
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) fail(std::strerror(errno));
    if (partial_ != path_ && std::rename(partial_.c_str(), path_.c_str()) != 0) fail(std::strerror(errno));
    done_ = true;
}

void OutputFile::keep_partial()
{
    if (file_ != nullptr) {
        std::fclose(file_);
        file_ = nullptr;
    }
    done_ = true;
}

// --- writing sweep records ----------------------------------------------------

namespace {

constexpr std::string_view kGridColumns = ",grid_format,grid_digest,grid_seed,grid_points";

} // namespace

std::string sweep_csv_header()
{
    std::ostringstream out;
    write_csv(out, {}, true);
    std::string header = out.str();
    header.pop_back(); // the newline
    return header + std::string(kGridColumns) + "\n";
}

std::string sweep_record(ResultFormat format, const RunResult& run, const GridId& grid)
{
    std::ostringstream out;
    if (format == ResultFormat::json_lines) {
        write_json_lines(out, {run});
        std::string line = out.str();
        // {"point":N,  then the grid, then the rest as write_json_lines has it.
        const std::size_t comma = line.find(',');
        line.insert(comma + 1, fmt::format(R"("grid":{{"format":{},"digest":"{:016x}","seed":{},"points":{}}},)",
                                           grid.format, grid.digest, grid.seed, grid.points));
        return line;
    }
    write_csv(out, {run}, false);
    // One row per interrupt; a quoted field may hold a newline, so the rows
    // end where a newline falls outside quotes.
    const std::string rows = out.str();
    const std::string columns = fmt::format(",{},{:016x},{},{}", grid.format, grid.digest, grid.seed, grid.points);
    std::string record;
    bool quoted = false;
    for (const char c : rows) {
        if (c == '"') quoted = !quoted;
        if (c == '\n' && !quoted) record += columns;
        record += c;
    }
    return record;
}

// --- reading them back --------------------------------------------------------

namespace {

struct Reader {
    std::string_view text;
    std::size_t at = 0;
    bool eat(std::string_view s)
    {
        if (text.substr(at, s.size()) != s) return false;
        at += s.size();
        return true;
    }
    template <class T>
    bool number(T& out, int base = 10)
    {
        const auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), out, base);
        if (ec != std::errc{} || end == text.data() + at) return false;
        at = static_cast<std::size_t>(end - text.data());
        return true;
    }
};

/// Whether `line` is one complete JSON value: strings closed, brackets
/// balanced, nothing after the outermost close.
bool complete_json(std::string_view line)
{
    int depth = 0;
    bool in_string = false;
    for (std::size_t k = 0; k < line.size(); ++k) {
        const char c = line[k];
        if (in_string) {
            if (c == '\\') ++k;
            else if (c == '"') in_string = false;
            else if (static_cast<unsigned char>(c) < 0x20) return false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
            if (--depth < 0) return false;
            if (depth == 0 && k + 1 != line.size()) return false;
        }
    }
    return depth == 0 && !in_string && !line.empty();
}

struct CsvRow {
    int line = 0;
    std::string raw; ///< with its newline
    std::vector<std::string> fields;
};

/// CSV rows as write_csv writes them: a quoted field may hold commas,
/// doubled quotes and newlines.  A row cut short is refused.
std::vector<CsvRow> csv_rows(const std::string& name, const std::string& text)
{
    std::vector<CsvRow> rows;
    int line = 1;
    std::size_t k = 0;
    while (k < text.size()) {
        CsvRow row;
        row.line = line;
        const std::size_t start = k;
        std::string field;
        bool quoted = false, ended = false;
        for (; k < text.size(); ++k) {
            const char c = text[k];
            if (c == '\n') ++line;
            if (quoted) {
                if (c == '"' && k + 1 < text.size() && text[k + 1] == '"') field += '"', ++k;
                else if (c == '"') quoted = false;
                else field += c;
            } else if (c == '"' && field.empty()) {
                quoted = true;
            } else if (c == ',') {
                row.fields.push_back(std::move(field));
                field.clear();
            } else if (c == '\n') {
                ended = true;
                ++k;
                break;
            } else {
                field += c;
            }
        }
        if (!ended) throw sim::ConfigError(name, row.line, "record", "the last record is cut short (no end of line)");
        row.fields.push_back(std::move(field));
        row.raw = text.substr(start, k - start);
        rows.push_back(std::move(row));
    }
    return rows;
}

void expect_grid(const std::string& name, int line, std::optional<GridId>& grid, const GridId& seen)
{
    if (seen.format != GridId::kFormat) {
        throw sim::ConfigError(name, line, "grid", fmt::format("result format {}, this fwdsim reads {}", seen.format, GridId::kFormat));
    }
    if (seen.points == 0) throw sim::ConfigError(name, line, "grid", "a grid of 0 points");
    if (!grid) grid = seen;
    if (*grid != seen) {
        throw sim::ConfigError(name, line, "grid", fmt::format("of another grid ({}) than the records before it ({})",
                                                               describe(seen), describe(*grid)));
    }
}

void add_point(const std::string& name, int line, ResultFile& out, std::size_t point, const std::string& record)
{
    if (point >= out.grid.points) {
        throw sim::ConfigError(name, line, "point", fmt::format("point {} is outside the grid of {} points", point, out.grid.points));
    }
    if (!out.records.emplace(point, record).second) {
        throw sim::ConfigError(name, line, "point", fmt::format("point {} appears twice", point));
    }
}

} // namespace

ResultFile read_results(ResultFormat format, const std::string& name, const std::string& text)
{
    ResultFile out;
    std::optional<GridId> grid;
    if (format == ResultFormat::json_lines) {
        if (!text.empty() && text.back() != '\n') {
            const auto lines = std::count(text.begin(), text.end(), '\n');
            throw sim::ConfigError(name, static_cast<int>(lines) + 1, "record", "the last record is cut short (no end of line)");
        }
        int line_no = 0;
        std::size_t start = 0;
        while (start < text.size()) {
            const std::size_t end = text.find('\n', start);
            const std::string_view line(text.data() + start, end - start);
            ++line_no;
            start = end + 1;
            Reader r{line};
            std::size_t point = 0;
            GridId seen;
            seen.format = 0;
            const bool head = r.eat(R"({"point":)") && r.number(point) && r.eat(R"(,"grid":{"format":)") &&
                              r.number(seen.format) && r.eat(R"(,"digest":")") && r.number(seen.digest, 16) &&
                              r.eat(R"(","seed":)") && r.number(seen.seed) && r.eat(R"(,"points":)") &&
                              r.number(seen.points) && r.eat("},");
            if (!head) {
                throw sim::ConfigError(name, line_no, "record",
                                       "not a fwdsim sweep record (it starts {\"point\":N,\"grid\":{...}}; `fwdsim run` "
                                       "output has no grid and is not merged)");
            }
            if (!complete_json(line)) throw sim::ConfigError(name, line_no, "record", "the record is cut short or malformed");
            expect_grid(name, line_no, grid, seen);
            out.grid = *grid;
            add_point(name, line_no, out, point, std::string(line) + "\n");
        }
        return out;
    }
    const auto rows = csv_rows(name, text);
    if (rows.empty()) return out;
    out.header = rows[0].raw;
    if (out.header != sweep_csv_header()) {
        throw sim::ConfigError(name, 1, "header", "not the columns of a fwdsim sweep CSV (`fwdsim run` output is not merged)");
    }
    const std::size_t columns = rows[0].fields.size();
    std::size_t last = 0;
    for (std::size_t k = 1; k < rows.size(); ++k) {
        const CsvRow& row = rows[k];
        if (row.fields.size() != columns) {
            throw sim::ConfigError(name, row.line, "record", fmt::format("{} fields, the header has {}", row.fields.size(), columns));
        }
        GridId seen;
        std::size_t point = 0;
        const auto parse = [&](const std::string& s, auto& v, int base = 10) {
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
            if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
                throw sim::ConfigError(name, row.line, "record", "'" + s + "' is not a number");
        };
        parse(row.fields[0], point);
        parse(row.fields[columns - 4], seen.format);
        parse(row.fields[columns - 3], seen.digest, 16);
        parse(row.fields[columns - 2], seen.seed);
        parse(row.fields[columns - 1], seen.points);
        expect_grid(name, row.line, grid, seen);
        out.grid = *grid;
        // A point's rows (one per interrupt) are written together.
        if (k > 1 && point == last) {
            out.records[point] += row.raw;
            continue;
        }
        add_point(name, row.line, out, point, row.raw);
        last = point;
    }
    return out;
}

std::string merge_results(ResultFormat format, const std::vector<std::pair<std::string, std::string>>& files)
{
    std::optional<GridId> grid;
    std::string first_name;
    std::map<std::size_t, std::pair<std::string, std::string>> all; // point -> (file, record)
    for (const auto& [name, text] : files) {
        ResultFile f = read_results(format, name, text);
        if (f.records.empty()) continue; // a shard can hold no point (more shards than points)
        if (!grid) {
            grid = f.grid;
            first_name = name;
        } else if (f.grid != *grid) {
            std::string why = f.grid.digest != grid->digest ? "another scenario file (or --duration-us)"
                              : f.grid.seed != grid->seed   ? "another seed"
                                                            : "another grid";
            throw sim::ConfigError(name, 0, "grid", fmt::format("a shard of {} than {}: {} vs {}", why, first_name,
                                                                describe(f.grid), describe(*grid)));
        }
        for (auto& [point, record] : f.records) {
            if (const auto [it, fresh] = all.emplace(point, std::pair{name, std::move(record)}); !fresh) {
                throw sim::ConfigError(name, 0, "point", fmt::format("point {} also appears in {}", point, it->second.first));
            }
        }
    }
    if (!grid) throw sim::ConfigError("merge", 0, "records", "no shard holds a record");
    if (all.size() != grid->points) {
        std::string missing;
        std::size_t count = 0;
        for (std::size_t p = 0; p < grid->points; ++p) {
            if (all.count(p) != 0) continue;
            if (++count <= 5) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", p);
        }
        throw sim::ConfigError("merge", 0, "points",
                               fmt::format("{} of the grid's {} points are missing ({}{}): is a shard left out, or unfinished?",
                                           count, grid->points, missing, count > 5 ? ", ..." : ""));
    }
    std::string out = format == ResultFormat::csv ? sweep_csv_header() : "";
    for (const auto& [point, record] : all) out += record.second;
    return out;
}

// --- ResultSink ----------------------------------------------------------------

ResultSink::ResultSink(OutputFile& file, ResultFormat format, GridId grid, std::vector<std::size_t> order,
                       std::map<std::size_t, std::string> done)
    : file_(file), format_(format), grid_(grid), order_(std::move(order)), held_(std::move(done))
{
    if (format_ == ResultFormat::csv) file_.write(sweep_csv_header());
    advance();
    file_.flush(); // the header, and any resumed points, are on disk at once
}

void ResultSink::add(const RunResult& run)
{
    held_.emplace(run.point, sweep_record(format_, run, grid_));
    advance();
}

void ResultSink::advance()
{
    bool wrote = false;
    while (next_ < order_.size()) {
        const auto it = held_.find(order_[next_]);
        if (it == held_.end()) break;
        file_.write(it->second);
        held_.erase(it);
        ++next_;
        wrote = true;
    }
    if (wrote) file_.flush(); // a finished point survives a kill
}

void ResultSink::drain()
{
    for (const auto& [point, record] : held_) file_.write(record);
    held_.clear();
    file_.flush();
}

} // namespace fwdsim::scenario
