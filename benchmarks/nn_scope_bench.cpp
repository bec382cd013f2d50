// The cost of the Scope machinery: a variable access and a child call, with no arithmetic.
//
// A model of `children` submodules, each reading two parameters of shape (1,) during apply,
// is applied repeatedly; the time per access is the apply time divided by the number of
// accesses (children × 2 params + children child calls). Target: ≤ 1 µs each.
#include <benchmark/benchmark.h>

#include "jute/nn/initializers.hpp"
#include "jute/nn/module.hpp"
#include "jute/random.hpp"

namespace {

struct Leaf {
  static constexpr const char* name = "Leaf";
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    jute::Array w = s.param("w", jute::nn::initializers::ones_init(), {1});
    jute::Array b = s.param("b", jute::nn::initializers::zeros_init(), {1});
    (void)w;
    (void)b;
    return x;  // no arithmetic: only the machinery is measured
  }
};

struct Wide {
  static constexpr const char* name = "Wide";
  int children;
  jute::Array operator()(jute::nn::Scope& s, jute::Array x) const {
    for (int i = 0; i < children; ++i) x = s.child(Leaf{}, x);
    return x;
  }
};

struct Deep {
  static constexpr const char* name = "Deep";
  int depth;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    if (depth == 0) return s.child(Leaf{}, x);
    return s.child(Deep{depth - 1}, x);
  }
};

void BM_apply_wide(benchmark::State& state) {
  const Wide model{static_cast<int>(state.range(0))};
  const jute::Array x = jute::ones({1});
  const jute::Variables vars = jute::nn::init(model, jute::random::key(0), x);
  for (auto _ : state) benchmark::DoNotOptimize(jute::nn::apply(model, vars, x).output);
  const double accesses = 3.0 * static_cast<double>(state.range(0));  // 2 params + 1 child call
  state.counters["per_access"] =
      benchmark::Counter(accesses * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_apply_wide)->Arg(10)->Arg(100)->Arg(1000);

void BM_apply_deep(benchmark::State& state) {
  const Deep model{static_cast<int>(state.range(0))};
  const jute::Array x = jute::ones({1});
  const jute::Variables vars = jute::nn::init(model, jute::random::key(0), x);
  for (auto _ : state) benchmark::DoNotOptimize(jute::nn::apply(model, vars, x).output);
  const double accesses = 2.0 + static_cast<double>(state.range(0)) + 1.0;
  state.counters["per_access"] =
      benchmark::Counter(accesses * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_apply_deep)->Arg(4)->Arg(16);

void BM_init_wide(benchmark::State& state) {
  const Wide model{static_cast<int>(state.range(0))};
  const jute::Array x = jute::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(jute::nn::init(model, jute::random::key(0), x));
  const double accesses = 3.0 * static_cast<double>(state.range(0));
  state.counters["per_access"] =
      benchmark::Counter(accesses * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_init_wide)->Arg(100);

}  // namespace
