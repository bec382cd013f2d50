#include "jute/array.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ostream>
#include <sstream>

#include "core/array_impl.hpp"
#include "core/trace.hpp"

namespace jute {

namespace detail {

std::int64_t shape_size(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0)
      throw ShapeError("[array] Shape " + shape_str(shape) +
                       " has a negative dimension; dimensions must be >= 0.");
    n *= d;
  }
  return n;
}

Array empty(DType dtype, const Shape& shape, bool weak) {
  auto impl = std::make_shared<ArrayImpl>();
  impl->dtype = dtype;
  impl->shape = shape;
  impl->size = shape_size(shape);
  impl->weak = weak;
  impl->buffer = std::make_shared<Buffer>(static_cast<std::size_t>(impl->size) * itemsize(dtype));
  return Array(std::move(impl));
}

Array abstract(DType dtype, const Shape& shape, bool weak) {
  auto impl = std::make_shared<ArrayImpl>();
  impl->dtype = dtype;
  impl->shape = shape;
  impl->size = shape_size(shape);
  impl->weak = weak;
  return Array(std::move(impl));
}

bool can_reuse(const Array& a) {
  const auto& impl = a.impl();
  return impl && impl->buffer && impl.use_count() == 1 && impl->buffer.use_count() == 1 &&
         !impl->node && !impl->weak_double;
}

Array with_shape(const Array& a, const Shape& shape) {
  auto impl = std::make_shared<ArrayImpl>();
  impl->dtype = a.dtype();
  impl->shape = shape;
  impl->size = shape_size(shape);
  impl->weak = a.weak_type();
  impl->weak_double = a.impl()->weak_double;
  impl->buffer = a.impl()->buffer;
  return Array(std::move(impl));
}

Array with_weak(const Array& a, bool weak) {
  if (a.weak_type() == weak) return a;
  auto impl = std::make_shared<ArrayImpl>(*a.impl());
  impl->weak = weak;
  if (!weak) impl->weak_double.reset();  // a strong float32 is just its float32 value
  return Array(std::move(impl));
}

Array detach(const Array& a) {
  if (!a.impl()->node) return a;
  auto impl = std::make_shared<ArrayImpl>(*a.impl());
  impl->node.reset();
  return Array(std::move(impl));
}

namespace {
template <class To, class From>
void convert_loop(const From* src, To* dst, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, bool>)
      dst[i] = src[i] != From(0);
    else
      dst[i] = static_cast<To>(src[i]);
  }
}
}  // namespace

void convert(const void* src, DType src_dtype, void* dst, DType dst_dtype, std::int64_t n) {
  if (src_dtype == dst_dtype) {
    if (n) std::memcpy(dst, src, static_cast<std::size_t>(n) * itemsize(src_dtype));
    return;
  }
  visit_dtype(src_dtype, [&](auto s) {
    using S = decltype(s);
    visit_dtype(dst_dtype, [&](auto d) {
      using D = decltype(d);
      convert_loop<D, S>(static_cast<const S*>(src), static_cast<D*>(dst), n);
    });
  });
}

}  // namespace detail

namespace {
Array make_scalar(double v, DType dtype, bool weak) {
  Array a = detail::empty(dtype, {}, weak);
  detail::convert(&v, DType::Float64, detail::mutable_raw(a), dtype, 1);
  return a;
}
/// A weak float32 scalar that remembers the double it was written as (see ArrayImpl).
Array make_weak_double(double v) {
  auto impl = std::make_shared<detail::ArrayImpl>();
  impl->shape = {};
  impl->weak = true;
  impl->weak_double = v;
  impl->buffer = std::make_shared<detail::Buffer>(sizeof(float));
  *static_cast<float*>(impl->buffer->data()) = static_cast<float>(v);
  return Array(std::move(impl));
}
Array make_int_scalar(std::int64_t v, DType dtype, bool weak) {
  Array a = detail::empty(dtype, {}, weak);
  if (dtype == DType::Int32)
    *detail::mutable_data<std::int32_t>(a) = static_cast<std::int32_t>(v);
  else if (dtype == DType::UInt32)
    *detail::mutable_data<std::uint32_t>(a) = static_cast<std::uint32_t>(v);
  else
    return make_scalar(static_cast<double>(v), dtype, weak);
  return a;
}
}  // namespace

