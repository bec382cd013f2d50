// Indexing ops: take, take_along_axis, one_hot.
//
// take and take_along_axis are one gather: take reshapes `a` to (outer, n, inner) and its indices
// to (1, m, 1), which take_along_axis's broadcasting turns into whole rows of `inner` elements
// copied with memcpy. The gather's derivative is a scatter-add of the cotangent into zeros at the
// same indices (`scatter_add_along`), itself a recorded op whose rule is the gather again, so
// both are differentiable to any order.
#include <cstring>
#include <string>
#include <vector>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "ops/strided.hpp"

namespace jute {

namespace {

/// The indices as int64, negative ones counted from the end; IndexError naming `op`, the axis and
/// the array's shape for any index outside [-n, n).
std::vector<std::int64_t> checked_indices(const Array& indices, std::int64_t n, int axis,
                                          const Shape& shape, const char* op) {
  if (!is_integer(indices.dtype()))
    throw DtypeError(std::string("[") + op + "] Indices must have an integer dtype, got " +
                     std::string(name(indices.dtype())) + "; convert them with astype(int32).");
  std::vector<std::int64_t> out(static_cast<std::size_t>(indices.size()));
  visit_dtype(indices.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* p = static_cast<const T*>(indices.raw_data());
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto v = static_cast<std::int64_t>(p[i]);
      const std::int64_t j = v < 0 ? v + n : v;
      if (j < 0 || j >= n)
        throw IndexError(std::string("[") + op + "] Index " + std::to_string(v) +
                         " is out of bounds for axis " + std::to_string(axis) + " with size " +
                         std::to_string(n) + " of an array of shape " + detail::shape_str(shape) +
                         "; indices must lie in [-size, size).");
      out[i] = j;
    }
  });
  return out;
}

/// Where each element of a gather along `axis` comes from. Axes other than `axis` broadcast
/// between the array and the indices (a stride of 0 repeats), and when the indices are constant
/// over all trailing axes (take's (1, m, 1) indices) those axes move as one contiguous block.
struct GatherPlan {
  Shape out_shape;
  Shape a_strides;  // stride of `a` per output axis (0 where `a` broadcasts; 0 on `axis`)
  Shape i_strides;  // stride of the indices per output axis (0 where they broadcast)
  std::int64_t axis_stride = 0;
  std::int64_t block = 1;  // contiguous elements moved per index
  std::size_t walked = 0;  // leading output axes iterated (the rest form the block)
};

GatherPlan plan_gather(const Shape& a, const Shape& idx, int axis, const char* op) {
  const std::size_t r = a.size(), ax = static_cast<std::size_t>(axis);
  GatherPlan p;
  p.out_shape.resize(r);
  for (std::size_t d = 0; d < r; ++d) {
    if (d == ax || a[d] == idx[d] || idx[d] == 1) {
      p.out_shape[d] = d == ax ? idx[d] : a[d];
    } else if (a[d] == 1) {
      p.out_shape[d] = idx[d];
    } else {
      throw ShapeError(std::string("[") + op + "] Indices of shape " + detail::shape_str(idx) +
                       " do not broadcast against the array of shape " + detail::shape_str(a) +
                       " on axis " + std::to_string(d) +
                       "; every axis but the gather axis must match or be 1.");
    }
  }
  const Shape as = detail::row_major_strides(a), is = detail::row_major_strides(idx);
  p.a_strides.resize(r);
  p.i_strides.resize(r);
  bool trailing_block = true;
  for (std::size_t d = 0; d < r; ++d) {
    p.a_strides[d] = (d == ax || a[d] == 1) ? 0 : as[d];
    p.i_strides[d] = idx[d] == 1 ? 0 : is[d];
    if (d > ax) trailing_block = trailing_block && idx[d] == 1 && a[d] == p.out_shape[d];
  }
  p.axis_stride = as[ax];
  p.walked = trailing_block ? ax + 1 : r;
  for (std::size_t d = p.walked; d < r; ++d) p.block *= p.out_shape[d];
  return p;
}

/// Calls `move(a_offset, out_offset)` for every block of the gather, in output order.
template <class F>
void for_each_gather(const GatherPlan& p, const std::vector<std::int64_t>& idx, F&& move) {
  std::int64_t count = 1;
  for (std::size_t d = 0; d < p.walked; ++d) count *= p.out_shape[d];
  if (count == 0 || p.block == 0) return;
  std::vector<std::int64_t> pos(p.walked, 0);
  std::int64_t a_off = 0, i_off = 0, o_off = 0;
  for (std::int64_t t = 0; t < count; ++t, o_off += p.block) {
    move(a_off + idx[static_cast<std::size_t>(i_off)] * p.axis_stride, o_off);
    for (std::size_t d = p.walked; d-- > 0;) {
      a_off += p.a_strides[d];
      i_off += p.i_strides[d];
      if (++pos[d] < p.out_shape[d]) break;
      a_off -= p.a_strides[d] * p.out_shape[d];
      i_off -= p.i_strides[d] * p.out_shape[d];
      pos[d] = 0;
    }
  }
}

Array gather_along(const Array& a, const Array& indices, int axis, const char* op, int msg_axis,
                   const Shape& msg_shape);

