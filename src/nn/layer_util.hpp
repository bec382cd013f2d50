// Private helpers of the nn layers (linear, conv, pooling, dropout): dtype promotion as Flax's
// promote_dtype, and shape errors that name the module path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jute/array.hpp"
#include "jute/errors.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn::detail {

/// Flax's promote_dtype: `dtype` when given, otherwise the promotion of the operands' dtypes
/// (an integer input with float32 params computes in float32).
inline DType compute_dtype(std::optional<DType> dtype, std::initializer_list<DType> operands) {
  if (dtype) return *dtype;
  DType out = bool_;
  bool first = true;
  for (DType d : operands) {
    out = first ? d : promote_types(out, d);
    first = false;
  }
  return is_floating(out) ? out : float32;
}

/// `x` converted to `dtype` (the same Array when it already has it).
inline Array cast(const Array& x, DType dtype) { return x.dtype() == dtype ? x : x.astype(dtype); }

/// "[Layer] at "/path": what" as a ShapeError (or ValueError with `value_error`).
[[noreturn]] inline void layer_error(const char* layer, const Scope& s, const std::string& what,
                                     bool value_error = false) {
  const std::string msg = std::string("[") + layer + "] at \"" + s.path_text() + "\": " + what;
  if (value_error) throw ValueError(msg);
  throw ShapeError(msg);
}

inline std::int64_t product(const Shape& s) {
  std::int64_t p = 1;
  for (auto d : s) p *= d;
  return p;
}

/// A per-spatial-axis setting: empty means ones, one value is repeated, else one per axis.
inline Shape broadcast_setting(const Shape& v, std::size_t n, const char* layer, const Scope& s,
                               const char* field) {
  if (v.empty()) return Shape(n, 1);
  if (v.size() == 1) return Shape(n, v[0]);
  if (v.size() != n)
    layer_error(layer, s,
                std::string(field) + " " + jute::detail::shape_str(v) + " must have one entry or " +
                    std::to_string(n) + " (one per spatial axis).",
                true);
  return v;
}

}  // namespace jute::nn::detail