Array::Array(float v) : Array(make_scalar(v, DType::Float32, true)) {}
Array::Array(double v) : Array(make_weak_double(v)) {}
Array::Array(int v) : Array(make_int_scalar(v, DType::Int32, true)) {}
Array::Array(long v) : Array(make_int_scalar(v, DType::Int32, true)) {}
Array::Array(unsigned int v) : Array(make_int_scalar(v, DType::UInt32, true)) {}
Array::Array(unsigned long v)
    : Array(make_int_scalar(static_cast<std::int64_t>(v), DType::UInt32, true)) {}
Array::Array(bool v) : Array(make_scalar(v ? 1.0 : 0.0, DType::Bool, false)) {}

Array Array::scalar(double value, DType dtype) { return make_scalar(value, dtype, false); }

Array Array::from_raw(const void* src, DType src_dtype, const Shape& shape, DType dtype) {
  Array a = detail::empty(dtype, shape);
  detail::convert(src, src_dtype, detail::mutable_raw(a), dtype, a.size());
  return a;
}

Array Array::from_doubles(const std::vector<double>& values, const Shape& shape, DType dtype) {
  if (static_cast<std::int64_t>(values.size()) != detail::shape_size(shape))
    throw ShapeError("[array] Cannot make an array of shape " + detail::shape_str(shape) +
                     " from " + std::to_string(values.size()) +
                     " values; the number of values must equal the product of the shape.");
  return from_raw(values.data(), DType::Float64, shape, dtype);
}

Array Array::from_nested(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return from_doubles(values, shape, dtype);
}

void Array::ragged_error() {
  throw ShapeError(
      "[array] Nested initializer lists are ragged; every list at one depth must "
      "have the same length.");
}

static const detail::ArrayImpl& checked(const std::shared_ptr<const detail::ArrayImpl>& impl) {
  if (!impl)
    throw ValueError(
        "[array] This Array is null (default-constructed); give it a value before "
        "using it.");
  return *impl;
}

DType Array::dtype() const { return checked(impl_).dtype; }
const Shape& Array::shape() const { return checked(impl_).shape; }
std::int64_t Array::shape(int axis) const {
  const Shape& s = shape();
  int n = static_cast<int>(s.size());
  int ax = axis < 0 ? axis + n : axis;
  if (ax < 0 || ax >= n)
    throw IndexError("[shape] Axis " + std::to_string(axis) + " is out of range for an array " +
                     "of shape " + detail::shape_str(s) + ".");
  return s[static_cast<std::size_t>(ax)];
}
int Array::ndim() const { return static_cast<int>(shape().size()); }
std::int64_t Array::size() const { return checked(impl_).size; }
std::size_t Array::nbytes() const { return static_cast<std::size_t>(size()) * itemsize(dtype()); }
bool Array::weak_type() const { return checked(impl_).weak; }
bool Array::is_abstract() const { return checked(impl_).abstract(); }
const void* Array::raw_data() const {
  const detail::ArrayImpl& impl = checked(impl_);
  if (impl.abstract())
    throw ValueError("[array] The values of the shape-only array " + type_string() +
                     " were asked for; shape-only arrays (abstract_array, init_shapes) have a "
                     "shape and a dtype but no values — run the computation on real arrays.");
  return impl.data();
}

void Array::check_access(DType requested) const {
  if (dtype() != requested)
    throw DtypeError("[data] Requested " + std::string(name(requested)) +
                     " elements from an array of dtype " + std::string(name(dtype())) +
                     "; use astype first or request the matching type.");
}

