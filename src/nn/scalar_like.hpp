// Private helpers of the nn layers, activations and losses.
#pragma once

#include "jute/array.hpp"

namespace jute::nn::detail {

/// `c` in the dtype of `like`. A C++ double written into an expression is a weak float32
/// scalar, which would round constants such as 0.01 or 1e-5 before they meet a float64 operand.
inline Array scalar_like(double c, const Array& like) { return Array::scalar(c, like.dtype()); }

/// Float inputs keep their dtype; integer and bool inputs compute in float32 (as the ops do).
inline Array as_float(const Array& x) { return is_floating(x.dtype()) ? x : x.astype(float32); }

}  // namespace jute::nn::detail
