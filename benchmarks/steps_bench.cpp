// jute's side of the jute-versus-LibTorch comparison (issue 11): float32 training steps and
// forwards, each written as a jute user would — parameters in a Tree, the model a pure function
// of them, the loss through value_and_grad, the step through optim::sgd and update_and_apply:
//   mlp_step       MLP 784→512→512→10, ReLU, batch 128: forward, mean softmax cross-entropy
//                  with integer labels, backward, SGD;
//   cnn_step       the Flax MNIST CNN (Conv 32 3×3 SAME, relu, avg_pool 2×2, Conv 64 3×3 SAME,
//                  relu, avg_pool 2×2, flatten, Dense 256, relu, Dense 10), batch 128, NHWC;
//   deep_mlp_step  64 Dense layers 64→64 with ReLU between them, batch 32 (framework overhead);
//   mlp_fwd, cnn_fwd  the forwards alone (logits), outside any transformation;
//   mlp_step_layers, cnn_step_layers  mlp_step and cnn_step with the models written as nn modules
//                  (nn::Dense, nn::Conv, nn::avg_pool through nn::init / nn::apply), the way a
//                  Flax user writes them: what the module machinery adds;
//   mlp_step_roofline, mlp_fwd_roofline  the GEMMs of mlp_step (3 forward, 5 backward: none for
//                  the input) and of mlp_fwd, each a cblas_sgemm (OpenBLAS, LibTorch's GEMM here)
//                  into buffers allocated once: the roofline issue 11 sets;
//   mlp_step_roofline_dnnl, mlp_fwd_roofline_dnnl  the same GEMMs through jute's own float32 GEMM
//                  (oneDNN's dnnl_sgemm, src/ops/blas.hpp): the time a jute step cannot go below.
// LibTorch's programs are in benchmarks/peers/; benchmarks/peers/compare.py runs both sides
// alternately, one workload per process, and prints the table of docs/performance.md.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "jute/autodiff.hpp"
#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/optim.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"
#include "ops/blas.hpp"
#include "step_workloads.hpp"

namespace {

using jute::Array;
using jute::Tree;

void set_threads() {
  steps::begin();
  openblas_set_num_threads(steps::requested_threads());
}

Array input(const jute::Shape& shape, std::uint32_t seed) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return Array::from_vector(steps::values(n, seed, 0.0f, 1.0f), shape);
}

Array labels(int n, int classes) { return Array::from_vector(steps::labels(n, classes), {n}); }

/// Uniform in ±1/√fan_in (LibTorch's default range; the values do not change the timing).
Array uniform(const jute::Shape& shape, std::int64_t fan_in, std::uint32_t seed) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  const auto bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in)));
  return Array::from_vector(steps::values(n, seed, -bound, bound), shape);
}

/// A Dense or Conv layer's {"kernel", "bias"} (Flax's names and layouts).
Tree layer(const jute::Shape& kernel_shape, std::uint32_t seed) {
  std::int64_t fan_in = 1;
  for (std::size_t i = 0; i + 1 < kernel_shape.size(); ++i) fan_in *= kernel_shape[i];
  return Tree{{"kernel", uniform(kernel_shape, fan_in, seed)},
              {"bias", uniform({kernel_shape.back()}, fan_in, seed + 1)}};
}

Array dense(const Tree& p, const Array& x) { return matmul(x, p.get("kernel")) + p.get("bias"); }

Array conv(const Tree& p, const Array& x) {
  return conv_general_dilated_bias(x, p.get("kernel"), p.get("bias"), {1, 1},
                                   jute::Padding::same());
}

/// Flax's avg_pool with a 2×2 window and stride: the window sums over 4.
Array avg_pool2(const Array& x) {
  return reduce_window(x, jute::ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}) * 0.25;
}

// ---- the models ---------------------------------------------------------------------------------

Tree mlp_params() {
  return Tree{{"Dense_0", layer({steps::kMlpIn, steps::kMlpHidden}, 10)},
              {"Dense_1", layer({steps::kMlpHidden, steps::kMlpHidden}, 20)},
              {"Dense_2", layer({steps::kMlpHidden, steps::kClasses}, 30)}};
}

Array mlp(const Tree& p, const Array& x) {
  Array h = jute::nn::relu(dense(p.subtree("Dense_0"), x));
  h = jute::nn::relu(dense(p.subtree("Dense_1"), h));
  return dense(p.subtree("Dense_2"), h);
}

Tree cnn_params() {
  return Tree{{"Conv_0", layer({3, 3, 1, steps::kConv1}, 10)},
              {"Conv_1", layer({3, 3, steps::kConv1, steps::kConv2}, 20)},
              {"Dense_0", layer({steps::kConv2 * 7 * 7, steps::kCnnHidden}, 30)},
              {"Dense_1", layer({steps::kCnnHidden, steps::kClasses}, 40)}};
}

