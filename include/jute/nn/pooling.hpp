// jute/nn/pooling.hpp — flax.linen's pooling functions over channels-last inputs.
//
//   auto y = jute::nn::avg_pool(x, {2, 2}, {2, 2});          // NHWC (N, 28, 28, C) → (N, 14, 14,
//   C) auto m = jute::nn::max_pool(x, {3, 3}, {2, 2}, "SAME");
//
// The input is (batch..., spatial..., features) with one spatial axis per window entry; any number
// of leading batch axes (none included) is accepted, as Flax's `pool`. `strides` empty means ones
// (Flax's default), otherwise one entry per window entry. Padding is "VALID" (the default, as
// Flax), "SAME", or explicit (low, high) pairs, one per spatial axis. These are functions, not
// modules: they own no variables.
#pragma once

#include "jute/array.hpp"
#include "jute/ops.hpp"

namespace jute::nn {

/// Maximum over each window (padding never wins: it is -inf); the gradient goes to the first
/// maximum of the window in row-major order. Float and integer dtypes.
Array max_pool(const Array& x, const Shape& window_shape, const Shape& strides = {},
               const Padding& padding = Padding("VALID"));

/// Mean over each window. With `count_include_pad` (Flax's default) the window sum is divided
/// by the window size, padding included; otherwise by the number of real elements in the window.
/// Integer inputs give float32.
Array avg_pool(const Array& x, const Shape& window_shape, const Shape& strides = {},
               const Padding& padding = Padding("VALID"), bool count_include_pad = true);

/// Minimum over each window (padding is +inf). Float dtypes only (DtypeError otherwise).
Array min_pool(const Array& x, const Shape& window_shape, const Shape& strides = {},
               const Padding& padding = Padding("VALID"));

}  // namespace jute::nn
