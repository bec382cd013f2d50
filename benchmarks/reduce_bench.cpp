// Reductions at the shapes a training step produces, against the loop a C++ programmer would
// write by hand (rows accumulated into the output vector, one pass, sequential order):
//   sum_leading   sum over the leading axes with few kept elements: the bias gradients of an MLP
//                 layer (128, 512) -> (512,) and of the MNIST CNN's convolutions
//                 (128, 28, 28, 32) -> (32,) and (128, 14, 14, 64) -> (64,);
//   mean_leading  the same shapes through `mean` (BatchNorm's batch mean);
//   var_leading   `var` over the same axes (BatchNorm's batch variance: two passes) against a
//                 hand-written two-pass loop;
//   sum_all       the sum of 4M floats (one contiguous row) against a plain loop of 16 lanes.
// Both sides run in the same iteration, alternating, so a noisy machine slows both alike; the
// `jute_ms` and `ref_ms` counters are thread CPU times and `ratio` is jute's over the reference's.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <vector>

#include "bench_util.hpp"
#include "jute/array.hpp"
#include "jute/ops.hpp"

namespace {

using bench::values;

const std::vector<jute::Shape> kLeading = {{128, 512}, {128, 28, 28, 32}, {128, 14, 14, 64}};

/// The hand-written reduction of (rows, inner) over rows: out[j] = Σ_r x[r, j] (scaled).
void column_sums(const std::vector<float>& x, std::int64_t inner, std::vector<float>& out) {
  const std::int64_t rows = static_cast<std::int64_t>(x.size()) / inner;
  std::fill(out.begin(), out.end(), 0.0f);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * inner;
    for (std::int64_t j = 0; j < inner; ++j) out[static_cast<std::size_t>(j)] += row[j];
  }
}

enum class Kind { Sum, Mean, Var };

// arg: index into kLeading.
template <Kind kind>
void leading(benchmark::State& state) {
  const jute::Shape& shape = kLeading[static_cast<std::size_t>(state.range(0))];
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  const std::int64_t inner = shape.back();
  const std::int64_t rows = n / inner;
  const std::vector<float> x = values(n, 7);
  const jute::Array X = jute::Array::from_vector(x, shape);
  std::vector<int> axes;
  for (int d = 0; d + 1 < static_cast<int>(shape.size()); ++d) axes.push_back(d);
  std::vector<float> out(static_cast<std::size_t>(inner)), mu(out.size());
  double jute_s = 0, ref_s = 0;
  for (auto _ : state) {
    jute_s += bench::cpu_seconds([&] {
      const jute::Array y = kind == Kind::Sum    ? jute::sum(X, jute::Axes(axes))
                            : kind == Kind::Mean ? jute::mean(X, jute::Axes(axes))
                                                 : jute::var(X, jute::Axes(axes));
      benchmark::DoNotOptimize(y.raw_data());
    });
    ref_s += bench::cpu_seconds([&] {
      column_sums(x, inner, out);
      const float scale = 1.0f / static_cast<float>(rows);
      if (kind != Kind::Sum)
        for (auto& e : out) e *= scale;
      if (kind == Kind::Var) {
        mu = out;
        std::fill(out.begin(), out.end(), 0.0f);
        for (std::int64_t r = 0; r < rows; ++r) {
          const float* row = x.data() + r * inner;
          for (std::int64_t j = 0; j < inner; ++j) {
            const float d = row[j] - mu[static_cast<std::size_t>(j)];
            out[static_cast<std::size_t>(j)] += d * d;
          }
        }
        for (auto& e : out) e *= scale;
      }
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    });
  }
  bench::report_ratio(state, jute_s, ref_s);
  state.SetLabel(jute::Array::from_vector(x, shape).type_string());
}
BENCHMARK(leading<Kind::Sum>)
    ->Name("sum_leading")
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(leading<Kind::Mean>)
    ->Name("mean_leading")
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(leading<Kind::Var>)
    ->Name("var_leading")
    ->DenseRange(0, 2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void sum_all(benchmark::State& state) {
  constexpr std::int64_t n = std::int64_t{4} << 20;
  const std::vector<float> x = values(n, 3);
  const jute::Array X = jute::Array::from_vector(x, {n});
  double jute_s = 0, ref_s = 0;
  for (auto _ : state) {
    jute_s += bench::cpu_seconds([&] { benchmark::DoNotOptimize(jute::sum(X).raw_data()); });
    ref_s += bench::cpu_seconds([&] {
      float acc[16] = {};
      for (std::int64_t i = 0; i < n; i += 16)
        for (int k = 0; k < 16; ++k) acc[k] += x[static_cast<std::size_t>(i + k)];
      float s = 0;
      for (float a : acc) s += a;
      benchmark::DoNotOptimize(s);
    });
  }
  bench::report_ratio(state, jute_s, ref_s);
}
BENCHMARK(sum_all)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