/// The transpose of `gather_along`: zeros of `shape` with every element of `g` added at the
/// position it was gathered from (repeated indices accumulate).
Array scatter_add_along(const Array& g, const Array& indices, int axis, const Shape& shape) {
  if (detail::any_abstract(g, indices)) return detail::abstract(g.dtype(), shape);
  const auto idx = checked_indices(indices, shape[static_cast<std::size_t>(axis)], axis, shape,
                                   "take_transpose");
  const GatherPlan p = plan_gather(shape, indices.shape(), axis, "take_transpose");
  Array out = detail::empty(g.dtype(), shape);
  std::memset(detail::mutable_raw(out), 0, out.nbytes());
  auto accumulate = [&](auto zero) {
    using T = decltype(zero);
    const T* src = static_cast<const T*>(g.raw_data());
    T* dst = detail::mutable_data<T>(out);
    for_each_gather(p, idx, [&](std::int64_t a_off, std::int64_t o_off) {
      for (std::int64_t b = 0; b < p.block; ++b) dst[a_off + b] += src[o_off + b];
    });
  };
  if (g.dtype() == DType::Float32)
    accumulate(float{});
  else if (g.dtype() == DType::Float64)
    accumulate(double{});
  else
    throw DtypeError("[take_transpose] Scatter-add is defined for float32 and float64 only, got " +
                     std::string(name(g.dtype())) + "; this is a bug in jute, please report it.");
  if (detail::any_traced(g))
    out = detail::record("take_transpose", out, {g},
                         [indices, axis](const Array& ct, const std::vector<Array>&, const Array&) {
                           return std::vector<Array>{gather_along(
                               ct, indices, axis, "take_along_axis", axis, ct.shape())};
                         });
  return out;
}

/// out[p] = a[p with p[axis] replaced by indices[p]], the other axes broadcasting; errors name
/// `op`, `msg_axis` and `msg_shape` (the caller's view of the array).
Array gather_along(const Array& a, const Array& indices, int axis, const char* op, int msg_axis,
                   const Shape& msg_shape) {
  if (detail::any_abstract(a, indices))
    return detail::abstract(a.dtype(), plan_gather(a.shape(), indices.shape(), axis, op).out_shape,
                            a.weak_type());
  const auto idx =
      checked_indices(indices, a.shape()[static_cast<std::size_t>(axis)], msg_axis, msg_shape, op);
  const GatherPlan p = plan_gather(a.shape(), indices.shape(), axis, op);
  Array out = detail::empty(a.dtype(), p.out_shape, a.weak_type());
  const std::size_t isz = itemsize(a.dtype());
  const auto* src = static_cast<const unsigned char*>(a.raw_data());
  auto* dst = static_cast<unsigned char*>(detail::mutable_raw(out));
  const std::size_t bytes = static_cast<std::size_t>(p.block) * isz;
  for_each_gather(p, idx, [&](std::int64_t a_off, std::int64_t o_off) {
    std::memcpy(dst + static_cast<std::size_t>(o_off) * isz,
                src + static_cast<std::size_t>(a_off) * isz, bytes);
  });
  if (detail::any_traced(a))
    out = detail::record(
        op, out, {a}, [indices, axis](const Array& g, const std::vector<Array>& in, const Array&) {
          return std::vector<Array>{scatter_add_along(g, indices, axis, in[0].shape())};
        });
  return out;
}

}  // namespace

Array take(const Array& a, const Array& indices, std::optional<int> axis) {
  if (!axis) return take(ravel(a), indices, 0);
  const int ax = detail::normalize_axis(*axis, a.ndim(), "take");
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= a.shape()[static_cast<std::size_t>(d)];
  for (int d = ax + 1; d < a.ndim(); ++d) inner *= a.shape()[static_cast<std::size_t>(d)];
  const std::int64_t n = a.shape()[static_cast<std::size_t>(ax)];
  Shape shape(a.shape().begin(), a.shape().begin() + ax);
  shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
  shape.insert(shape.end(), a.shape().begin() + ax + 1, a.shape().end());
  Array rows = gather_along(reshape(a, {outer, n, inner}), reshape(indices, {1, indices.size(), 1}),
                            1, "take", ax, a.shape());
  return reshape(rows, shape);
}

Array take_along_axis(const Array& a, const Array& indices, int axis) {
  if (indices.ndim() != a.ndim())
    throw ShapeError(
        "[take_along_axis] Indices must have the same number of dimensions as the "
        "array, got indices of shape " +
        detail::shape_str(indices.shape()) + " for an array of shape " +
        detail::shape_str(a.shape()) + ".");
  const int ax = detail::normalize_axis(axis, a.ndim(), "take_along_axis");
  return gather_along(a, indices, ax, "take_along_axis", ax, a.shape());
}

Array one_hot(const Array& indices, std::int64_t num_classes, DType dtype) {
  if (!is_integer(indices.dtype()))
    throw DtypeError("[one_hot] Indices must have an integer dtype, got " +
                     std::string(name(indices.dtype())) + "; convert them with astype(int32).");
  if (num_classes < 0)
    throw ValueError("[one_hot] num_classes must be >= 0, got " + std::to_string(num_classes) +
                     ".");
  Shape shape = indices.shape();
  shape.push_back(num_classes);
  if (indices.is_abstract()) return detail::abstract(dtype, shape);
  Array out = detail::empty(dtype, shape);
  std::memset(detail::mutable_raw(out), 0, out.nbytes());
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    T* o = detail::mutable_data<T>(out);
    visit_dtype(indices.dtype(), [&](auto u) {
      using U = decltype(u);
      const U* p = static_cast<const U*>(indices.raw_data());
      for (std::int64_t i = 0; i < indices.size(); ++i) {
        const auto v = static_cast<std::int64_t>(p[i]);
        if (v >= 0 && v < num_classes) o[i * num_classes + v] = static_cast<T>(1);
      }
    });
  });
  return out;
}

}  // namespace jute
