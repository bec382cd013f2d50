// Dropout: Flax's StochasticTest (spec flax.md §4 item 9), the Flax-exact mask from the
// "dropout" stream key (§1.7), broadcast_dims, the deterministic flag, check_grads and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
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
using layers_test::Wrap;

namespace {

nn::ApplyOptions dropout_rng(std::int64_t seed) { return {.rngs = {{"dropout", jr::key(seed)}}}; }

}  // namespace

TEST_SUITE("nn.layers.dropout") {
  TEST_CASE("nn.layers.dropout: Flax's test_dropout_rate_zero / rate_one and deterministic") {
    const Array x = jr::normal(jr::key(0), {4, 5});
    const Wrap<nn::Dropout> zero{{.rate = 0.0, .deterministic = false}};
    auto [y0, _0] = nn::apply(zero, Variables(), x, dropout_rng(1));
    CHECK(array_equal(y0, x));
    const Wrap<nn::Dropout> one{{.rate = 1.0, .deterministic = false}};
    auto [y1, _1] = nn::apply(one, Variables(), x, dropout_rng(1));
    CHECK(array_equal(y1, zeros({4, 5})));
    const Array g = grad([&](const Array& a) {
      return sum(nn::apply(one, Variables(), a, dropout_rng(1)).output);
    })(x);
    CHECK(array_equal(g, zeros({4, 5})));
    // Deterministic: the input, and no rng needed.
    const Wrap<nn::Dropout> det{{.rate = 0.5, .deterministic = true}};
    CHECK(array_equal(nn::apply(det, Variables(), x).output, x));
  }

  TEST_CASE("nn.layers.dropout: the mask is Flax's — bernoulli(key('Dropout_0', 1), keep)") {
    const Array x = jr::normal(jr::key(2), {6, 7});
    const Wrap<nn::Dropout> drop{{.rate = 0.3, .deterministic = false}};
    auto [y, _] = nn::apply(drop, Variables(), x, dropout_rng(1));
    // ('Dropout_0', 1) under rngs={'dropout': key(1)} is (4113325155, 798010028) (flax.md §1.7).
    const Array key =
        Array::from_vector(std::vector<std::uint32_t>{4113325155u, 798010028u}, {2}, uint32);
    CHECK(array_equal(jr::fold_in_path(jr::key(1), {"Dropout_0"}, 1), key));
    const Array mask = jr::bernoulli(key, 0.7, {6, 7});
    CHECK(array_equal(y, where(mask, x / Array::scalar(0.7, float32), zeros({6, 7}))));
    // Flax's test_dropout_manual_rng: an explicit key gives the mask of that key.
    const nn::Dropout manual{.rate = 0.3};
    auto [ym, _m] = nn::apply(manual, Variables(), x, false, jr::key(9));
    CHECK(array_equal(ym, where(jr::bernoulli(jr::key(9), 0.7, {6, 7}),
                                x / Array::scalar(0.7, float32), zeros({6, 7}))));
  }

  TEST_CASE("nn.layers.dropout: Flax's keep-fraction test — within 4 sigma for every rate") {
    const Array x = ones({100, 100});
    for (double rate : {0.1, 0.25, 0.5, 0.75, 0.9}) {
      const nn::Dropout drop{.rate = rate, .deterministic = false};
      const Array y = nn::apply(drop, Variables(), x, dropout_rng(3)).output;
      const double kept = mean((y != 0).astype(float32)).item<double>();
      const double keep = 1 - rate, sigma = std::sqrt(keep * rate / 10000);
      CHECK(std::abs(kept - keep) < 4 * sigma);
      // Kept values are x / keep exactly.
      CHECK(all((y == 0) | (y == Array::scalar(1 / keep, float32))).item<bool>());
    }
  }

  TEST_CASE("nn.layers.dropout: broadcast_dims share one mask along those axes") {
    const Array x = ones({4, 6, 5});
    const nn::Dropout drop{.rate = 0.5, .broadcast_dims = {0, -1}, .deterministic = false};
    const Array y = nn::apply(drop, Variables(), x, dropout_rng(4)).output;
    // Every (:, j, :) slice is all zero or all 2.
    const Array per_slice = max(y, {0, 2}), min_slice = min(y, {0, 2});
    CHECK(array_equal(per_slice, min_slice));
    CHECK(any(per_slice == 0).item<bool>());
    CHECK(any(per_slice == 2).item<bool>());
  }

  TEST_CASE("nn.layers.dropout: check_grads with a fixed key") {
    const Array x = jr::normal(jr::key(5), {3, 4}).astype(float64);
    const nn::Dropout drop{.rate = 0.4, .broadcast_dims = {1}};
    testing::check_grads(
        [&](const Array& a) { return nn::apply(drop, Variables(), a, false, jr::key(6)).output; },
        x, 2);
  }

  TEST_CASE("nn.layers.dropout: errors — the flag given once, the rng stream, the rate") {
    const Array x = ones({2, 2});
    CHECK(message_of([&] { nn::apply(Wrap<nn::Dropout>{{.rate = 0.5}}, Variables(), x); }) ==
          "[Dropout] deterministic must be given exactly once, either as the field or at call "
          "time (as Flax's merge_param), got neither in \"/Dropout_0\".");
    CHECK_THROWS_AS(
        nn::apply(nn::Dropout{.rate = 0.5, .deterministic = true}, Variables(), x, true),
        ValueError);
    const std::string msg = message_of([&] {
      nn::apply(Wrap<nn::Dropout>{{.rate = 0.5, .deterministic = false}}, Variables(), x);
    });
    CHECK(msg.find("/Dropout_0") != std::string::npos);
    CHECK(msg.find("dropout") != std::string::npos);
    CHECK_THROWS_AS(
        nn::apply(Wrap<nn::Dropout>{{.rate = 0.5, .deterministic = false}}, Variables(), x),
        nn::InvalidRngError);
    CHECK(message_of([&] {
            nn::apply(Wrap<nn::Dropout>{{.rate = 1.5, .deterministic = false}}, Variables(), x);
          }) == "[Dropout] at \"/Dropout_0\": rate must be in [0, 1]; got 1.500000.");
  }
}
