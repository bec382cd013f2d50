// jute/array.hpp — the immutable n-d value every other piece is written in.
//
// An Array is a dtype, a shape and a shared, contiguous, row-major buffer. Copying an Array is
// cheap (it shares the buffer) and nothing ever mutates a buffer that another Array can see:
// every operation returns a new Array. Buffers come from a caching allocator, so a training loop
// reuses memory instead of page-faulting every step.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "jute/dtype.hpp"
#include "jute/errors.hpp"

namespace jute {

using Shape = std::vector<std::int64_t>;

namespace detail {
struct ArrayImpl;
struct Node;
}  // namespace detail

/// An immutable n-dimensional array.
///
/// Construction:
///   Array(2.5f)                      a weakly typed scalar (like a Python number in JAX)
///   Array({1.f, 2.f, 3.f})           f32[3]
///   Array({{1, 2}, {3, 4}})          i32[2,2]
///   Array({{1., 2.}}, float64)       an explicit dtype
///   Array::from_vector(v, {2, 3})    from a std::vector<T> with a shape
/// C++ `double` values become float32 unless a dtype says otherwise (JAX's default float).
class Array {
 public:
  /// A null Array (`valid() == false`); every operation on it throws ValueError.
  Array() = default;

  /// Weakly typed scalars: they take the dtype of the other operand in an operation
  /// (`x * 2.0` keeps x's float32), as Python scalars do in JAX. A `double` is a weak float32
  /// that keeps its full value for a float64 operand (`x64 * 0.1` multiplies by the double 0.1).
  Array(float v);          // NOLINT(google-explicit-constructor)
  Array(double v);         // NOLINT(google-explicit-constructor)
  Array(int v);            // NOLINT(google-explicit-constructor)
  Array(long v);           // NOLINT(google-explicit-constructor)
  Array(unsigned int v);   // NOLINT(google-explicit-constructor)
  Array(unsigned long v);  // NOLINT(google-explicit-constructor)
  Array(bool v);           // NOLINT(google-explicit-constructor)

  /// Nested initializer lists, rank 1 to 4. The dtype is that of T (double → float32) unless
  /// `dtype` is given. Ragged lists throw ShapeError.
  template <class T>
  Array(std::initializer_list<T> v, DType dtype = default_dtype<T>())
      : Array(from_nested(flatten_lists(v), {static_cast<std::int64_t>(v.size())}, dtype)) {}
  template <class T>
  Array(std::initializer_list<std::initializer_list<T>> v, DType dtype = default_dtype<T>())
      : Array(from_nested_list(v, dtype)) {}
  template <class T>
  Array(std::initializer_list<std::initializer_list<std::initializer_list<T>>> v,
        DType dtype = default_dtype<T>())
      : Array(from_nested_list(v, dtype)) {}
  template <class T>
  Array(
      std::initializer_list<std::initializer_list<std::initializer_list<std::initializer_list<T>>>>
          v,
      DType dtype = default_dtype<T>())
      : Array(from_nested_list(v, dtype)) {}

  /// Copies `values` (row-major) into a new Array of `shape`; `values.size()` must equal the
  /// product of `shape`. The dtype defaults to that of T (double → float32).
  template <class T>
  static Array from_vector(const std::vector<T>& values, const Shape& shape,
                           DType dtype = default_dtype<T>()) {
    std::vector<double> tmp;
    if constexpr (std::is_same_v<T, bool>) {
      tmp.assign(values.begin(), values.end());
      return from_doubles(tmp, shape, dtype);
    } else if constexpr (std::is_same_v<T, double>) {
      return from_doubles(values, shape, dtype);
    } else {
      return from_raw(values.data(), dtype_of<T>(), shape, dtype);
    }
  }
  /// A strongly typed scalar of `dtype`.
  static Array scalar(double value, DType dtype);
  /// Copies `count(shape)` elements of `src_dtype` from `src` and converts them to `dtype`.
  static Array from_raw(const void* src, DType src_dtype, const Shape& shape, DType dtype);

  bool valid() const { return impl_ != nullptr; }
  DType dtype() const;
  const Shape& shape() const;
  /// Size of one axis; negative axes count from the end. Throws IndexError when out of range.
  std::int64_t shape(int axis) const;
  int ndim() const;
  std::int64_t size() const;
  std::size_t nbytes() const;
  /// True for a scalar that was written as a C++ number and has not met a typed operand yet.
  bool weak_type() const;
  /// True for a shape-only array (see `abstract_array`): a dtype and a shape, no values.
  bool is_abstract() const;

  /// Read-only pointer to the elements; T must be exactly the dtype's C++ type (DtypeError).
  template <class T>
  const T* data() const {
    check_access(dtype_of<T>());
    return static_cast<const T*>(raw_data());
  }
  const void* raw_data() const;

