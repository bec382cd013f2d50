// Convolution and pooling at the shapes of the Flax MNIST CNN (batch 128): Conv 3x3 SAME 1→32 on
// 28x28, Conv 3x3 SAME 32→64 on 14x14, 2x2 pooling. Each convolution benchmark also runs the bare
// GEMM that the convolution lowers to (the same M, N, K on prepared operands) in the same loop:
// `ratio` is the convolution's time over the GEMM's, i.e. what im2col / col2im and the rest cost
// on top of the arithmetic.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "jute/ops.hpp"
#include "ops/conv_kernels.hpp"

using namespace jute;

namespace {

using Clock = std::chrono::steady_clock;

Array ramp(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 17) * 0.125f - 1.0f;
  return Array::from_vector(v, s);
}

struct Layer {
  Shape x, w;
};
const Layer kConv1{{128, 28, 28, 1}, {3, 3, 1, 32}};
const Layer kConv2{{128, 14, 14, 32}, {3, 3, 32, 64}};

enum class Part { Forward, InputGrad, KernelGrad };

// args: layer (1 or 2), part.
void BM_conv(benchmark::State& state) {
  const Layer& layer = state.range(0) == 1 ? kConv1 : kConv2;
  const auto part = static_cast<Part>(state.range(1));
  const Array x = ramp(layer.x), w = ramp(layer.w);
  const auto geo = detail::make_conv_geometry(layer.x, layer.w, {1, 1}, "SAME", {}, {}, 1);
  const Array g = ramp(geo.out_shape());
  // The GEMM behind it: (M x K) @ (K x N) with M = output positions, K = 9 C, N = O.
  const std::int64_t M = geo.batch * geo.out[0] * geo.out[1], K = 9 * geo.in_channels,
                     N = geo.out_channels;
  std::vector<float> a(static_cast<std::size_t>(M * K), 0.5f),
      b(static_cast<std::size_t>(K * N), 0.25f), c(static_cast<std::size_t>(M * N));
  double conv_s = 0, gemm_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    Array out = part == Part::Forward     ? detail::conv_forward(x, w, geo)
                : part == Part::InputGrad ? detail::conv_input_grad(g, w, geo)
                                          : detail::conv_kernel_grad(x, g, geo);
    benchmark::DoNotOptimize(out.raw_data());
    auto t1 = Clock::now();
    if (part == Part::Forward)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a.data(), K, b.data(), N,
                  0.f, c.data(), N);
    else if (part == Part::InputGrad)  // (M x N) @ (K x N)ᵀ into the M x K columns
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.f, c.data(), N, b.data(), N,
                  0.f, a.data(), K);
    else  // (M x K)ᵀ @ (M x N)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.f, a.data(), K, c.data(), N,
                  0.f, b.data(), N);
    benchmark::ClobberMemory();
    auto t2 = Clock::now();
    conv_s += std::chrono::duration<double>(t1 - t0).count();
    gemm_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["conv_ms"] = conv_s / n * 1e3;
  state.counters["gemm_ms"] = gemm_s / n * 1e3;
  state.counters["ratio"] = conv_s / gemm_s;
  state.counters["GFLOP/s"] = 2.0 * static_cast<double>(M * N * K) / (conv_s / n) * 1e-9;
}
BENCHMARK(BM_conv)
    ->ArgNames({"layer", "part"})
    ->Args({1, 0})
    ->Args({1, 2})
    ->Args({2, 0})
    ->Args({2, 1})
    ->Args({2, 2})
    ->Unit(benchmark::kMillisecond);

// args: layer output (1: 128x28x28x32, 2: 128x14x14x64), op (0 sum, 1 max).
void BM_pool_2x2(benchmark::State& state) {
  const Array x = ramp(state.range(0) == 1 ? Shape{128, 28, 28, 32} : Shape{128, 14, 14, 64});
  const ReduceOp op = state.range(1) == 0 ? ReduceOp::Sum : ReduceOp::Max;
  for (auto _ : state) {
    Array y = reduce_window(x, op, {1, 2, 2, 1}, {1, 2, 2, 1});
    benchmark::DoNotOptimize(y.raw_data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(x.nbytes()));
}
BENCHMARK(BM_pool_2x2)
    ->ArgNames({"layer", "max"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({2, 0})
    ->Unit(benchmark::kMillisecond);

}  // namespace
