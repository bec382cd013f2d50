// What autodiff costs, on a 64-layer, width-64 tanh MLP at batch 32 (float32):
//
//   BM_Forward_untraced     the forward pass written with jute ops, outside any transformation
//   BM_Forward_raw          the same arithmetic as a hand-written loop (cblas_sgemm + loops)
//   BM_Forward_recorded     the jute forward inside a trace (recording, no backward)
//   BM_TrainStep_manual     a training step (MSE loss, SGD) with the backward pass written by hand
//                           in jute ops, nothing traced
//   BM_TrainStep_autodiff   the same step with value_and_grad over the params Tree (128 leaves)
//   BM_TrainStep_overhead   both steps alternately; its counter `overhead_per_op_us` is (autodiff
//                           step - manual step) / number of recorded ops, in process CPU time
//
// "untraced" ≈ "raw" shows that forward passes outside grad pay nothing for autodiff; the target
// for `overhead_per_op_us` is <= 5 µs.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <ctime>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/trace.hpp"
#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/tree.hpp"

using namespace jute;

namespace {

constexpr int kLayers = 64, kWidth = 64, kBatch = 32;
constexpr float kLearningRate = 1e-3f;

std::string layer(int l) { return "Dense_" + std::to_string(l); }

Array random_array(std::mt19937& gen, const Shape& shape, float scale) {
  std::normal_distribution<float> normal(0.f, scale);
  std::vector<float> v(static_cast<std::size_t>(detail::shape_size(shape)));
  for (auto& e : v) e = normal(gen);
  return Array::from_vector(v, shape);
}

struct Setup {
  Tree params;
  std::vector<std::string> kernels, biases;  // paths, built once
  Array x, y;
  Setup() {
    std::mt19937 gen(0);
    for (int l = 0; l < kLayers; ++l) {
      kernels.push_back(layer(l) + "/kernel");
      biases.push_back(layer(l) + "/bias");
      params = params.set(kernels.back(),
                          random_array(gen, {kWidth, kWidth}, 1.f / std::sqrt(float(kWidth))));
      params = params.set(biases.back(), random_array(gen, {kWidth}, 0.1f));
    }
    x = random_array(gen, {kBatch, kWidth}, 1.f);
    y = random_array(gen, {kBatch, kWidth}, 0.5f);
  }
};
const Setup& setup() {
  static const Setup s;
  return s;
}

Array forward(const Tree& params, const Array& x) {
  const Setup& s = setup();
  Array h = x;
  for (int l = 0; l < kLayers; ++l)
    h = tanh(matmul(h, params.get(s.kernels[l])) + params.get(s.biases[l]));
  return h;
}

Array loss(const Tree& params) {
  Array d = forward(params, setup().x) - setup().y;
  return mean(d * d);
}

Tree sgd(const Tree& params, const Tree& grads) {
  return tree_map([](const Array& p, const Array& g) { return p - g * kLearningRate; }, params,
                  grads);
}

// The same step with a hand-written backward pass (what the recorded rules compute).
Tree manual_step(const Tree& params) {
  const Setup& s = setup();
  std::vector<Array> hs{s.x};
  for (int l = 0; l < kLayers; ++l)
    hs.push_back(tanh(matmul(hs.back(), params.get(s.kernels[l])) + params.get(s.biases[l])));
  Array d = hs.back() - s.y;
  benchmark::DoNotOptimize(mean(d * d));
  Array g = d * (2.0f / float(kBatch * kWidth));
  Tree out = params;
  for (int l = kLayers - 1; l >= 0; --l) {
    const Array& w = params.get(s.kernels[l]);
    Array dz = g * (1.0f - hs[l + 1] * hs[l + 1]);
    out = out.set(s.kernels[l], w - matmul(swapaxes(hs[l], 0, 1), dz) * kLearningRate);
    out = out.set(s.biases[l], params.get(s.biases[l]) - sum(dz, 0) * kLearningRate);
    g = matmul(dz, swapaxes(w, 0, 1));
  }
  return out;
}

// The number of nodes a value's graph holds for the trace it was recorded in.
std::size_t count_nodes(const Array& out) {
  std::unordered_set<const detail::Node*> seen;
  std::vector<const detail::Node*> stack{out.impl()->node.get()};
  while (!stack.empty()) {
    const detail::Node* n = stack.back();
    stack.pop_back();
    if (!n || !seen.insert(n).second) continue;
    for (const auto& in : n->inputs) stack.push_back(in.impl()->node.get());
  }
  std::size_t ops = 0;
  for (const auto* n : seen) ops += n->vjp ? 1 : 0;  // leaves (traced inputs) are not ops
  return ops;
}

void BM_Forward_untraced(benchmark::State& state) {
  const Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(forward(s.params, s.x));
}

void BM_Forward_raw(benchmark::State& state) {
  const Setup& s = setup();
  std::vector<float> h(s.x.to_vector<float>()), z(kBatch * kWidth);
  for (auto _ : state) {
    h = s.x.to_vector<float>();
    for (int l = 0; l < kLayers; ++l) {
      const float* w = s.params.get(s.kernels[l]).data<float>();
      const float* b = s.params.get(s.biases[l]).data<float>();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, kBatch, kWidth, kWidth, 1.f, h.data(),
                  kWidth, w, kWidth, 0.f, z.data(), kWidth);
      for (int i = 0; i < kBatch; ++i)
        for (int j = 0; j < kWidth; ++j) h[i * kWidth + j] = std::tanh(z[i * kWidth + j] + b[j]);
    }
    benchmark::DoNotOptimize(h.data());
  }
}

