// jute/nn/normalization.hpp — BatchNorm, LayerNorm, RMSNorm and GroupNorm with flax.linen's
// parameter names, variable layout, defaults and arithmetic.
//
//   struct Net {
//     static constexpr const char* name = "Net";
//     bool train = true;
//     jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
//       return s.child(jute::nn::BatchNorm{.use_running_average = !train}, x);
//     }
//   };
//   auto vars = jute::nn::init(Net{}, key, x);    // params/BatchNorm_0/{scale,bias},
//                                                 // batch_stats/BatchNorm_0/{mean,var}
//   auto [y, updated] = jute::nn::apply(Net{}, vars, x, {.mutable_ = {"batch_stats"}});
//
// Statistics are computed in at least float32 (float64 inputs stay float64). Parameters are
// created scale first, then bias, drawing one "params" key each (as Flax).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// flax.linen.BatchNorm. Over every axis but `axis` it normalizes with the batch statistics
/// (train mode) or with the running averages `batch_stats/mean` (zeros) and `batch_stats/var`
/// (ones), both f32[C]. In train mode, outside init, the running averages become
/// `momentum·old + (1 − momentum)·batch` (biased variance), which needs "batch_stats" mutable
/// (ModifyScopeVariableError naming the variable's path otherwise). Output:
/// (x − mean)·rsqrt(var + epsilon)·scale + bias.
///
/// `use_running_average` is given either here or at call time (`s.child(bn, x, true)`), not
/// both: Flax's merge_param rule (ValueError when both or neither are given).
struct BatchNorm {
  static constexpr const char* name = "BatchNorm";
  std::optional<bool> use_running_average = std::nullopt;
  int axis = -1;
  /// Weight of the OLD value in the running averages (PyTorch's momentum 0.1 is 0.9 here).
  double momentum = 0.99;
  double epsilon = 1e-5;
  bool use_bias = true;
  bool use_scale = true;
  Initializer bias_init = initializers::zeros_init();
  Initializer scale_init = initializers::ones_init();
  /// var = max(0, E[x²] − E[x]²) (one pass); false: E[(x − E[x])²].
  bool use_fast_variance = true;
  DType param_dtype = float32;

  Array operator()(Scope& s, const Array& x,
                   std::optional<bool> use_running_average_now = std::nullopt) const;
};

/// flax.linen.LayerNorm: normalizes over `reduction_axes` (the last axis) with that input's own
/// mean and variance; `scale` and `bias` have the shape of `feature_axes`.
struct LayerNorm {
  static constexpr const char* name = "LayerNorm";
  double epsilon = 1e-6;
  bool use_bias = true;
  bool use_scale = true;
  Initializer bias_init = initializers::zeros_init();
  Initializer scale_init = initializers::ones_init();
  std::vector<int> reduction_axes = {-1};
  std::vector<int> feature_axes = {-1};
  bool use_fast_variance = true;
  DType param_dtype = float32;

  Array operator()(Scope& s, const Array& x) const;
};

/// flax.linen.RMSNorm: x·rsqrt(mean(x²) + epsilon)·scale over `reduction_axes`; no mean
/// subtraction and no bias.
struct RMSNorm {
  static constexpr const char* name = "RMSNorm";
  double epsilon = 1e-6;
  bool use_scale = true;
  Initializer scale_init = initializers::ones_init();
  std::vector<int> reduction_axes = {-1};
  std::vector<int> feature_axes = {-1};
  DType param_dtype = float32;

  Array operator()(Scope& s, const Array& x) const;
};

/// flax.linen.GroupNorm on channels-last input (N, ..., C): the channels are split into
/// `num_groups` groups (or groups of `group_size` channels; give exactly one of the two) and each
/// example is normalized over its spatial axes and the channels of a group. `scale` and `bias`
/// are per channel. ValueError when the groups do not divide C.
struct GroupNorm {
  static constexpr const char* name = "GroupNorm";
  std::optional<std::int64_t> num_groups = 32;
  std::optional<std::int64_t> group_size = std::nullopt;
  double epsilon = 1e-6;
  bool use_bias = true;
  bool use_scale = true;
  Initializer bias_init = initializers::zeros_init();
  Initializer scale_init = initializers::ones_init();
  bool use_fast_variance = true;
  DType param_dtype = float32;

  Array operator()(Scope& s, const Array& x) const;
};

}  // namespace jute::nn
