// Running as a batch job (a Slurm array task, a nohup'd sweep): how many
// CPUs this process may use, which shard of a grid a Slurm array task is,
// and progress lines a log file can hold.  What these read (the affinity
// mask, the environment, the wall clock) never reaches a result file: the
// lines go to stderr.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace fwdsim::app {

/// The CPUs this process may run on: its affinity mask's count
/// (sched_getaffinity: what taskset, cgroups' cpusets and Slurm leave it),
/// lowered to SLURM_CPUS_PER_TASK inside a Slurm job that sets it.
struct CpuBudget {
    unsigned cpus = 1;
    std::string source; ///< "the affinity mask" or "SLURM_CPUS_PER_TASK"
};
CpuBudget usable_cpus();

/// The shard a Slurm array task runs (`--shard auto`): task
/// SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT.
/// Throws sim::ConfigError naming the variable when one is missing or
/// malformed, and when the array's indices have gaps (--array=1,5 or a step),
/// which would leave points out.
std::pair<std::size_t, std::size_t> slurm_array_shard();

/// Progress for a log: every `every_s` seconds of wall time, one line on
/// stderr with the points done, the time elapsed and an estimate of the
/// time left; a last line when done.  No line at all when `every_s` is 0.
class ProgressLog {
public:
    ProgressLog(std::string tool, std::size_t total, double every_s);
    ~ProgressLog();
    ProgressLog(const ProgressLog&) = delete;
    ProgressLog& operator=(const ProgressLog&) = delete;

    /// `done` points of the total are finished.
    void update(std::size_t done);
    /// Stops the lines; with `completed`, says how long the whole took.
    void finish(bool completed);

private:
    void line(const char* what);

    std::string tool_;
    std::size_t total_;
    std::chrono::steady_clock::time_point start_;
    std::mutex lock_;
    std::condition_variable wake_;
    std::size_t done_ = 0;
    bool stop_ = false;
    std::thread ticker_;
};

} // namespace fwdsim::app
