// LibTorch's side of the jute-versus-LibTorch comparison (issue 11): the workloads of
// benchmarks/steps_bench.cpp written as a LibTorch user would write them — torch::nn modules,
// torch::nn::functional::cross_entropy, torch::optim::SGD — and run fairly:
//   - torch::set_num_threads and openblas_set_num_threads both get the comparison's thread count
//     (LibTorch does not set OpenBLAS's own pool, which otherwise takes every core);
//   - mallopt keeps freed memory in the heap (no mmap per large tensor, no trimming), so tensors
//     of the same shapes reuse memory step after step instead of page-faulting (untuned, LibTorch
//     is several times slower on this machine);
//   - gradients are set to none rather than zero-filled, and forwards run under InferenceMode.
// Each workload is one benchmark; benchmarks/peers/compare.py runs them one per process.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <malloc.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "../step_workloads.hpp"

namespace {

/// Heap tuning before anything allocates: the largest blocks stay in the heap and are reused.
const bool kMallocTuned = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
  return true;
}();

void set_threads() {
  steps::begin();
  const int n = steps::requested_threads();
  torch::set_num_threads(n);
  openblas_set_num_threads(n);
}

torch::Tensor tensor(const std::vector<float>& v, std::vector<std::int64_t> shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

torch::Tensor labels(int n, int classes) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i % classes;
  return torch::from_blob(v.data(), {n}, torch::kInt64).clone();
}

torch::nn::Sequential mlp() {
  using namespace torch::nn;
  return Sequential(Linear(steps::kMlpIn, steps::kMlpHidden), ReLU(),
                    Linear(steps::kMlpHidden, steps::kMlpHidden), ReLU(),
                    Linear(steps::kMlpHidden, steps::kClasses));
}

/// The Flax MNIST CNN (Conv 3×3 SAME, relu, avg_pool 2, twice; Dense 256, relu, Dense 10).
torch::nn::Sequential cnn() {
  using namespace torch::nn;
  const auto conv = [](int in, int out) { return Conv2d(Conv2dOptions(in, out, 3).padding(1)); };
  return Sequential(conv(1, steps::kConv1), ReLU(), AvgPool2d(2),
                    conv(steps::kConv1, steps::kConv2), ReLU(), AvgPool2d(2), Flatten(),
                    Linear(steps::kConv2 * 7 * 7, steps::kCnnHidden), ReLU(),
                    Linear(steps::kCnnHidden, steps::kClasses));
}

torch::nn::Sequential deep_mlp() {
  torch::nn::Sequential model;
  for (int i = 0; i < steps::kDeepLayers; ++i) {
    model->push_back(torch::nn::Linear(steps::kDeepWidth, steps::kDeepWidth));
    if (i + 1 < steps::kDeepLayers) model->push_back(torch::nn::ReLU());
  }
  return model;
}

void train(benchmark::State& state, torch::nn::Sequential model, const torch::Tensor& x,
           const torch::Tensor& y) {
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(steps::kLearningRate));
  steps::run_steps(state, [&] {
    model->zero_grad(/*set_to_none=*/true);
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer.step();
    benchmark::DoNotOptimize(loss.item<float>());
  });
}

void infer(benchmark::State& state, torch::nn::Sequential model, const torch::Tensor& x) {
  torch::InferenceMode guard;
  steps::run_steps(state, [&] {
    auto logits = model->forward(x);
    benchmark::DoNotOptimize(logits.data_ptr<float>());
  });
}

torch::Tensor mlp_input() {
  return tensor(steps::values(steps::kMlpBatch * steps::kMlpIn, 1, 0.0f, 1.0f),
                {steps::kMlpBatch, steps::kMlpIn});
}

/// NCHW, LibTorch's native layout (the channels-last variant was not faster here).
torch::Tensor cnn_input() {
  return tensor(steps::values(steps::kCnnBatch * steps::kImage * steps::kImage, 1, 0.0f, 1.0f),
                {steps::kCnnBatch, 1, steps::kImage, steps::kImage});
}

void mlp_step(benchmark::State& state) {
  set_threads();
  train(state, mlp(), mlp_input(), labels(steps::kMlpBatch, steps::kClasses));
}

void cnn_step(benchmark::State& state) {
  set_threads();
  train(state, cnn(), cnn_input(), labels(steps::kCnnBatch, steps::kClasses));
}

void deep_mlp_step(benchmark::State& state) {
  set_threads();
  train(state, deep_mlp(),
        tensor(steps::values(steps::kDeepBatch * steps::kDeepWidth, 1, 0.0f, 1.0f),
               {steps::kDeepBatch, steps::kDeepWidth}),
        labels(steps::kDeepBatch, steps::kDeepWidth));
}

void mlp_fwd(benchmark::State& state) {
  set_threads();
  infer(state, mlp(), mlp_input());
}

void cnn_fwd(benchmark::State& state) {
  set_threads();
  infer(state, cnn(), cnn_input());
}

}  // namespace

BENCHMARK(mlp_step)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_step)->Unit(benchmark::kMillisecond);
BENCHMARK(deep_mlp_step)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_fwd)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_fwd)->Unit(benchmark::kMillisecond);