Array cnn(const Tree& p, const Array& x) {
  Array h = avg_pool2(jute::nn::relu(conv(p.subtree("Conv_0"), x)));
  h = avg_pool2(jute::nn::relu(conv(p.subtree("Conv_1"), h)));
  h = reshape(h, {h.shape(0), -1});
  h = jute::nn::relu(dense(p.subtree("Dense_0"), h));
  return dense(p.subtree("Dense_1"), h);
}

std::vector<std::string> deep_names() {
  std::vector<std::string> names;
  for (int i = 0; i < steps::kDeepLayers; ++i) names.push_back("Dense_" + std::to_string(i));
  return names;
}

Tree deep_params() {
  std::vector<std::pair<std::string, jute::TreeValue>> items;
  const auto names = deep_names();
  for (int i = 0; i < steps::kDeepLayers; ++i)
    items.emplace_back(names[static_cast<std::size_t>(i)],
                       layer({steps::kDeepWidth, steps::kDeepWidth}, 10u + 2u * i));
  return Tree::from_entries(std::move(items));
}

Array deep_mlp(const Tree& p, const Array& x, const std::vector<std::string>& names) {
  Array h = x;
  for (std::size_t i = 0; i < names.size(); ++i) {
    h = dense(p.subtree(names[i]), h);
    if (i + 1 < names.size()) h = jute::nn::relu(h);
  }
  return h;
}

// ---- the same models as nn modules -------------------------------------------------------------

namespace nn = jute::nn;

struct MlpModule {
  static constexpr const char* name = "MLP";
  Array operator()(nn::Scope& s, const Array& x) const {
    Array h = nn::relu(s.child(nn::Dense{.features = steps::kMlpHidden}, x));
    h = nn::relu(s.child(nn::Dense{.features = steps::kMlpHidden}, h));
    return s.child(nn::Dense{.features = steps::kClasses}, h);
  }
};

struct CnnModule {
  static constexpr const char* name = "CNN";
  Array operator()(nn::Scope& s, const Array& x) const {
    Array h = nn::relu(s.child(nn::Conv{.features = steps::kConv1, .kernel_size = {3, 3}}, x));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = nn::relu(s.child(nn::Conv{.features = steps::kConv2, .kernel_size = {3, 3}}, h));
    h = nn::avg_pool(h, {2, 2}, {2, 2});
    h = reshape(h, {h.shape(0), -1});
    h = nn::relu(s.child(nn::Dense{.features = steps::kCnnHidden}, h));
    return s.child(nn::Dense{.features = steps::kClasses}, h);
  }
};

/// A module's params (nn::init) and the model as a pure function of them (nn::apply).
template <class Module>
std::pair<Tree, std::function<Array(const Tree&, const Array&)>> module_model(const Array& x) {
  const jute::Variables vars = nn::init(Module{}, jute::random::key(0), x);
  return {vars.collection("params"), [vars](const Tree& p, const Array& in) {
            return nn::apply(Module{}, vars.with_collection("params", p), in).output;
          }};
}

// ---- training and inference ---------------------------------------------------------------------

/// value_and_grad of the mean cross-entropy, then SGD through update_and_apply (the one-call step
/// docs/optim.md recommends), as one step of a training loop.
template <class Model>
void train(benchmark::State& state, Tree params, const Model& model, const Array& x,
           const Array& y) {
  const auto loss_and_grads = jute::value_and_grad(jute::TreeFn([&](const Tree& p) {
    return mean(jute::nn::softmax_cross_entropy_with_integer_labels(model(p, x), y));
  }));
  const auto tx = jute::optim::sgd(steps::kLearningRate);
  Tree opt_state = tx.init(params);
  steps::run_steps(state, [&] {
    auto [loss, grads] = loss_and_grads(params);
    auto [new_params, new_state] =
        jute::optim::update_and_apply(tx, grads, std::move(opt_state), std::move(params));
    params = std::move(new_params);
    opt_state = std::move(new_state);
    benchmark::DoNotOptimize(loss.item<float>());
  });
}

template <class Model>
void infer(benchmark::State& state, const Tree& params, const Model& model, const Array& x) {
  steps::run_steps(state, [&] {
    Array logits = model(params, x);
    benchmark::DoNotOptimize(logits.data<float>());
  });
}

Array mlp_input() { return input({steps::kMlpBatch, steps::kMlpIn}, 1); }
Array cnn_input() { return input({steps::kCnnBatch, steps::kImage, steps::kImage, 1}, 1); }

void mlp_step(benchmark::State& state) {
  set_threads();
  train(state, mlp_params(), mlp, mlp_input(), labels(steps::kMlpBatch, steps::kClasses));
}

