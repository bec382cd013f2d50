// jute/nn/dropout.hpp — flax.linen.Dropout.
//
//   auto h = s.child(jute::nn::Dropout{.rate = 0.5}, x, /*deterministic=*/!train);
//   auto [y, _] = jute::nn::apply(model, vars, x, {.rngs = {{"dropout", key}}});
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// flax.linen.Dropout (inverted dropout): y = where(mask, x / keep, 0) with keep = 1 − rate and
/// mask = random::bernoulli(key, keep, shape), where `shape` is the input's with the
/// `broadcast_dims` set to 1 (one mask shared along those axes). The key is `rng` when given,
/// otherwise `make_rng(rng_collection)` ("dropout": pass `{.rngs = {{"dropout", key}}}` to apply;
/// a missing stream is an InvalidRngError naming the module path).
///
/// `deterministic` is given exactly once, as the field or as the call's argument (Flax's
/// merge_param; ValueError for both or neither). Deterministic or rate 0 returns the input
/// itself; rate 1 returns zeros (with zero, not NaN, gradients). No variables; a rate outside
/// [0, 1] is a ValueError.
struct Dropout {
  static constexpr const char* name = "Dropout";
  double rate = 0.0;
  std::vector<int> broadcast_dims = {};
  std::optional<bool> deterministic = std::nullopt;
  std::string rng_collection = "dropout";

  Array operator()(Scope& s, const Array& x, std::optional<bool> deterministic_now = std::nullopt,
                   const Array& rng = Array()) const;
};

}  // namespace jute::nn
