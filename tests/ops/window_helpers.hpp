// Test helpers shared by the convolution and pooling tests: row-major index arithmetic for the
// literal reference implementations, and the message of a thrown exception.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "jute/array.hpp"

namespace jute::window_test {

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

/// The what() of the exception `f` throws ("" when it throws none).
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace jute::window_test
