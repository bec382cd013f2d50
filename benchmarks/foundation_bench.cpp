// The foundation's speed targets (issue 2), each measured against what a C++ programmer would
// write by hand:
//   mlp_gemms_vjp  the 8 GEMMs of an MLP 784-512-512-10 training step at batch 128 (3 forward,
//                  5 backward: no cotangent for the input), forward through jute::matmul and
//                  backward through jute::vjp, versus direct cblas_sgemm into preallocated
//                  buffers (target: ratio <= 1.05);
//   mlp_gemms_ops  the same GEMMs written with matmul and transpose (transposes materialized);
//   relu_affine    maximum(x * 2 + 1, 0) on 4M floats versus one raw loop (target: ratio <= 3;
//                  jute makes three passes);
//   alloc_16mb     allocating and dropping a 16 MB Array 1000 times (target: no page fault
//                  after the first).
// The comparisons run both sides in the same iteration, alternating, so a noisy machine slows
// both alike; the `ratio` counter is jute's time over the reference's.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "bench_util.hpp"
#include "jute/array.hpp"
#include "jute/autodiff.hpp"
#include "jute/ops.hpp"

namespace {

using Clock = std::chrono::steady_clock;

/// Times two alternatives inside one benchmark loop and reports their ratio.
class PairedTimer {
 public:
  template <class F>
  void time_jute(F&& f) {
    jute_s_ += time(f);
  }
  template <class F>
  void time_reference(F&& f) {
    ref_s_ += time(f);
  }
  void report(benchmark::State& state) const { bench::report_ratio(state, jute_s_, ref_s_); }
  double jute_seconds() const { return jute_s_; }

 private:
  template <class F>
  static double time(F& f) {
    const auto t0 = Clock::now();
    f();
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }
  double jute_s_ = 0, ref_s_ = 0;
};

using bench::values;

// ---- the 8 GEMMs of one MLP training step
// -------------------------------------------------------

constexpr int kBatch = 128, kIn = 784, kHidden = 512, kOut = 10;

/// C (m×n) = op(A) · op(B), row-major, into preallocated C.
void sgemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

/// The step's operands (input, weights, output cotangent) as vectors and as
/// Arrays, and the reference: the same 8 GEMMs through cblas_sgemm into buffers
/// allocated once.
struct MlpStep {
  std::vector<float> x = values(kBatch * kIn, 1), w1 = values(kIn * kHidden, 2),
                     w2 = values(kHidden * kHidden, 3), w3 = values(kHidden * kOut, 4),
                     g3 = values(kBatch * kOut, 5);
  jute::Array X = array(x, kBatch, kIn), W1 = array(w1, kIn, kHidden),
              W2 = array(w2, kHidden, kHidden), W3 = array(w3, kHidden, kOut),
              G3 = array(g3, kBatch, kOut);
  std::vector<float> h1 = buffer(kBatch, kHidden), h2 = buffer(kBatch, kHidden),
                     y = buffer(kBatch, kOut), dh2 = buffer(kBatch, kHidden),
                     dh1 = buffer(kBatch, kHidden), dw3 = buffer(kHidden, kOut),
                     dw2 = buffer(kHidden, kHidden), dw1 = buffer(kIn, kHidden);

  static jute::Array array(const std::vector<float>& v, std::int64_t r, std::int64_t c) {
    return jute::Array::from_vector(v, {r, c});
  }
  static std::vector<float> buffer(int r, int c) { return std::vector<float>(r * c); }

  /// y = ((x W1) W2) W3 and the backward pass for the weights (none for the
  /// input x).
  void reference() {
    const int B = kBatch, I = kIn, H = kHidden, O = kOut;
    sgemm(false, false, B, H, I, x.data(), w1.data(), h1.data());   // h1 = x W1
    sgemm(false, false, B, H, H, h1.data(), w2.data(), h2.data());  // h2 = h1 W2
    sgemm(false, false, B, O, H, h2.data(), w3.data(), y.data());   // y = h2 W3
    sgemm(true, false, H, O, B, h2.data(), g3.data(),
          dw3.data());  // dW3 = h2ᵀ g3
    sgemm(false, true, B, H, O, g3.data(), w3.data(),
          dh2.data());  // dh2 = g3 W3ᵀ
    sgemm(true, false, H, H, B, h1.data(), dh2.data(),
          dw2.data());  // dW2 = h1ᵀ dh2
    sgemm(false, true, B, H, H, dh2.data(), w2.data(),
          dh1.data());  // dh1 = dh2 W2ᵀ
    sgemm(true, false, I, H, B, x.data(), dh1.data(),
          dw1.data());  // dW1 = xᵀ dh1
    benchmark::ClobberMemory();
  }

