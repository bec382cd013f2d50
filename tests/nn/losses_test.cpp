// Optax losses: every loss vector of the Optax test suite (spec optax.md §5a), their float64
// values, shape and dtype errors, and check_grads.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/nn/losses.hpp"
#include "jute/ops.hpp"
#include "jute/testing/check_grads.hpp"

using namespace jute;
namespace nn = jute::nn;

TEST_SUITE("nn.losses") {
  TEST_CASE("nn.losses: softmax cross-entropy, one-hot and integer labels (Optax's vectors)") {
    const Array logits = Array({{10.f, 1.f, -2.f}, {1.f, 4.f, 0.2f}});
    const Array onehot = Array({{0.f, 1.f, 0.f}, {1.f, 0.f, 0.f}});
    const Array expected = Array({9.00013f, 3.0696733f});
    const Array ce = nn::softmax_cross_entropy(logits, onehot);
    CHECK(ce.shape() == Shape{2});
    CHECK(allclose(ce, expected, 0, 1e-4));
    const Array ce_int = nn::softmax_cross_entropy_with_integer_labels(logits, Array({1, 0}));
    CHECK(allclose(ce_int, ce, 1e-6, 0));
    // float64 agrees with the float64 values to 1e-12.
    const Array exact = Array({9.000129545625043, 3.069673290824963}, float64);
    const Array logits64 = Array({{10.0, 1.0, -2.0}, {1.0, 4.0, 0.2}}, float64);
    CHECK(allclose(nn::softmax_cross_entropy(logits64, onehot.astype(float64)), exact, 1e-12, 0));
    CHECK(allclose(nn::softmax_cross_entropy_with_integer_labels(logits64, Array({1, 0})), exact,
                   1e-12, 0));
    // The docstring example.
    const Array l2 = Array({{1.2f, -0.8f, -0.5f}, {0.9f, -1.2f, 1.1f}});
    const Array want = Array({0.2761f, 2.9518f});
    CHECK(allclose(nn::softmax_cross_entropy(l2, one_hot(Array({0, 1}), 3)), want, 0, 1e-4));
    CHECK(
        allclose(nn::softmax_cross_entropy_with_integer_labels(l2, Array({0, 1})), want, 0, 1e-4));
    // Batched rows of any rank; labels with the logits' shape minus the class axis.
    const Array batched = reshape(concatenate({logits, l2}, 0), {2, 2, 3});
    const Array labels = Array({{1, 0}, {0, 1}});
    CHECK(allclose(nn::softmax_cross_entropy_with_integer_labels(batched, labels),
                   Array({{9.00013f, 3.0696733f}, {0.2761f, 2.9518f}}), 0, 1e-4));
  }

  TEST_CASE("nn.losses: integer labels: negative labels count from the end, out of range is NaN") {
    const Array logits = Array({{10.f, 1.f, -2.f}, {1.f, 4.f, 0.2f}});
    const Array neg = nn::softmax_cross_entropy_with_integer_labels(logits, Array({-2, -3}));
    CHECK(allclose(neg, Array({9.00013f, 3.0696733f}), 0, 1e-4));
    const auto out =
        nn::softmax_cross_entropy_with_integer_labels(logits, Array({3, -4})).to_vector<float>();
    CHECK(std::isnan(out[0]));
    CHECK(std::isnan(out[1]));
  }

  TEST_CASE("nn.losses: safe softmax cross-entropy rows with -inf logits (Optax's vectors)") {
    const float inf = std::numeric_limits<float>::infinity();
    const Array logits = Array({{-inf, 0.f, 0.f}, {-inf, 0.f, 0.f}, {-inf, 0.f, -inf}});
    const Array labels = Array({{0.f, .5f, .5f}, {.4f, .3f, .3f}, {0.f, 1.f, 0.f}});
    const auto v = nn::safe_softmax_cross_entropy(logits, labels).to_vector<float>();
    CHECK(v[0] == doctest::Approx(0.693147).epsilon(1e-6));
    CHECK(v[1] == inf);
    CHECK(v[2] == 0.0f);
  }

  TEST_CASE("nn.losses: sigmoid binary cross-entropy (Optax's vectors, means over 2)") {
    CHECK(mean(nn::sigmoid_binary_cross_entropy(Array({-1e9f, -1e-9f}), Array({1.f, 0.f})))
              .item<float>() == doctest::Approx(5e8).epsilon(1e-6));
    CHECK(mean(nn::sigmoid_binary_cross_entropy(Array({-1e9f, -1e-9f}), Array({0.f, 1.f})))
              .item<float>() == doctest::Approx(0.3465736).epsilon(1e-6));
    CHECK(mean(nn::sigmoid_binary_cross_entropy(Array({0.f, 0.f}), Array({1.f, 0.f})))
              .item<float>() == doctest::Approx(0.6931472).epsilon(1e-6));
    // Integer labels are converted to the logits' dtype.
    const Array r = nn::sigmoid_binary_cross_entropy(Array({0.0, 2.0}, float64), Array({1, 0}));
    CHECK(r.dtype() == float64);
    CHECK(allclose(r, Array({0.6931471805599453, 2.1269280110429727}, float64), 1e-14, 0));
  }

  TEST_CASE("nn.losses: regression losses (Optax's vectors)") {
    const Array ys = Array({-2.f, .5f, 0.f, .5f, 2.f, 4.f, 132.f});
    const Array ts = Array({0.f, -.5f, 0.f, 1.f, 1.f, 2.f, .3f});
    CHECK(allclose(nn::huber_loss(ys, ts), Array({1.5f, .5f, 0.f, .125f, .5f, 1.5f, 131.2f}), 1e-6,
                   1e-6));
    CHECK(allclose(nn::huber_loss(ys, ts, 2.0),
                   Array({2.f, .5f, 0.f, .125f, .5f, 2.f, 2.f * 131.7f - 2.f}), 1e-6, 1e-5));
    const Array p = Array({-2.f, -1.f, .5f, 1.f});
    const Array t = Array({-1.5f, 0.f, -1.f, 1.f});
    CHECK(nn::squared_error(p, t).to_vector<float>() == std::vector<float>{.25f, 1.f, 2.25f, 0.f});
    CHECK(nn::l2_loss(p, t).to_vector<float>() == std::vector<float>{.125f, .5f, 1.125f, 0.f});
    CHECK(nn::squared_error(p).to_vector<float>() == std::vector<float>{4.f, 1.f, .25f, 1.f});
    CHECK(nn::l2_loss(p).to_vector<float>() == std::vector<float>{2.f, .5f, .125f, .5f});
    CHECK(allclose(
        nn::log_cosh(Array({500.f, -2.f, -1.f, .5f, 1.f}), Array({-200.f, -1.5f, 0.f, -1.f, 1.f})),
        Array({699.3068f, 0.12011445f, 0.4337809f, 0.85544014f, 0.f}), 1e-6, 1e-6));
  }

  TEST_CASE("nn.losses: smooth_labels (Optax's vectors)") {
    const Array labels = Array({{0.f, 1.f, 0.f}, {1.f, 0.f, 0.f}});
    CHECK(allclose(nn::smooth_labels(labels, 0.1), labels * 0.9 + 0.1 / 3.0, 0, 1e-7));
    CHECK(allclose(nn::smooth_labels(labels, 1.0), full({2, 3}, 1.0 / 3.0), 0, 1e-7));
    CHECK_THROWS_AS(nn::smooth_labels(labels, 1.5), ValueError);
  }

  TEST_CASE("nn.losses: accuracy is an f32[] mean of argmax == label") {
    const Array logits = Array({{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}});
    const Array acc = nn::accuracy(logits, Array({1, 0, 0, 1}));
    CHECK(acc.dtype() == float32);
    CHECK(acc.shape() == Shape{});
    CHECK(acc.item<float>() == 0.5f);
    CHECK(nn::accuracy(logits, Array({1, 0, 1, 0})).item<float>() == 1.0f);
    CHECK_THROWS_AS(nn::accuracy(logits, Array({1.f, 0.f, 1.f, 0.f})), DtypeError);
    CHECK_THROWS_AS(nn::accuracy(logits, Array({1, 0})), ShapeError);
  }

  TEST_CASE("nn.losses: wrong label shapes and dtypes are typed errors naming the op") {
    const Array logits = Array({{1.f, 2.f, 3.f}, {1.f, 2.f, 3.f}});
    CHECK_THROWS_AS(nn::softmax_cross_entropy_with_integer_labels(logits, Array({0.f, 1.f})),
                    DtypeError);
    CHECK_THROWS_AS(nn::softmax_cross_entropy_with_integer_labels(logits, Array({{0}, {1}})),
                    ShapeError);
    CHECK_THROWS_AS(nn::softmax_cross_entropy_with_integer_labels(Array({{1, 2}}), Array({0})),
                    DtypeError);
    CHECK_THROWS_AS(nn::softmax_cross_entropy(logits, Array({1.f, 0.f, 0.f})), ShapeError);
    CHECK_THROWS_AS(nn::sigmoid_binary_cross_entropy(logits, Array({1.f})), ShapeError);
    CHECK_THROWS_AS(nn::squared_error(Array({1.f, 2.f}), Array({1.f})), ShapeError);
    CHECK_THROWS_AS(nn::huber_loss(Array({1, 2}), Array({1, 2})), DtypeError);
    try {
      nn::softmax_cross_entropy_with_integer_labels(logits, Array({0, 1, 2}));
      FAIL("expected a ShapeError");
    } catch (const ShapeError& e) {
      const std::string msg = e.what();
      CHECK(msg.rfind("[softmax_cross_entropy_with_integer_labels]", 0) == 0);
      CHECK(msg.find("(2,)") != std::string::npos);
      CHECK(msg.find("(3,)") != std::string::npos);
    }
  }

  TEST_CASE("nn.losses: check_grads to second order") {
    const Array logits = Array({{0.3, -1.2, 2.0}, {1.1, 0.4, -0.6}}, float64);
    const Array soft = Array({{0.2, 0.5, 0.3}, {0.6, 0.1, 0.3}}, float64);
    const Array t = Array({{0.5, -1.0, 1.2}, {2.0, 0.1, -0.9}}, float64);
    CHECK_NOTHROW(testing::check_grads(
        [](const std::vector<Array>& a) { return nn::softmax_cross_entropy(a[0], a[1]); },
        {logits, soft}, 2));
    CHECK_NOTHROW(testing::check_grads(
        [](const Array& a) {
          return nn::softmax_cross_entropy_with_integer_labels(a, Array({2, 0}));
        },
        logits, 2));
    CHECK_NOTHROW(testing::check_grads(
        [](const std::vector<Array>& a) { return nn::sigmoid_binary_cross_entropy(a[0], a[1]); },
        {logits, soft}, 2));
    for (const auto& f : std::vector<ArraysFn>{
             [](const std::vector<Array>& a) { return nn::squared_error(a[0], a[1]); },
             [](const std::vector<Array>& a) { return nn::l2_loss(a[0], a[1]); },
             [](const std::vector<Array>& a) { return nn::huber_loss(a[0], a[1]); },
             [](const std::vector<Array>& a) { return nn::log_cosh(a[0], a[1]); }}) {
      CHECK_NOTHROW(testing::check_grads(f, {logits, t}, 2));
    }
    CHECK_NOTHROW(
        testing::check_grads([](const Array& a) { return nn::smooth_labels(a, 0.1); }, soft, 2));
    // The integer-label form has the gradient softmax − one_hot.
    const Array g = grad([](const Array& a) {
      return sum(nn::softmax_cross_entropy_with_integer_labels(a, Array({2, 0})));
    })(logits);
    const Array p = exp(logits - logsumexp(logits, -1, true));
    CHECK(allclose(g, p - one_hot(Array({2, 0}), 3, float64), 1e-14, 1e-15));
  }
}

