// Private helper of the nn layers, activations and losses.
#pragma once

#include "jute/array.hpp"

namespace jute::nn::detail {

/// Float inputs keep their dtype; integer and bool inputs compute in float32 (as the ops do).
inline Array as_float(const Array& x) { return is_floating(x.dtype()) ? x : x.astype(float32); }

}  // namespace jute::nn::detail
