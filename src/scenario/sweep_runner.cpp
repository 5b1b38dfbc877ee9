#include <fwdsim/scenario/sweep_runner.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace fwdsim::scenario {

std::vector<RunResult> run_points(const std::vector<SweepPoint>& points, const PointRunner& runner, unsigned jobs,
                                  const Progress& progress)
{
    if (jobs == 0) {
        jobs = std::max(1u, std::thread::hardware_concurrency());
    }
    jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(points.size(), 1)));
    std::vector<RunResult> results(points.size());
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;
    std::mutex lock; // guards done, first_error and the progress callback
    std::exception_ptr first_error;

    auto worker = [&] {
        for (;;) {
            const std::size_t k = next.fetch_add(1);
            if (k >= points.size()) {
                return;
            }
            try {
                results[k] = runner(points[k]);
                results[k].point = points[k].index;
                results[k].params = points[k].params;
            } catch (...) {
                const std::lock_guard<std::mutex> guard(lock);
                if (!first_error) first_error = std::current_exception();
            }
            const std::lock_guard<std::mutex> guard(lock);
            ++done;
            if (progress) progress(done, points.size());
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < jobs; ++t) {
        pool.emplace_back(worker);
    }
    worker();
    for (auto& t : pool) {
        t.join();
    }
    if (first_error) {
        std::rethrow_exception(first_error);
    }
    return results;
}

std::size_t run_each(std::size_t count, const StoppablePointRunner& run, unsigned jobs,
                     const std::function<void(RunResult&&)>& finished, const Progress& progress)
{
    if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
    jobs = static_cast<unsigned>(std::min<std::size_t>(jobs, std::max<std::size_t>(count, 1)));
    std::atomic<std::size_t> next{0};
    std::atomic<bool> halt{false};
    std::size_t done = 0;
    std::mutex lock; // guards done, first_error and the callbacks
    std::exception_ptr first_error;
    auto worker = [&] {
        while (!halt) {
            const std::size_t k = next.fetch_add(1);
            if (k >= count) return;
            try {
                std::optional<RunResult> r = run(k);
                if (!r) {
                    halt = true;
                    return;
                }
                const std::lock_guard<std::mutex> guard(lock);
                finished(std::move(*r));
                ++done;
                if (progress) progress(done, count);
            } catch (...) {
                const std::lock_guard<std::mutex> guard(lock);
                if (!first_error) first_error = std::current_exception();
                halt = true;
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < jobs; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (first_error) std::rethrow_exception(first_error);
    return done;
}

} // namespace fwdsim::scenario
