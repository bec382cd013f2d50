// Pooling: Flax's PoolTest values (spec flax.md §4 item 8), padding, strides, batch axes,
// check_grads and the errors.
#include <doctest/doctest.h>

#include <vector>

#include "jute/autodiff.hpp"
#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/testing/check_grads.hpp"
#include "layers_test_util.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;
using jute_test::message_of;
using layers_test::values;

TEST_SUITE("nn.layers.pooling") {
  TEST_CASE("nn.layers.pooling: Flax's test_avg_pool and its gradient") {
    const Array x = full({1, 3, 3, 1}, 2.0);
    CHECK(array_equal(nn::avg_pool(x, {2, 2}), full({1, 2, 2, 1}, 2.0)));
    const Array g = grad([](const Array& a) { return sum(nn::avg_pool(a, {2, 2})); })(x);
    CHECK(values(g) == std::vector<double>{.25, .5, .25, .5, 1, .5, .25, .5, .25});
  }

  TEST_CASE("nn.layers.pooling: Flax's test_max_pool and its gradient") {
    const Array x = reshape(arange(0.0, 9.0, 1.0), {1, 3, 3, 1});
    CHECK(values(nn::max_pool(x, {2, 2})) == std::vector<double>{4, 5, 7, 8});
    const Array g = grad([](const Array& a) { return sum(nn::max_pool(a, {2, 2})); })(x);
    CHECK(values(g) == std::vector<double>{0, 0, 0, 0, 1, 1, 0, 1, 1});
  }

  TEST_CASE("nn.layers.pooling: Flax's test_avg_pool_padding_same, count_include_pad both ways") {
    const Array x = reshape(Array({1.0f, 2.0f, 3.0f, 4.0f}), {1, 2, 2, 1});
    CHECK(values(nn::avg_pool(x, {2, 2}, {1, 1}, "SAME")) ==
          std::vector<double>{2.5, 1.5, 1.75, 1});
    CHECK(values(nn::avg_pool(x, {2, 2}, {1, 1}, "SAME", false)) ==
          std::vector<double>{2.5, 3, 3.5, 4});
    // The same without a batch axis and with two.
    CHECK(values(nn::avg_pool(reshape(x, {2, 2, 1}), {2, 2}, {}, "SAME", false)) ==
          std::vector<double>{2.5, 3, 3.5, 4});
    CHECK(values(nn::avg_pool(reshape(x, {1, 1, 2, 2, 1}), {2, 2}, {}, "SAME", false)) ==
          std::vector<double>{2.5, 3, 3.5, 4});
  }

  TEST_CASE("nn.layers.pooling: strides, explicit padding, min_pool, 1-D and integer inputs") {
    const Array x = reshape(Array({3.0f, -1.0f, 4.0f, 1.0f, -5.0f, 9.0f, 2.0f}), {1, 7, 1});
    CHECK(values(nn::max_pool(x, {3}, {2})) == std::vector<double>{4, 4, 9});
    CHECK(values(nn::min_pool(x, {3}, {2})) == std::vector<double>{-1, -5, -5});
    CHECK(values(nn::avg_pool(x, {2}, {2})) == std::vector<double>{1, 2.5, 2});
    // Explicit (1, 2): padding is -inf for max, +inf for min, 0 for the sum (counted in the mean).
    const std::vector<std::pair<std::int64_t, std::int64_t>> pads{{1, 2}};
    CHECK(values(nn::max_pool(x, {3}, {3}, pads)) == std::vector<double>{3, 4, 9});
    CHECK(values(nn::min_pool(x, {3}, {3}, pads)) == std::vector<double>{-1, -5, 2});
    CHECK(values(nn::avg_pool(x, {3}, {3}, pads)) ==
          std::vector<double>{static_cast<float>(2.0 / 3), 0, static_cast<float>(11.0 / 3)});
    CHECK(values(nn::avg_pool(x, {3}, {3}, pads, false)) == std::vector<double>{1, 0, 5.5});
    // Integers: max keeps the dtype, the mean is float32.
    const Array xi = reshape(Array({1, 5, 2, 8}, int32), {1, 4, 1});
    CHECK(nn::max_pool(xi, {2}, {2}).dtype() == int32);
    CHECK(values(nn::max_pool(xi, {2}, {2})) == std::vector<double>{5, 8});
    CHECK(nn::avg_pool(xi, {2}, {2}).dtype() == float32);
    CHECK(values(nn::avg_pool(xi, {2}, {2})) == std::vector<double>{3, 5});
    // Channels are pooled independently; shapes of the MNIST CNN's pools.
    CHECK(nn::avg_pool(ones({2, 28, 28, 32}), {2, 2}, {2, 2}).shape() == Shape{2, 14, 14, 32});
    CHECK(nn::max_pool(ones({2, 5, 5, 3}), {3, 3}, {2, 2}, "SAME").shape() == Shape{2, 3, 3, 3});
  }

  TEST_CASE("nn.layers.pooling: check_grads of avg_pool, max_pool and min_pool") {
    const Array x = jr::normal(jr::key(1), {2, 5, 4, 3}).astype(float64);
    testing::check_grads(
        [](const Array& a) {
          return nn::avg_pool(a, {2, 2}, {2, 1}, "SAME");
        },
        x, 2);
    testing::check_grads(
        [](const Array& a) {
          return nn::avg_pool(a, {3, 2}, {1, 2}, "SAME", false);
        },
        x, 2);
    testing::check_grads(
        [](const Array& a) {
          return nn::max_pool(a, {2, 3}, {1, 1}, "SAME");
        },
        x, 2);
    testing::check_grads([](const Array& a) { return nn::min_pool(a, {2, 2}, {2, 2}); }, x, 2);
  }

  TEST_CASE("nn.layers.pooling: errors") {
    CHECK(message_of([] {
            nn::max_pool(ones({4, 4}), {2, 2});
          }) ==
          "[max_pool] A window of 2 spatial axes needs an input (batch..., spatial..., features) "
          "of rank at least 3 and at least one window entry; got input (4,4) and window (2,2).");
    CHECK_THROWS_AS(nn::avg_pool(ones({1, 4, 4, 1}), {2, 2}, {2}), ShapeError);
    CHECK(message_of([] {
            nn::avg_pool(ones({1, 4, 4, 1}), {2, 2}, {},
                         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}});
          }) ==
          "[avg_pool] Explicit padding needs one (low, high) pair per window entry (2); got 1.");
    CHECK_THROWS_AS(nn::min_pool(ones({1, 4, 1}, int32), {2}), DtypeError);
  }
}