std::int64_t Array::flat_index(std::initializer_list<std::int64_t> index) const {
  const Shape& s = shape();
  if (index.size() != s.size())
    throw IndexError("[at] Index of length " + std::to_string(index.size()) +
                     " does not match an array of shape " + detail::shape_str(s) + ".");
  std::int64_t flat = 0;
  std::size_t d = 0;
  for (std::int64_t i : index) {
    std::int64_t n = s[d];
    std::int64_t j = i < 0 ? i + n : i;
    if (j < 0 || j >= n)
      throw IndexError("[at] Index " + std::to_string(i) + " is out of bounds for axis " +
                       std::to_string(d) + " of an array of shape " + detail::shape_str(s) + ".");
    flat = flat * n + j;
    ++d;
  }
  return flat;
}

std::int64_t Array::single_index() const {
  if (size() != 1)
    throw ShapeError("[item] item() needs an array with exactly one element, got shape " +
                     detail::shape_str(shape()) + ".");
  return 0;
}

double Array::element_double(std::int64_t flat) const {
  return visit_dtype(dtype(), [&](auto t) {
    return static_cast<double>(static_cast<const decltype(t)*>(raw_data())[flat]);
  });
}
std::int64_t Array::element_int(std::int64_t flat) const {
  return visit_dtype(dtype(), [&](auto t) {
    return static_cast<std::int64_t>(static_cast<const decltype(t)*>(raw_data())[flat]);
  });
}

Array Array::astype(DType t) const {
  if (t == dtype() && !weak_type()) return *this;
  if (t == dtype()) return detail::with_weak(*this, false);
  Array out = is_abstract() ? detail::abstract(t, shape()) : detail::empty(t, shape());
  if (!is_abstract()) detail::convert(raw_data(), dtype(), detail::mutable_raw(out), t, size());
  if (impl_->weak_double && t == DType::Float64)
    *detail::mutable_data<double>(out) = *impl_->weak_double;
  if (is_floating(t) && is_floating(dtype()) && detail::any_traced(*this)) {
    DType from = dtype();
    out = detail::record("astype", out, {*this},
                         [from](const Array& g, const std::vector<Array>&, const Array&) {
                           return std::vector<Array>{g.astype(from)};
                         });
  }
  return out;
}

std::string Array::type_string() const {
  std::string s(short_name(dtype()));
  s += "[";
  for (std::size_t i = 0; i < shape().size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape()[i]);
  }
  return s + "]";
}

namespace {
std::string format_element(const Array& a, std::int64_t i) {
  switch (a.dtype()) {
    case DType::Bool:
      return static_cast<const bool*>(a.raw_data())[i] ? "True" : "False";
    case DType::Float32:
    case DType::Float64: {
      double v = a.dtype() == DType::Float32
                     ? static_cast<double>(static_cast<const float*>(a.raw_data())[i])
                     : static_cast<const double*>(a.raw_data())[i];
      if (std::isnan(v)) return "nan";
      if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
      char buf[64];
      auto res = a.dtype() == DType::Float32
                     ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                     : std::to_chars(buf, buf + sizeof buf, v);
      std::string s(buf, res.ptr);
      if (s.find_first_of(".e") == std::string::npos) s += ".";
      return s;
    }
    default:
      return visit_dtype(a.dtype(), [&](auto t) {
        return std::to_string(
            static_cast<std::int64_t>(static_cast<const decltype(t)*>(a.raw_data())[i]));
      });
  }
}
}  // namespace

std::string Array::to_string() const {
  if (!valid()) return "Array(null)";
  if (is_abstract()) return type_string() + " (shape only)";
  const std::int64_t n = size();
  const int nd = ndim();
  const bool summarize = n > 1000;
  constexpr std::int64_t edge = 3;
  std::vector<std::string> cells(static_cast<std::size_t>(n));
  std::size_t width = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    cells[static_cast<std::size_t>(i)] = format_element(*this, i);
    width = std::max(width, cells[static_cast<std::size_t>(i)].size());
  }
  std::ostringstream os;
  os << type_string() << "\n";
  if (nd == 0) {
    os << cells[0];
    return os.str();
  }
  Shape strides(static_cast<std::size_t>(nd), 1);
  for (int d = nd - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape()[d + 1];
  // Recursive printer over axes, eliding the middle of long axes when summarizing.
  auto print = [&](auto&& self, int d, std::int64_t offset) -> void {
    os << "[";
    std::int64_t len = shape()[d];
    for (std::int64_t i = 0; i < len; ++i) {
      if (summarize && len > 2 * edge && i == edge) {
        os << (d == nd - 1 ? "..., "
                           : "...,\n" + std::string(static_cast<std::size_t>(d + 1), ' '));
        i = len - edge - 1;
        continue;
      }
      if (d == nd - 1) {
        const std::string& c = cells[static_cast<std::size_t>(offset + i)];
        os << std::string(width - c.size(), ' ') << c;
      } else {
        self(self, d + 1, offset + i * strides[d]);
      }
      if (i + 1 < len) {
        if (d == nd - 1)
          os << ", ";
        else
          os << "," << std::string(static_cast<std::size_t>(nd - 1 - d), '\n')
             << std::string(static_cast<std::size_t>(d + 1), ' ');
      }
    }
    os << "]";
  };
  print(print, 0, 0);
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Array& a) { return os << a.to_string(); }

