// Test helpers shared by the convolution and pooling tests: row-major index arithmetic for the
// literal reference implementations (message_of comes from op_checks.hpp).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "ops/op_checks.hpp"

namespace jute::window_test {

using jute_test::message_of;

using Pads = std::vector<std::pair<std::int64_t, std::int64_t>>;

inline std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

/// The row-major multi-index of flat position `flat` in `shape`.
inline Shape unravel(std::int64_t flat, const Shape& shape) {
  Shape idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

inline std::int64_t ravel(const Shape& idx, const Shape& shape) {
  std::int64_t flat = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + idx[d];
  return flat;
}

}  // namespace jute::window_test