void cnn_step(benchmark::State& state) {
  set_threads();
  train(state, cnn_params(), cnn, cnn_input(), labels(steps::kCnnBatch, steps::kClasses));
}

void deep_mlp_step(benchmark::State& state) {
  set_threads();
  const auto names = deep_names();
  train(
      state, deep_params(),
      [&names](const Tree& p, const Array& x) { return deep_mlp(p, x, names); },
      input({steps::kDeepBatch, steps::kDeepWidth}, 1),
      labels(steps::kDeepBatch, steps::kDeepWidth));
}

void mlp_step_layers(benchmark::State& state) {
  set_threads();
  const Array x = mlp_input();
  auto [params, model] = module_model<MlpModule>(x);
  train(state, std::move(params), model, x, labels(steps::kMlpBatch, steps::kClasses));
}

void cnn_step_layers(benchmark::State& state) {
  set_threads();
  const Array x = cnn_input();
  auto [params, model] = module_model<CnnModule>(x);
  train(state, std::move(params), model, x, labels(steps::kCnnBatch, steps::kClasses));
}

void mlp_fwd(benchmark::State& state) {
  set_threads();
  infer(state, mlp_params(), mlp, mlp_input());
}

void cnn_fwd(benchmark::State& state) {
  set_threads();
  infer(state, cnn_params(), cnn, cnn_input());
}

// ---- the GEMM roofline --------------------------------------------------------------------------

using Sgemm = void (*)(bool ta, bool tb, int m, int n, int k, const float* a, const float* b,
                       float* c);

/// C (m×n) = op(A)·op(B), row-major, into preallocated C: OpenBLAS's cblas_sgemm...
void openblas_sgemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b,
                    float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

/// ...or the GEMM jute's matmul calls (oneDNN's dnnl_sgemm with jute's thread count).
void jute_sgemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  jute::detail::gemm("roofline", ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

/// The GEMMs of mlp_step (or of its forward alone) on buffers allocated once.
void mlp_gemms(benchmark::State& state, bool backward, Sgemm sgemm) {
  set_threads();
  const int B = steps::kMlpBatch, I = steps::kMlpIn, H = steps::kMlpHidden, O = steps::kClasses;
  const auto buf = [](int r, int c) { return std::vector<float>(static_cast<std::size_t>(r * c)); };
  const auto x = steps::values(B * I, 1), w1 = steps::values(I * H, 2),
             w2 = steps::values(H * H, 3), w3 = steps::values(H * O, 4),
             g3 = steps::values(B * O, 5);
  auto h1 = buf(B, H), h2 = buf(B, H), y = buf(B, O), dh2 = buf(B, H), dh1 = buf(B, H),
       dw3 = buf(H, O), dw2 = buf(H, H), dw1 = buf(I, H);
  steps::run_steps(state, [&] {
    sgemm(false, false, B, H, I, x.data(), w1.data(), h1.data());   // h1 = x W1
    sgemm(false, false, B, H, H, h1.data(), w2.data(), h2.data());  // h2 = h1 W2
    sgemm(false, false, B, O, H, h2.data(), w3.data(), y.data());   // y = h2 W3
    if (backward) {
      sgemm(true, false, H, O, B, h2.data(), g3.data(), dw3.data());   // dW3 = h2ᵀ g3
      sgemm(false, true, B, H, O, g3.data(), w3.data(), dh2.data());   // dh2 = g3 W3ᵀ
      sgemm(true, false, H, H, B, h1.data(), dh2.data(), dw2.data());  // dW2 = h1ᵀ dh2
      sgemm(false, true, B, H, H, dh2.data(), w2.data(), dh1.data());  // dh1 = dh2 W2ᵀ
      sgemm(true, false, I, H, B, x.data(), dh1.data(), dw1.data());   // dW1 = xᵀ dh1
    }
    benchmark::ClobberMemory();
  });
}

void mlp_step_roofline(benchmark::State& state) { mlp_gemms(state, true, openblas_sgemm); }
void mlp_fwd_roofline(benchmark::State& state) { mlp_gemms(state, false, openblas_sgemm); }
void mlp_step_roofline_dnnl(benchmark::State& state) { mlp_gemms(state, true, jute_sgemm); }
void mlp_fwd_roofline_dnnl(benchmark::State& state) { mlp_gemms(state, false, jute_sgemm); }

}  // namespace

BENCHMARK(mlp_step)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_step)->Unit(benchmark::kMillisecond);
BENCHMARK(deep_mlp_step)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_step_layers)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_step_layers)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_fwd)->Unit(benchmark::kMillisecond);
BENCHMARK(cnn_fwd)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_step_roofline)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_fwd_roofline)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_step_roofline_dnnl)->Unit(benchmark::kMillisecond);
BENCHMARK(mlp_fwd_roofline_dnnl)->Unit(benchmark::kMillisecond);
