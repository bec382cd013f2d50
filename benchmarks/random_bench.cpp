// Throughput of jute::random's samplers on one core, 10M values per call (items_per_second), and
// normal's cost relative to bits measured alternately in one loop (the `ratio` counter), so that
// a busy machine slows both alike. Targets (docs/performance.md): bits >= 200 M values/s; normal
// within 3x of bits.
#include <benchmark/benchmark.h>

#include <chrono>

#include "jute/random.hpp"

namespace {

namespace jr = jute::random;
constexpr std::int64_t kCount = 10'000'000;

template <class Sample>
void run(benchmark::State& state, Sample sample) {
  const jute::Array k = jr::key(0);
  for (auto _ : state) {
    jute::Array x = sample(k);
    benchmark::DoNotOptimize(x.raw_data());
  }
  state.SetItemsProcessed(state.iterations() * kCount);
}

void BM_bits_u32(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::bits(k, {kCount}); });
}
void BM_uniform_f32(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::uniform(k, {kCount}); });
}
void BM_normal_f32(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::normal(k, {kCount}); });
}
void BM_truncated_normal_f32(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::truncated_normal(k, -2.0, 2.0, {kCount}); });
}
void BM_randint_i32(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::randint(k, {kCount}, 0, 1000); });
}
void BM_bernoulli(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::bernoulli(k, 0.9, {kCount}); });
}
void BM_normal_f64(benchmark::State& state) {
  run(state, [](const jute::Array& k) { return jr::normal(k, {kCount}, jute::float64); });
}

// normal's time over bits' time, the two run alternately.
void BM_normal_over_bits(benchmark::State& state) {
  const jute::Array k = jr::key(0);
  double bits_s = 0, normal_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    jute::Array b = jr::bits(k, {kCount});
    benchmark::DoNotOptimize(b.raw_data());
    b = jute::Array();
    const auto t1 = std::chrono::steady_clock::now();
    jute::Array z = jr::normal(k, {kCount});
    benchmark::DoNotOptimize(z.raw_data());
    z = jute::Array();
    const auto t2 = std::chrono::steady_clock::now();
    bits_s += std::chrono::duration<double>(t1 - t0).count();
    normal_s += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["bits_ms"] = 1e3 * bits_s / static_cast<double>(state.iterations());
  state.counters["normal_ms"] = 1e3 * normal_s / static_cast<double>(state.iterations());
  state.counters["ratio"] = normal_s / bits_s;
}

}  // namespace

BENCHMARK(BM_bits_u32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_uniform_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_normal_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_truncated_normal_f32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_randint_i32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_bernoulli)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_normal_f64)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_normal_over_bits)->Unit(benchmark::kMillisecond)->MinTime(2.0);