// ---- creation ----------------------------------------------------------------------------------

Array full(const Shape& shape, double value, DType dtype) {
  Array out = detail::empty(dtype, shape);
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    T v;
    if constexpr (std::is_same_v<T, bool>)
      v = value != 0.0;
    else
      v = static_cast<T>(value);
    std::fill_n(detail::mutable_data<T>(out), out.size(), v);
  });
  return out;
}
Array zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Array ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
// Like every op, these give a shape-only result for a shape-only operand.
Array zeros_like(const Array& a) {
  return a.is_abstract() ? detail::abstract(a.dtype(), a.shape()) : zeros(a.shape(), a.dtype());
}
Array ones_like(const Array& a) {
  return a.is_abstract() ? detail::abstract(a.dtype(), a.shape()) : ones(a.shape(), a.dtype());
}
Array full_like(const Array& a, double value) {
  return a.is_abstract() ? detail::abstract(a.dtype(), a.shape())
                         : full(a.shape(), value, a.dtype());
}

Array arange(std::int64_t stop, DType dtype) { return arange(std::int64_t{0}, stop, 1, dtype); }

Array arange(std::int64_t start, std::int64_t stop, std::int64_t step, DType dtype) {
  if (step == 0) throw ValueError("[arange] step must be nonzero.");
  std::int64_t n = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
  n = std::max<std::int64_t>(n, 0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = static_cast<double>(start + i * step);
  return Array::from_vector(v, {n}, dtype);
}

Array arange(double start, double stop, double step, DType dtype) {
  if (step == 0.0) throw ValueError("[arange] step must be nonzero.");
  auto n = static_cast<std::int64_t>(std::ceil((stop - start) / step));
  n = std::max<std::int64_t>(n, 0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = start + static_cast<double>(i) * step;
  return Array::from_vector(v, {n}, dtype);
}

Array linspace(double start, double stop, std::int64_t num, bool endpoint, DType dtype) {
  if (num < 0) throw ValueError("[linspace] num must be >= 0, got " + std::to_string(num) + ".");
  std::vector<double> v(static_cast<std::size_t>(num));
  const double div = endpoint ? static_cast<double>(num - 1) : static_cast<double>(num);
  const double step = div > 0 ? (stop - start) / div : 0.0;
  for (std::int64_t i = 0; i < num; ++i)
    v[static_cast<std::size_t>(i)] = start + static_cast<double>(i) * step;
  if (endpoint && num > 1) v.back() = stop;
  return Array::from_vector(v, {num}, dtype);
}

Array eye(std::int64_t n, std::int64_t m, std::int64_t k, DType dtype) {
  if (m < 0) m = n;
  if (n < 0) throw ValueError("[eye] n must be >= 0, got " + std::to_string(n) + ".");
  std::vector<double> v(static_cast<std::size_t>(n * m), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t j = i + k;
    if (j >= 0 && j < m) v[static_cast<std::size_t>(i * m + j)] = 1.0;
  }
  return Array::from_vector(v, {n, m}, dtype);
}

Array abstract_array(const Shape& shape, DType dtype) { return detail::abstract(dtype, shape); }

}  // namespace jute
