// Internal: size arithmetic shared by the file readers, checked so that a hostile header cannot
// overflow it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "jute/array.hpp"

namespace jute::io {

/// What checked_nbytes returns when the product overflows 64 bits.
inline constexpr std::uint64_t kOverflow = std::numeric_limits<std::uint64_t>::max();

/// product(shape) * item, or kOverflow when that exceeds 2^64 - 2 (negative dimensions also give
/// kOverflow).
inline std::uint64_t checked_nbytes(const Shape& shape, std::size_t item) {
  std::uint64_t n = item;
  for (std::int64_t d : shape) {
    if (d < 0) return kOverflow;
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > (kOverflow - 1) / u) {
      // Overflow unless a later dimension is 0.
      for (std::int64_t e : shape)
        if (e == 0) return 0;
      return kOverflow;
    }
    n *= u;
  }
  return n;
}

}  // namespace jute::io
