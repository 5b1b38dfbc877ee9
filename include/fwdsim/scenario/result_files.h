// Result files: writing them so that nothing is lost, and reading them back
// (to merge shards, or to resume an interrupted sweep) so that nothing
// corrupt or foreign is accepted.
//
// An OutputFile is opened, and checked writable, before a run starts; it is
// written to "<path>.partial" and renamed into place when complete, so a
// reader never sees half a file under the real name, and every write error
// (a full disk, /dev/full) is reported.  A sweep's records carry the grid
// they belong to -- the format version, a digest of the scenario file, the
// base seed and the grid's point count -- and are written point by point in
// index order, flushed as each point finishes, so an interrupted sweep keeps
// what it finished.  read_results() verifies every record of such a file;
// merge_results() verifies that the shards are of one grid and together
// hold every point exactly once.
#pragma once

#include <fwdsim/scenario/results.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fwdsim::scenario {

/// Which grid a sweep record belongs to.
struct GridId {
    static constexpr unsigned kFormat = 2; ///< of the records written here (2: self-describing)
    unsigned format = kFormat;
    std::uint64_t digest = 0; ///< of the scenario file's text and the run's overrides
    std::uint64_t seed = 0;   ///< the base seed (the file's or --seed)
    std::size_t points = 0;   ///< in the whole grid, every shard together
    bool operator==(const GridId&) const = default;
};
std::string describe(const GridId& grid);

enum class ResultFormat { json_lines, csv };
/// .csv: CSV; anything else: JSON Lines.
ResultFormat format_of(const std::string& path);

class OutputFile {
public:
    /// Opens `path` for writing (`key` names it in messages): a regular file
    /// (or a new one) through "<path>.partial", a device or FIFO directly.  A
    /// directory, or a file that cannot be created, is a sim::ConfigError.
    OutputFile(std::string path, std::string key);
    ~OutputFile(); ///< an uncommitted file's .partial is removed
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write(std::string_view text);
    /// Pushes what was written to the file; a write error throws.
    void flush();
    /// Flushes, closes and renames the file into place.
    void commit();
    /// Leaves the .partial file where it is (for --resume), closed.
    void keep_partial();
    const std::string& path() const { return path_; }

private:
    [[noreturn]] void fail(const std::string& what) const;
    std::string path_, key_, partial_;
    std::FILE* file_ = nullptr;
    bool done_ = false;
};

/// One record of a sweep file: the JSON line of `run`, or its CSV rows (one
/// per interrupt), with the grid's identity.
std::string sweep_record(ResultFormat format, const RunResult& run, const GridId& grid);
std::string sweep_csv_header();

/// A verified sweep file: its grid, its header (CSV) and each point's
/// record, as written.
struct ResultFile {
    GridId grid;
    std::string header;
    std::map<std::size_t, std::string> records;
};
/// Reads and verifies a sweep file (`name` for messages): every record
/// complete and well formed, of one grid, each point once.  Throws
/// sim::ConfigError naming the file and the line.
ResultFile read_results(ResultFormat format, const std::string& name, const std::string& text);

/// Joins the shards' files: all of one grid (format, scenario, seed, point
/// count), together every point of it exactly once.  The result is itself a
/// sweep file (it merges again).
std::string merge_results(ResultFormat format, const std::vector<std::pair<std::string, std::string>>& files);

/// Writes a sweep's records to one file in point order as points finish:
/// a point done before it is held until those before it are written.
class ResultSink {
public:
    /// `order`: the points this run writes, ascending; `done`: records of
    /// points already finished (from a resumed file).
    ResultSink(OutputFile& file, ResultFormat format, GridId grid, std::vector<std::size_t> order,
               std::map<std::size_t, std::string> done);
    void add(const RunResult& run);
    /// Writes every record held (leaving gaps where points are missing).
    void drain();

private:
    void advance();
    OutputFile& file_;
    ResultFormat format_;
    GridId grid_;
    std::vector<std::size_t> order_;
    std::size_t next_ = 0;
    std::map<std::size_t, std::string> held_;
};

} // namespace fwdsim::scenario
