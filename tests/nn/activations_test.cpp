// jax.nn activations: values against float64 references (computed from the definitions with
// Python's math module), derivative conventions at the kinks, no overflow, and check_grads.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/nn/activations.hpp"
#include "jute/ops.hpp"
#include "jute/testing/check_grads.hpp"

using namespace jute;
namespace nn = jute::nn;

namespace {

const std::vector<double> kPoints = {-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 7.0};

void check_values(const std::function<Array(const Array&)>& f, const std::vector<double>& want,
                  const std::string& name) {
  INFO(name);
  const Array x64 = Array::from_vector(kPoints, {8}, float64);
  const Array y64 = f(x64);
  CHECK(y64.dtype() == float64);
  CHECK(allclose(y64, Array::from_vector(want, {8}, float64), 1e-14, 1e-15));
  const Array y32 = f(x64.astype(float32));
  CHECK(y32.dtype() == float32);
  CHECK(allclose(y32, Array::from_vector(want, {8}, float32), 2e-6, 1e-7));
}

double derivative_at(const ArrayFn& f, double x) {
  return grad([&](const Array& v) { return sum(f(v)); })(Array({x}, float64)).item<double>();
}

}  // namespace

TEST_SUITE("nn.activations") {
  TEST_CASE("nn.activations: values match float64 references in float64 and float32") {
    check_values(nn::relu, {0, 0, 0, 0, 0.5, 1, 3, 7}, "relu");
    check_values(nn::relu6, {0, 0, 0, 0, 0.5, 1, 3, 6}, "relu6");
    check_values([](const Array& x) { return nn::leaky_relu(x); },
                 {-0.03, -0.01, -0.005, 0, 0.5, 1, 3, 7}, "leaky_relu");
    check_values([](const Array& x) { return nn::leaky_relu(x, 0.2); },
                 {-0.6000000000000001, -0.2, -0.1, 0, 0.5, 1, 3, 7}, "leaky_relu 0.2");
    check_values([](const Array& x) { return nn::elu(x); },
                 {-0.950212931632136, -0.6321205588285577, -0.3934693402873666, 0, 0.5, 1, 3, 7},
                 "elu");
    check_values([](const Array& x) { return nn::gelu(x); },
                 {-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0,
                  0.34571400982514394, 0.8411919906082768, 2.996362607918227, 6.999999999999997},
                 "gelu (tanh)");
    check_values([](const Array& x) { return nn::gelu(x, /*approximate=*/false); },
                 {-0.00404969409489031, -0.15865525393145707, -0.15426876936299344, 0.0,
                  0.34573123063700656, 0.8413447460685429, 2.99595030590511, 6.999999999991041},
                 "gelu (erf)");
    const std::vector<double> silu = {
        -0.14227761953270035, -0.2689414213699951, -0.1887703343990727, 0.0,
        0.3112296656009273,   0.7310585786300049,  2.8577223804673,     6.993622641639195};
    check_values(nn::silu, silu, "silu");
    check_values(nn::swish, silu, "swish");
    check_values(nn::softplus,
                 {0.04858735157374206, 0.31326168751822286, 0.4740769841801067, 0.6931471805599453,
                  0.9740769841801067, 1.3132616875182228, 3.048587351573742, 7.000911466453775},
                 "softplus");
    check_values(
        nn::log_sigmoid,
        {-3.048587351573742, -1.3132616875182228, -0.9740769841801067, -0.6931471805599453,
         -0.4740769841801067, -0.31326168751822286, -0.04858735157374206, -0.0009114664537742447},
        "log_sigmoid");
    std::vector<double> sig, th;
    for (double x : kPoints) {
      sig.push_back(1.0 / (1.0 + std::exp(-x)));
      th.push_back(std::tanh(x));
    }
    check_values([](const Array& x) { return nn::sigmoid(x); }, sig, "sigmoid");
    check_values([](const Array& x) { return nn::tanh(x); }, th, "tanh");
  }

  TEST_CASE("nn.activations: softmax, log_softmax and standardize over an axis") {
    const Array x = Array({{1.0, 2.0, 3.0, -1.0}}, float64);
    CHECK(allclose(
        nn::softmax(x),
        Array({{0.0889468172974043, 0.24178251715880075, 0.6572330228318554, 0.01203764271193945}},
              float64),
        1e-14, 0));
    CHECK(allclose(nn::log_softmax(x),
                   Array({{-2.4197166463153397, -1.4197166463153397, -0.41971664631533956,
                           -4.419716646315339}},
                         float64),
                   1e-14, 0));
    CHECK(allclose(
        nn::standardize(x),
        Array({{-0.1690304645907972, 0.5070913937723917, 1.1832132521355805, -1.521274181317175}},
              float64),
        1e-13, 0));
    // Over axis 0 of the transpose: the same numbers.
    CHECK(allclose(nn::softmax(transpose(x), 0), transpose(nn::softmax(x)), 1e-15, 0));
    CHECK(allclose(nn::log_softmax(transpose(x), 0), transpose(nn::log_softmax(x)), 1e-15, 0));
    CHECK(allclose(nn::standardize(transpose(x), 0), transpose(nn::standardize(x)), 1e-15, 0));
    // Large logits do not overflow; rows sum to 1.
    const Array big = Array({{1000.f, 1001.f}, {-1000.f, -1000.f}});
    const Array p = nn::softmax(big);
    CHECK(allclose(sum(p, -1), Array({1.f, 1.f}), 1e-6, 0));
    CHECK(allclose(nn::log_softmax(big),
                   Array({{-1.3132616875182228f, -0.31326168751822286f},
                          {-0.6931471805599453f, -0.6931471805599453f}}),
                   1e-6, 0));
    // Integers compute in float32.
    CHECK(nn::softmax(Array({1, 2})).dtype() == float32);
    CHECK(nn::relu(Array({-1, 2})).to_vector<float>() == std::vector<float>{0.f, 2.f});
  }

  TEST_CASE("nn.activations: derivatives at the kinks follow JAX") {
    CHECK(derivative_at(nn::relu, 0.0) == 0.0);
    CHECK(derivative_at(nn::relu6, 0.0) == 0.0);
    CHECK(derivative_at(nn::relu6, 6.0) == 0.0);
    CHECK(derivative_at(nn::relu6, 3.0) == 1.0);
    CHECK(derivative_at([](const Array& x) { return nn::leaky_relu(x); }, 0.0) == 1.0);
    CHECK(derivative_at([](const Array& x) { return nn::leaky_relu(x); }, -2.0) ==
          doctest::Approx(0.01).epsilon(1e-15));
    CHECK(derivative_at([](const Array& x) { return nn::elu(x); }, 0.0) == 1.0);
    CHECK(derivative_at(nn::softplus, 0.0) == 0.5);
    CHECK(derivative_at(nn::log_sigmoid, 0.0) == 0.5);
    // softplus' = sigmoid, also far out.
    CHECK(derivative_at(nn::softplus, 2.0) == doctest::Approx(1.0 / (1.0 + std::exp(-2.0))));
    CHECK(derivative_at(nn::softplus, -800.0) == 0.0);
    CHECK(derivative_at(nn::softplus, 800.0) == 1.0);
  }

  TEST_CASE("nn.activations: no overflow or NaN for large inputs, values or gradients") {
    const Array x = Array({-1000.0, -80.0, 80.0, 1000.0}, float32);
    const float tiny = std::exp(-80.f);
    CHECK(allclose(nn::softplus(x), Array({0.f, tiny, 80.f, 1000.f}), 1e-6, 0));
    CHECK(allclose(nn::log_sigmoid(x), Array({-1000.f, -80.f, -tiny, 0.f}), 1e-6, 0));
    for (const ArrayFn& f : std::vector<ArrayFn>{
             nn::softplus, nn::log_sigmoid, nn::silu, [](const Array& v) { return nn::elu(v); },
             [](const Array& v) { return nn::gelu(v); }, nn::relu6}) {
      const Array g = grad([&](const Array& v) { return sum(f(v)); })(x);
      CHECK(all(isfinite(g)).item<bool>());
      CHECK(all(isfinite(f(x))).item<bool>());
    }
  }

  TEST_CASE("nn.activations: check_grads to second order") {
    // Points away from the kinks (finite differences straddling a kink disagree by design).
    const Array x = Array({-2.3, -0.7, 0.4, 1.9, 5.1}, float64);
    const std::vector<std::pair<std::string, ArrayFn>> fns = {
        {"relu", nn::relu},
        {"relu6", nn::relu6},
        {"leaky_relu", [](const Array& v) { return nn::leaky_relu(v); }},
        {"elu", [](const Array& v) { return nn::elu(v, 1.5); }},
        {"gelu", [](const Array& v) { return nn::gelu(v); }},
        {"gelu exact", [](const Array& v) { return nn::gelu(v, false); }},
        {"silu", nn::silu},
        {"softplus", nn::softplus},
        {"log_sigmoid", nn::log_sigmoid},
        {"sigmoid", [](const Array& v) { return nn::sigmoid(v); }},
        {"tanh", [](const Array& v) { return nn::tanh(v); }},
        {"softmax", [](const Array& v) { return nn::softmax(v); }},
        {"log_softmax", [](const Array& v) { return nn::log_softmax(v); }},
        {"standardize", [](const Array& v) { return nn::standardize(v); }},
    };
    for (const auto& [name, f] : fns) {
      INFO(name);
      CHECK_NOTHROW(testing::check_grads(f, x, 2));
    }
    const Array m = reshape(x.astype(float64) * 0.5, {1, 5});
    const Array m2 = concatenate({m, m * -1.0}, 0);
    CHECK_NOTHROW(testing::check_grads([](const Array& v) { return nn::softmax(v, 0); }, m2, 2));
    CHECK_NOTHROW(
        testing::check_grads([](const Array& v) { return nn::standardize(v, 0); }, m2, 2));
  }
}

