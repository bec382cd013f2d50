// The Flax MNIST CNN written with the nn layers (Conv 32 3×3 SAME → relu → avg_pool 2×2 → Conv 64
// 3×3 SAME → relu → avg_pool 2×2 → flatten → Dense 256 → relu → Dense 10), batch 128, NHWC,
// float32:
//   cnn_forward_layers   nn::apply of the model (the logits);
//   cnn_step_layers      forward + backward: value_and_grad of the mean softmax cross-entropy
//                        with integer labels over the params tree, through nn::apply.
// Each runs alternately, in one loop, with the same arithmetic written with the ops directly on
// the params tree (no Scope, no layer code), so a busy machine slows both alike. The reported
// time is the layers'; `ops_ms` is the reference's time and `ratio` layers / ops: what the layer
// code adds on top of the ops.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "jute/autodiff.hpp"
#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace {

using jute::Array;
using jute::Tree;
namespace nn = jute::nn;

constexpr std::int64_t kBatch = 128;

struct Cnn {
  static constexpr const char* name = "CNN";
  Array operator()(nn::Scope& s, const Array& x) const {
    Array h = nn::relu(s.child(nn::Conv{.features = 32, .kernel_size = {3, 3}}, x));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = nn::relu(s.child(nn::Conv{.features = 64, .kernel_size = {3, 3}}, h));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = jute::reshape(h, {h.shape(0), -1});
    h = nn::relu(s.child(nn::Dense{.features = 256}, h));
    return s.child(nn::Dense{.features = 10}, h);
  }
};

/// The same network as plain ops over the params tree.
Array cnn_ops(const Tree& p, const Array& x) {
  auto conv = [&](const char* layer, const Array& in) {
    const Tree& t = p.subtree(layer);
    return jute::conv_general_dilated(in, t.get("kernel"), {1, 1}, jute::Padding::same()) +
           t.get("bias");
  };
  auto dense = [&](const char* layer, const Array& in) {
    const Tree& t = p.subtree(layer);
    return jute::matmul(in, t.get("kernel")) + t.get("bias");
  };
  auto pool = [](const Array& in) {
    return jute::reduce_window(in, jute::ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}) * 0.25f;
  };
  Array h = pool(nn::relu(conv("Conv_0", x)));
  h = pool(nn::relu(conv("Conv_1", h)));
  h = jute::reshape(h, {h.shape(0), -1});
  h = nn::relu(dense("Dense_0", h));
  return dense("Dense_1", h);
}

struct Setup {
  Array x = jute::random::uniform(jute::random::key(1), {kBatch, 28, 28, 1});
  Array labels = jute::random::randint(jute::random::key(2), {kBatch}, 0, 10);
  jute::Variables vars = nn::init(Cnn{}, jute::random::key(0), x);
  Tree params = vars.collection("params");
};

Array loss_layers(const Setup& s, const Tree& params) {
  const jute::Variables v = s.vars.with_collection("params", params);
  return jute::mean(
      nn::softmax_cross_entropy_with_integer_labels(nn::apply(Cnn{}, v, s.x).output, s.labels));
}

Array loss_ops(const Setup& s, const Tree& params) {
  return jute::mean(nn::softmax_cross_entropy_with_integer_labels(cnn_ops(params, s.x), s.labels));
}

/// Runs `a` and `b` alternately, reporting a's time as the iteration time and a/b as `ratio`.
template <class A, class B>
void alternate(benchmark::State& state, A a, B b) {
  double ta = 0, tb = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    a();
    const auto t1 = std::chrono::steady_clock::now();
    state.PauseTiming();
    b();
    const auto t2 = std::chrono::steady_clock::now();
    state.ResumeTiming();
    ta += std::chrono::duration<double>(t1 - t0).count();
    tb += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["ratio"] = ta / tb;
  state.counters["ops_ms"] = 1e3 * tb / static_cast<double>(state.iterations());
}

void BM_cnn_forward_layers(benchmark::State& state) {
  const Setup s;
  alternate(
      state, [&] { benchmark::DoNotOptimize(nn::apply(Cnn{}, s.vars, s.x).output); },
      [&] { benchmark::DoNotOptimize(cnn_ops(s.params, s.x)); });
}

void BM_cnn_step_layers(benchmark::State& state) {
  const Setup s;
  const auto g_layers = jute::value_and_grad([&](const Tree& p) { return loss_layers(s, p); });
  const auto g_ops = jute::value_and_grad([&](const Tree& p) { return loss_ops(s, p); });
  alternate(
      state, [&] { benchmark::DoNotOptimize(g_layers(s.params)); },
      [&] { benchmark::DoNotOptimize(g_ops(s.params)); });
}

}  // namespace

BENCHMARK(BM_cnn_forward_layers)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_cnn_step_layers)->Unit(benchmark::kMillisecond)->UseRealTime();
