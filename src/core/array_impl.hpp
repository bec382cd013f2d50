// Internal: what an Array is made of, and the few privileged operations ops need to build results.
// Only code in src/ includes this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "jute/array.hpp"

namespace jute::detail {

/// A block of memory from the caching allocator (64-byte aligned). Returned to the cache when the
/// last Array that shares it goes away.
class Buffer {
 public:
  explicit Buffer(std::size_t nbytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }

 private:
  void* data_;
  std::size_t nbytes_;
};

struct ArrayImpl {
  DType dtype = DType::Float32;
  Shape shape;
  std::int64_t size = 1;
  bool weak = false;
  /// A weak float32 scalar written as a C++ double keeps the double here, so that it takes a
  /// float64 operand's dtype without first being rounded to float32 (`x64 * 0.1` multiplies by
  /// the double 0.1, as JAX does). Only `Array::astype(float64)` reads it.
  std::optional<double> weak_double;
  std::shared_ptr<Buffer> buffer;
  /// Autodiff: the op that produced this value while it was being traced (null otherwise).
  std::shared_ptr<Node> node;
  void* data() const { return buffer->data(); }
  /// A shape-only array (see jute::abstract_array) has no buffer.
  bool abstract() const { return !buffer; }
};

/// Number of elements of a shape; throws ShapeError for a negative dimension.
std::int64_t shape_size(const Shape& shape);

/// A new Array with uninitialized contents. Fill it through `mutable_data` before anyone else
/// can see it.
Array empty(DType dtype, const Shape& shape, bool weak = false);

/// A shape-only result (no buffer): what an op returns instead of computing when an operand is
/// shape-only, so a whole model runs on shapes alone (jute::abstract_array, nn::init_shapes).
Array abstract(DType dtype, const Shape& shape, bool weak = false);
template <class... A>
bool any_abstract(const A&... a) {
  return (a.is_abstract() || ...);
}

/// Write access to a freshly created Array's elements. Only for arrays the caller just made with
/// `empty` (or proved reusable with `can_reuse`): no other Array may see the buffer.
template <class T>
T* mutable_data(const Array& a) {
  return static_cast<T*>(a.impl()->data());
}
inline void* mutable_raw(const Array& a) { return a.impl()->data(); }

/// True when `a` is the only reference to its buffer and is not being traced, so an op that
/// received it by value (a temporary) may write its result into that buffer.
bool can_reuse(const Array& a);

/// `a`'s buffer under another shape of the same size (no copy); drops any autodiff node.
Array with_shape(const Array& a, const Shape& shape);
/// The same value with the weak-type flag set or cleared (no copy); keeps the autodiff node.
Array with_weak(const Array& a, bool weak);
/// The same buffer and shape without an autodiff node (stop_gradient's forward).
Array detach(const Array& a);

}  // namespace jute::detail

namespace jute::detail {
/// Converts `n` elements between dtypes (C++ conversions; nonzero → true for bool).
void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, std::int64_t n);
}  // namespace jute::detail
