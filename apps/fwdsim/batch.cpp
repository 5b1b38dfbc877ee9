// Running as a batch job.  See batch.h.
#include "batch.h"

#include "commands.h"

#include <fwdsim/sim/config_error.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sched.h>

namespace fwdsim::app {
namespace {

std::optional<std::string> env(const char* name)
{
    const char* v = std::getenv(name);
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
}

/// A variable holding a count: nullopt when unset; a ConfigError naming it
/// when it holds anything but a number.
std::optional<std::size_t> env_count(const char* name)
{
    const auto v = env(name);
    if (!v) return std::nullopt;
    std::size_t n = 0;
    if (!parse_number(*v, n)) throw sim::ConfigError(name, 0, "--shard auto", "holds '" + *v + "', not a number");
    return n;
}

std::string duration(double s)
{
    const auto t = static_cast<long long>(s + 0.5);
    if (t < 60) return fmt::format("{}s", t);
    if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
    return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
}

} // namespace

CpuBudget usable_cpus()
{
    CpuBudget b;
    b.source = "the affinity mask";
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        b.cpus = static_cast<unsigned>(CPU_COUNT(&set));
    } else {
        b.cpus = 1; // the mask is unreadable: one thread is always safe
    }
    // Slurm binds a task to its CPUs with cgroups where the site configures
    // it; elsewhere only the variable says what the job asked for.
    unsigned slurm = 0;
    if (const auto v = env("SLURM_CPUS_PER_TASK"); v && parse_number(*v, slurm) && slurm >= 1 && slurm < b.cpus) {
        b.cpus = slurm;
        b.source = "SLURM_CPUS_PER_TASK";
    }
    return b;
}

std::pair<std::size_t, std::size_t> slurm_array_shard()
{
    const auto id = env_count("SLURM_ARRAY_TASK_ID");
    if (!id) {
        throw sim::ConfigError("SLURM_ARRAY_TASK_ID", 0, "--shard auto",
                               "is not set: this is not a Slurm array task (submit with sbatch --array=0-<N-1>, "
                               "or give --shard I/N)");
    }
    const auto count = env_count("SLURM_ARRAY_TASK_COUNT");
    if (!count || *count == 0) {
        throw sim::ConfigError("SLURM_ARRAY_TASK_COUNT", 0, "--shard auto",
                               "is not set (Slurm sets it from 17.11 on; give --shard I/N)");
    }
    // Indices run from MIN to MAX; COUNT tasks fill that range only when it
    // has no gaps (--array=0-15, not --array=1,5,9 nor --array=0-15:2).
    const std::size_t min = env_count("SLURM_ARRAY_TASK_MIN").value_or(0);
    const std::size_t max = env_count("SLURM_ARRAY_TASK_MAX").value_or(min + *count - 1);
    const std::size_t step = env_count("SLURM_ARRAY_TASK_STEP").value_or(1);
    if (step != 1 || max < min || max - min + 1 != *count) {
        throw sim::ConfigError("SLURM_ARRAY_TASK_COUNT", 0, "--shard auto",
                               fmt::format("{} tasks with indices {}..{} (step {}): the array has gaps, so shards "
                                           "would be missing; use --array=A-B, or give --shard I/N",
                                           *count, min, max, step));
    }
    if (*id < min || *id > max) {
        throw sim::ConfigError("SLURM_ARRAY_TASK_ID", 0, "--shard auto",
                               fmt::format("{} is outside the array's indices {}..{}", *id, min, max));
    }
    return {*id - min, *count};
}

ProgressLog::ProgressLog(std::string tool, std::size_t total, double every_s)
    : tool_(std::move(tool)), total_(total), start_(std::chrono::steady_clock::now())
{
    if (every_s <= 0) {
        stop_ = true;
        return;
    }
    const auto period = std::chrono::duration<double>(every_s);
    ticker_ = std::thread([this, period] {
        std::unique_lock<std::mutex> guard(lock_);
        while (!wake_.wait_for(guard, period, [this] { return stop_; })) line("done");
    });
}

ProgressLog::~ProgressLog() { finish(false); }

void ProgressLog::update(std::size_t done)
{
    const std::lock_guard<std::mutex> guard(lock_);
    done_ = done;
}

void ProgressLog::finish(bool completed)
{
    {
        const std::lock_guard<std::mutex> guard(lock_);
        if (!ticker_.joinable()) return;
        stop_ = true;
    }
    wake_.notify_all();
    ticker_.join();
    if (completed) {
        const std::lock_guard<std::mutex> guard(lock_);
        line("finished");
    }
}

// Called with lock_ held.
void ProgressLog::line(const char* what)
{
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string left = "time left unknown yet";
    if (done_ >= total_) left = "none left";
    else if (done_ > 0) left = "about " + duration(elapsed * static_cast<double>(total_ - done_) / static_cast<double>(done_)) + " left";
    fmt::print(stderr, "fwdsim {}: {}/{} points {}, {} elapsed, {}\n", tool_, done_, total_, what, duration(elapsed), left);
    std::fflush(stderr);
}

} // namespace fwdsim::app
