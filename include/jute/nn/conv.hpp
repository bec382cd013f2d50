// jute/nn/conv.hpp — Conv and ConvTranspose with flax.linen's layouts, parameter names, defaults
// and padding modes.
//
//   auto y = s.child(jute::nn::Conv{.features = 32, .kernel_size = {3, 3}}, x);   // x: NHWC
//   // params/Conv_0/kernel (3, 3, C, 32) (HWIO), params/Conv_0/bias (32,)
//
// Inputs are channels-last: (batch..., spatial..., features) with one spatial axis per
// kernel_size entry (NWC, NHWC, NDHWC, ...). Several leading batch axes are flattened into one
// and restored; an input with no batch axis (spatial..., features) gets one added and removed,
// as Flax does. kernel_size {3} is a 1-D convolution.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// Flax's PaddingLike for convolutions: "SAME", "VALID", "CIRCULAR" (periodic), "REFLECT"
/// (mirror without repeating the edge, numpy's "reflect"), "CAUSAL" (1-D: all padding on the
/// left), an int n (n on both sides of every spatial axis), or explicit (low, high) pairs, one
/// per spatial axis. Names are case-insensitive; others are a ValueError.
class ConvPadding {
 public:
  enum class Kind { Same, Valid, Circular, Reflect, Causal, Explicit, Symmetric };
  ConvPadding(const char* name);                                                  // NOLINT
  ConvPadding(const std::string& name);                                           // NOLINT
  ConvPadding(int pad);                                                           // NOLINT
  ConvPadding(std::vector<std::pair<std::int64_t, std::int64_t>> explicit_pads);  // NOLINT
  Kind kind() const { return kind_; }
  /// The explicit pairs (Explicit) or {(n, n)} (Symmetric).
  const std::vector<std::pair<std::int64_t, std::int64_t>>& pads() const { return pads_; }
  /// "SAME", "CAUSAL", "2" or "[(1, 1), (0, 2)]", for messages.
  std::string to_string() const;

 private:
  Kind kind_ = Kind::Same;
  std::vector<std::pair<std::int64_t, std::int64_t>> pads_;
};

/// flax.linen.Conv. Params: `kernel` kernel_size + (in_features / feature_group_count, features)
/// (HWIO) with lecun_normal (fan_in = prod(kernel_size) · in / groups), then `bias` (features,)
/// with zeros.
///
/// strides, input_dilation and kernel_dilation: empty means 1, one entry applies to every
/// spatial axis, otherwise one entry per spatial axis. CIRCULAR and REFLECT pad the input by
/// ((k_d − 1) / 2, k_d / 2) per axis (k_d the dilated kernel size) and then convolve VALID;
/// CAUSAL pads kernel_dilation·(k − 1) on the left. `mask` (the kernel's shape) multiplies the
/// kernel before use, as Flax's (ValueError when its shape differs).
struct Conv {
  static constexpr const char* name = "Conv";
  std::int64_t features = 0;
  Shape kernel_size;
  Shape strides = {};
  ConvPadding padding = "SAME";
  Shape input_dilation = {};
  Shape kernel_dilation = {};
  std::int64_t feature_group_count = 1;
  bool use_bias = true;
  Array mask = Array();
  std::optional<DType> dtype = std::nullopt;
  DType param_dtype = float32;
  Initializer kernel_init = initializers::lecun_normal();
  Initializer bias_init = initializers::zeros_init();

  Array operator()(Scope& s, const Array& x) const;
};

/// flax.linen.ConvTranspose (lax.conv_transpose): the input is dilated by `strides` and
/// convolved with the kernel. Params: `kernel` kernel_size + (in_features, features) — or
/// kernel_size + (features, in_features) with `transpose_kernel`, which also flips the kernel
/// spatially so that the layer is the exact transpose (gradient) of a Conv with that kernel —
/// then `bias` (features,).
///
/// Padding as lax.conv_transpose: "SAME" gives out = in · stride, "VALID" gives
/// out = in · stride + max(k_d − stride, 0) (k_d the dilated kernel size); explicit pairs (or an
/// int) pad the dilated input directly. "CIRCULAR" computes VALID and then wraps the result
/// periodically onto out = in · stride, as Flax. "REFLECT" and "CAUSAL" are a ValueError.
struct ConvTranspose {
  static constexpr const char* name = "ConvTranspose";
  std::int64_t features = 0;
  Shape kernel_size;
  Shape strides = {};
  ConvPadding padding = "SAME";
  Shape kernel_dilation = {};
  bool use_bias = true;
  Array mask = Array();
  std::optional<DType> dtype = std::nullopt;
  DType param_dtype = float32;
  Initializer kernel_init = initializers::lecun_normal();
  Initializer bias_init = initializers::zeros_init();
  bool transpose_kernel = false;

  Array operator()(Scope& s, const Array& x) const;
};

}  // namespace jute::nn