namespace {
/// A float64 (rows, cols) Array with entries in [−50, 50] (quarter steps).
Array gen_matrix() {
  const auto rows = *rc::gen::inRange<std::int64_t>(1, 4);
  const auto cols = *rc::gen::inRange<std::int64_t>(1, 6);
  const auto ints = *rc::gen::container<std::vector<int>>(static_cast<std::size_t>(rows * cols),
                                                          rc::gen::inRange(-200, 201));
  std::vector<double> v(ints.begin(), ints.end());
  for (double& e : v) e /= 4.0;
  return Array::from_vector(v, {rows, cols}, float64);
}
}  // namespace

TEST_SUITE("nn.activations") {
  TEST_CASE("nn.activations: properties of softmax, log_softmax, softplus and standardize") {
    CHECK(rc::check("softmax rows sum to 1 and do not change under a shift", [] {
      const Array x = gen_matrix();
      const Array p = nn::softmax(x);
      RC_ASSERT(allclose(sum(p, -1), ones({x.shape(0)}, float64), 1e-12, 0));
      RC_ASSERT(allclose(nn::softmax(x + 123.0), p, 1e-9, 1e-15));
      RC_ASSERT(allclose(nn::log_softmax(x), log(p), 1e-9, 1e-9));
    }));
    CHECK(rc::check("softplus(x) − softplus(−x) = x and softplus' = sigmoid", [] {
      const Array x = gen_matrix();
      RC_ASSERT(allclose(nn::softplus(x) - nn::softplus(-x), x, 1e-12, 1e-12));
      const Array g = grad([](const Array& v) { return sum(nn::softplus(v)); })(x);
      RC_ASSERT(allclose(g, nn::sigmoid(x), 1e-12, 1e-15));
    }));
    CHECK(rc::check("standardized rows have mean 0", [] {
      const Array x = gen_matrix();
      RC_ASSERT(allclose(mean(nn::standardize(x), -1), zeros({x.shape(0)}, float64), 0, 1e-9));
    }));
  }
}