TEST_SUITE("nn.losses") {
  TEST_CASE("nn.losses: properties: integer and one-hot cross-entropy agree, losses are >= 0") {
    CHECK(rc::check("integer labels equal their one-hot labels", [] {
      const auto rows = *rc::gen::inRange<std::int64_t>(1, 5);
      const auto classes = *rc::gen::inRange<std::int64_t>(1, 7);
      const auto ints = *rc::gen::container<std::vector<int>>(
          static_cast<std::size_t>(rows * classes), rc::gen::inRange(-300, 301));
      std::vector<double> v(ints.begin(), ints.end());
      for (double& e : v) e /= 10.0;
      const Array logits = Array::from_vector(v, {rows, classes}, float64);
      const auto labels = *rc::gen::container<std::vector<int>>(
          static_cast<std::size_t>(rows), rc::gen::inRange(0, static_cast<int>(classes)));
      const Array lab = Array::from_vector(labels, {rows});
      const Array ce = nn::softmax_cross_entropy_with_integer_labels(logits, lab);
      RC_ASSERT(allclose(ce, nn::softmax_cross_entropy(logits, one_hot(lab, classes, float64)),
                         1e-12, 1e-12));
      RC_ASSERT(all(ce >= 0.0).item<bool>());
      RC_ASSERT(all(nn::huber_loss(logits, logits * 0.5) >= 0.0).item<bool>());
      RC_ASSERT(allclose(nn::huber_loss(logits * 1e-3, zeros_like(logits)),
                         nn::l2_loss(logits * 1e-3, zeros_like(logits)), 1e-12, 1e-15));
    }));
  }
}
