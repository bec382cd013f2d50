// Internal: validation and construction of raw threefry keys, shared by the random sources.
#pragma once

#include <cstdint>

#include "jute/array.hpp"

namespace jute::random::detail {

/// The two words of a single key; ShapeError/DtypeError (or ValueError for a null Array) naming
/// `op` unless `key` is a uint32 Array of shape (2,).
struct KeyWords {
  std::uint32_t k0, k1;
};
KeyWords key_words(const Array& key, const char* op);

/// A new (2,) uint32 key.
Array make_key(KeyWords k);

/// The number of elements of a sampler's `shape`; ShapeError naming `op` for a negative dimension.
std::int64_t checked_size(const Shape& shape, const char* op);

}  // namespace jute::random::detail
