// Helpers shared by the optim tests.
#pragma once

#include <string>
#include <vector>

#include "jute/array.hpp"
#include "jute/tree.hpp"
#include "ops/op_checks.hpp"

namespace jute::optim_test {

/// A float32 vector.
inline Array f32(std::vector<float> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Array::from_vector(v, {n});
}
/// A float64 vector.
inline Array f64(std::vector<double> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Array::from_vector(v, {n}, float64);
}
/// Zeros shaped like every leaf of `t`.
inline Tree zeros_like_tree(const Tree& t) {
  return tree_map([](const Array& a) { return zeros_like(a); }, t);
}
/// A copy of `t` whose leaves have buffers of their own.
inline Tree deep_copy(const Tree& t) {
  return tree_map(
      [](const Array& a) { return Array::from_raw(a.raw_data(), a.dtype(), a.shape(), a.dtype()); },
      t);
}
/// The elements as doubles.
inline std::vector<double> values(const Array& a) { return a.to_vector<double>(); }

using jute_test::message_of;

}  // namespace jute::optim_test
