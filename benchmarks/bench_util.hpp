// Shared pieces of the benchmark programs: deterministic inputs, thread CPU timing and the
// jute-versus-reference counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <ctime>
#include <vector>

namespace bench {

/// Deterministic values in [-1, 1) (a fixed linear congruential sequence).
inline std::vector<float> values(std::int64_t n, std::uint32_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    seed = seed * 1664525u + 1013904223u;
    e = static_cast<float>(seed >> 8) / static_cast<float>(1u << 23) - 1.0f;
  }
  return v;
}

/// CPU seconds this thread spends in `f`: on a shared machine, wall time mostly measures the
/// other jobs. It counts only the calling thread: compare kernels with OPENBLAS_NUM_THREADS=1.
template <class F>
double cpu_seconds(F&& f) {
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  f();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  return static_cast<double>(t1.tv_sec - t0.tv_sec) +
         1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec);
}

/// The counters of a comparison: jute's and the reference's milliseconds per iteration and
/// `ratio`, jute's time over the reference's.
inline void report_ratio(benchmark::State& state, double jute_s, double ref_s) {
  const auto avg = benchmark::Counter::kAvgIterations;
  state.counters["jute_ms"] = benchmark::Counter(jute_s * 1e3, avg);
  state.counters["ref_ms"] = benchmark::Counter(ref_s * 1e3, avg);
  state.counters["ratio"] = jute_s / ref_s;
}

}  // namespace bench