void BM_Forward_recorded(benchmark::State& state) {
  const Setup& s = setup();
  for (auto _ : state)
    benchmark::DoNotOptimize(vjp([&s](const Tree& p) { return forward(p, s.x); }, s.params));
}

void BM_TrainStep_manual(benchmark::State& state) {
  const Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(manual_step(s.params));
}

// CPU time of the whole process (all BLAS threads), in µs: on a shared machine wall time
// mostly measures the other jobs.
double cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) * 1e-3;
}

Tree autodiff_step(const Tree& params) {
  auto [l, grads] = value_and_grad(loss)(params);
  benchmark::DoNotOptimize(l);
  return sgd(params, grads);
}

void BM_TrainStep_autodiff(benchmark::State& state) {
  const Setup& s = setup();
  for (auto _ : state) benchmark::DoNotOptimize(autodiff_step(s.params));
}

// Both steps alternately in one loop (a busy machine slows both alike); the counters give the
// per-recorded-op overhead of the autodiff step over the hand-written one, in process CPU time.
void BM_TrainStep_overhead(benchmark::State& state) {
  const Setup& s = setup();
  std::size_t ops = 0;
  vjp(
      [&ops](const Tree& p) {
        Array l = loss(p);
        ops = count_nodes(l);
        return l;
      },
      s.params);
  double manual_us = 0, autodiff_us = 0;
  for (auto _ : state) {
    double t0 = cpu_us();
    benchmark::DoNotOptimize(manual_step(s.params));
    double t1 = cpu_us();
    benchmark::DoNotOptimize(autodiff_step(s.params));
    double t2 = cpu_us();
    manual_us += t1 - t0;
    autodiff_us += t2 - t1;
  }
  double n = static_cast<double>(state.iterations());
  state.counters["recorded_ops"] = static_cast<double>(ops);
  state.counters["manual_us"] = manual_us / n;
  state.counters["autodiff_us"] = autodiff_us / n;
  state.counters["overhead_per_op_us"] = (autodiff_us - manual_us) / n / static_cast<double>(ops);
  state.counters["ratio"] = autodiff_us / manual_us;
}

}  // namespace

BENCHMARK(BM_Forward_untraced)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Forward_raw)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Forward_recorded)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrainStep_manual)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrainStep_autodiff)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TrainStep_overhead)->Unit(benchmark::kMicrosecond);
