// What jute's steps_bench and LibTorch's peer (benchmarks/peers/torch_steps_bench.cpp) share, so
// the two sides of a comparison time, size and fill their workloads identically:
//   - the workloads' dimensions (issue 11);
//   - the input values (a fixed linear congruential sequence) and labels;
//   - `begin` (first thing in every benchmark function) and `run_steps`: a few untimed warm-up
//     steps, then each benchmark iteration timed on its own; the counters are the median and
//     minimum step time, the process's peak RSS, and that peak minus the RSS when the first
//     benchmark began (the workload's own memory: data, parameters, activations, gradients and
//     whatever the framework keeps for reuse, without the libraries' code), in MiB. Run one
//     workload per process for meaningful RSS figures.
// The thread count comes from the environment (OMP_NUM_THREADS / OPENBLAS_NUM_THREADS, which
// benchmarks/peers/compare.py sets to the same value for both sides).
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace steps {

constexpr int kMlpBatch = 128, kMlpIn = 784, kMlpHidden = 512, kClasses = 10;
constexpr int kCnnBatch = 128, kImage = 28, kConv1 = 32, kConv2 = 64, kCnnHidden = 256;
constexpr int kDeepBatch = 32, kDeepWidth = 64, kDeepLayers = 64;
constexpr double kLearningRate = 0.01;
constexpr int kWarmupSteps = 3;

/// Deterministic values in [lo, hi) (a fixed linear congruential sequence).
inline std::vector<float> values(std::int64_t n, std::uint32_t seed, float lo = -1.0f,
                                 float hi = 1.0f) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    seed = seed * 1664525u + 1013904223u;
    e = lo + (hi - lo) * static_cast<float>(seed >> 8) / static_cast<float>(1u << 24);
  }
  return v;
}

/// Labels i mod classes.
inline std::vector<std::int32_t> labels(int n, int classes) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i % classes;
  return v;
}

/// The thread count the comparison asked for (OMP_NUM_THREADS, else OPENBLAS_NUM_THREADS, else 1).
inline int requested_threads() {
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"})
    if (const char* s = std::getenv(name); s != nullptr && std::atoi(s) > 0) return std::atoi(s);
  return 1;
}

/// Resident set size now (VmRSS), in KiB.
inline long current_rss_kib() {
  long pages_total = 0, pages_resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
  }
  return pages_resident * 4;
}

inline long& start_rss_kib() {
  static long rss = 0;
  return rss;
}

/// Notes the RSS before the first workload builds anything.
inline void begin() {
  if (start_rss_kib() == 0) start_rss_kib() = current_rss_kib();
}

/// Runs `step` kWarmupSteps times untimed, then once per benchmark iteration, timing each.
template <class Step>
void run_steps(benchmark::State& state, Step&& step) {
  for (int i = 0; i < kWarmupSteps; ++i) step();
  std::vector<double> ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    step();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::sort(ms.begin(), ms.end());
  state.counters["median_ms"] = ms[ms.size() / 2];
  state.counters["min_ms"] = ms.front();
  state.counters["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  state.counters["workload_rss_mb"] =
      static_cast<double>(std::max(0L, usage.ru_maxrss - start_rss_kib())) / 1024.0;
  state.counters["threads"] = requested_threads();
}

}  // namespace steps