  /// The single element of a size-1 Array, converted to T (ShapeError if size != 1).
  template <class T>
  T item() const {
    return static_cast<T>(item_as_double_or_int<T>());
  }
  /// Element at a multi-index (negative indices count from the end), converted to T.
  template <class T>
  T at(std::initializer_list<std::int64_t> index) const {
    return static_cast<T>(element_as<T>(flat_index(index)));
  }
  /// All elements in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  /// A new Array with the elements converted to `dtype` (C++ conversion rules; float to int
  /// truncates toward zero; anything nonzero to bool is true).
  Array astype(DType dtype) const;

  /// "f32[2,3]".
  std::string type_string() const;
  /// NumPy-like text: the type string and then the values, e.g. "f32[2]\n[1, 2.5]".
  std::string to_string() const;

  /// Internal: the implementation (shared). Used by ops and autodiff in src/.
  const std::shared_ptr<const detail::ArrayImpl>& impl() const { return impl_; }
  explicit Array(std::shared_ptr<const detail::ArrayImpl> impl) : impl_(std::move(impl)) {}

  template <class T>
  static constexpr DType default_dtype() {
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>)
      return DType::Float32;
    else if constexpr (std::is_same_v<T, bool>)
      return DType::Bool;
    else if constexpr (std::is_same_v<T, std::uint8_t>)
      return DType::UInt8;
    else if constexpr (std::is_same_v<T, unsigned int> || std::is_same_v<T, std::uint32_t>)
      return DType::UInt32;
    else
      return DType::Int32;
  }

 private:
  static Array from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype);
  static Array from_nested(const std::vector<double>& values, const Shape& shape, DType dtype);

  template <class T>
  static std::vector<double> flatten_lists(std::initializer_list<T> v) {
    return std::vector<double>(v.begin(), v.end());
  }
  template <class L>
  static void collect(const L& list, std::vector<double>& out, Shape& shape, std::size_t depth) {
    if (shape.size() <= depth)
      shape.push_back(static_cast<std::int64_t>(list.size()));
    else if (shape[depth] != static_cast<std::int64_t>(list.size()))
      ragged_error();
    for (const auto& e : list) {
      if constexpr (std::is_arithmetic_v<std::decay_t<decltype(e)>>)
        out.push_back(static_cast<double>(e));
      else
        collect(e, out, shape, depth + 1);
    }
  }
  template <class L>
  static Array from_nested_list(const L& list, DType dtype) {
    std::vector<double> out;
    Shape shape;
    collect(list, out, shape, 0);
    return from_nested(out, shape, dtype);
  }
  [[noreturn]] static void ragged_error();

  void check_access(DType requested) const;
  std::int64_t flat_index(std::initializer_list<std::int64_t> index) const;
  double element_double(std::int64_t flat) const;
  std::int64_t element_int(std::int64_t flat) const;
  template <class T>
  auto element_as(std::int64_t flat) const {
    if constexpr (std::is_floating_point_v<T>)
      return element_double(flat);
    else
      return element_int(flat);
  }
  template <class T>
  auto item_as_double_or_int() const {
    return element_as<T>(single_index());
  }
  std::int64_t single_index() const;

  std::shared_ptr<const detail::ArrayImpl> impl_;
};

template <class T>
std::vector<T> Array::to_vector() const {
  std::vector<T> out(static_cast<std::size_t>(size()));
  for (std::int64_t i = 0; i < size(); ++i)
    out[static_cast<std::size_t>(i)] = static_cast<T>(element_as<T>(i));
  return out;
}

std::ostream& operator<<(std::ostream& os, const Array& a);

// ---- creation ---------------------------------------------------------------------------------

Array zeros(const Shape& shape, DType dtype = float32);
Array ones(const Shape& shape, DType dtype = float32);
Array full(const Shape& shape, double value, DType dtype = float32);
Array zeros_like(const Array& a);
Array ones_like(const Array& a);
Array full_like(const Array& a, double value);
/// 0, 1, ..., stop-1 (int32 unless `dtype` says otherwise).
Array arange(std::int64_t stop, DType dtype = int32);
Array arange(std::int64_t start, std::int64_t stop, std::int64_t step = 1, DType dtype = int32);
/// start, start+step, ... < stop, computed as start + i*step in double and then converted.
Array arange(double start, double stop, double step, DType dtype = float32);
/// `num` evenly spaced values from start to stop (inclusive when `endpoint`), as NumPy.
Array linspace(double start, double stop, std::int64_t num, bool endpoint = true,
               DType dtype = float32);
/// An n×m matrix with ones on the k-th diagonal (m = n when negative).
Array eye(std::int64_t n, std::int64_t m = -1, std::int64_t k = 0, DType dtype = float32);

/// A shape-only array, like a `jax.ShapeDtypeStruct`: it has a dtype and a shape but no values
/// and no memory. Every op given a shape-only operand checks its operands as usual and returns a
/// shape-only result without computing anything (as `jax.eval_shape`), so a function — a whole
/// model, see `nn::init_shapes` — can be run for its result shapes alone. Asking for values
/// (`item`, `data`, `at`, comparisons of values) throws ValueError.
Array abstract_array(const Shape& shape, DType dtype = float32);

}  // namespace jute
