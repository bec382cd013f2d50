// Internal: size arithmetic shared by the file readers, checked so that a hostile header cannot
// overflow it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "jute/array.hpp"

namespace jute::io {

/// What checked_nbytes returns for a shape jute cannot hold.
inline constexpr std::uint64_t kOverflow = std::numeric_limits<std::uint64_t>::max();

/// The words the readers' messages use for kOverflow.
inline constexpr const char* kTooLarge =
    "more than 2^63 bytes (counting only its nonzero dimensions)";

/// product(shape) * item, or kOverflow when the product of the nonzero dimensions times `item`
/// exceeds 2^63 - 1, even when a zero dimension makes the array empty: then every element count,
/// stride and byte offset jute derives from the shape fits std::int64_t (a header declaring
/// (2^40, 2^40, 0) must not overflow them). Negative dimensions also give kOverflow.
inline std::uint64_t checked_nbytes(const Shape& shape, std::size_t item) {
  constexpr std::uint64_t kMax =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t n = item;
  bool empty = false;
  for (std::int64_t d : shape) {
    if (d < 0) return kOverflow;
    if (d == 0) {
      empty = true;
      continue;
    }
    const auto u = static_cast<std::uint64_t>(d);
    if (n > kMax / u) return kOverflow;
    n *= u;
  }
  return empty ? 0 : n;
}

}  // namespace jute::io