  /// 2·m·n·k per GEMM: each layer's shape once forward and twice backward,
  /// except that the first layer has no input cotangent.
  static double flops() {
    const double B = kBatch, I = kIn, H = kHidden, O = kOut;
    return 2.0 * B * (2.0 * I * H + 3.0 * H * H + 3.0 * H * O);
  }
};

/// The step as a training loop runs it: the forward pass through jute::matmul
/// inside jute::vjp over the weights, then the backward pass (the recorded
/// rules run the transposed GEMMs).
void mlp_gemms_vjp(benchmark::State& state) {
  MlpStep step;
  const jute::ArraysFn forward = [&](const std::vector<jute::Array>& w) {
    return jute::matmul(jute::matmul(jute::matmul(step.X, w[0]), w[1]), w[2]);
  };
  PairedTimer timer;
  for (auto _ : state) {
    timer.time_jute([&] {
      auto [y, backward] = jute::vjp(forward, {step.W1, step.W2, step.W3});
      const std::vector<jute::Array> grads = backward(step.G3);
      benchmark::DoNotOptimize(y.raw_data());
      for (const auto& g : grads) benchmark::DoNotOptimize(g.raw_data());
    });
    timer.time_reference([&] { step.reference(); });
  }
  timer.report(state);
  state.counters["jute_GFLOPs"] = benchmark::Counter(
      MlpStep::flops() * static_cast<double>(state.iterations()) * 1e-9 / timer.jute_seconds());
}
BENCHMARK(mlp_gemms_vjp)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The same 8 GEMMs written out with public ops: matmul, with transpose for the
/// transposed operands (each transpose is materialized before its GEMM).
void mlp_gemms_ops(benchmark::State& state) {
  MlpStep step;
  PairedTimer timer;
  for (auto _ : state) {
    timer.time_jute([&] {
      using jute::matmul, jute::transpose;
      const jute::Array H1 = matmul(step.X, step.W1);
      const jute::Array H2 = matmul(H1, step.W2);
      const jute::Array Y = matmul(H2, step.W3);
      const jute::Array dW3 = matmul(transpose(H2), step.G3);
      const jute::Array dH2 = matmul(step.G3, transpose(step.W3));
      const jute::Array dW2 = matmul(transpose(H1), dH2);
      const jute::Array dH1 = matmul(dH2, transpose(step.W2));
      const jute::Array dW1 = matmul(transpose(step.X), dH1);
      for (const auto* a : {&Y, &dW3, &dW2, &dW1}) benchmark::DoNotOptimize(a->raw_data());
    });
    timer.time_reference([&] { step.reference(); });
  }
  timer.report(state);
}
BENCHMARK(mlp_gemms_ops)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- an elementwise chain
// ------------------------------------------------------------------------

constexpr std::int64_t kElements = std::int64_t{4} << 20;  // 4M floats, 16 MB

void relu_affine(benchmark::State& state) {
  const std::vector<float> x = values(kElements, 11);
  const jute::Array X = jute::Array::from_vector(x, {kElements});
  std::vector<float> out(x.size());

  PairedTimer timer;
  for (auto _ : state) {
    timer.time_jute([&] {
      const jute::Array y = jute::maximum(X * 2.0f + 1.0f, 0.0f);
      benchmark::DoNotOptimize(y.raw_data());
    });
    timer.time_reference([&] {
      for (std::size_t i = 0; i < x.size(); ++i) out[i] = std::max(x[i] * 2.0f + 1.0f, 0.0f);
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    });
  }
  timer.report(state);
}
BENCHMARK(relu_affine)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- allocation
// ----------------------------------------------------------------------------------

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

/// One cycle: allocate a 16 MB Array (written in full by zeros) and drop it.
void alloc_16mb(benchmark::State& state) {
  benchmark::DoNotOptimize(jute::zeros({kElements}).raw_data());  // the first: may fault
  const long before = minor_faults();
  for (auto _ : state) {
    const jute::Array a = jute::zeros({kElements});
    benchmark::DoNotOptimize(a.raw_data());
  }
  state.counters["faults_after_first"] = static_cast<double>(minor_faults() - before);
  state.SetBytesProcessed(state.iterations() * kElements * 4);
}
BENCHMARK(alloc_16mb)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
