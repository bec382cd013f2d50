// Shape ops: reshape, transpose, broadcast_to, expand_dims, squeeze, concatenate, stack, split,
// slice, slice_axis, flip, pad — and their derivative rules.
//
// Arrays are contiguous and row-major, so reshape (and expand_dims, squeeze, ravel) only relabel
// the buffer, while everything else materializes its result through `copy_strided`. slice,
// slice_axis and flip are one internal op, `strided_gather`, whose transpose `strided_scatter`
// (zeros with a strided region filled in) is itself a recorded op whose rule is the gather: each
// rule is written with recorded ops, so every derivative here can be differentiated again.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "ops/kernels.hpp"
#include "ops/strided.hpp"

namespace jute {

namespace detail {

namespace {

const unsigned char* bytes(const Array& a) {
  return static_cast<const unsigned char*>(a.raw_data());
}
unsigned char* mutable_bytes(const Array& a) { return static_cast<unsigned char*>(mutable_raw(a)); }

std::int64_t dot(const Shape& index, const Shape& strides) {
  std::int64_t off = 0;
  for (std::size_t d = 0; d < index.size(); ++d) off += index[d] * strides[d];
  return off;
}

}  // namespace

Array strided_gather(const Array& a, const Shape& start, const Shape& step, const Shape& out_shape,
                     const char* op) {
  Array out = a.is_abstract() ? abstract(a.dtype(), out_shape, a.weak_type())
                              : empty(a.dtype(), out_shape, a.weak_type());
  if (!a.is_abstract() && out.size() > 0) {
    const Shape in_strides = row_major_strides(a.shape());
    Shape src_strides(in_strides.size());
    for (std::size_t d = 0; d < in_strides.size(); ++d) src_strides[d] = step[d] * in_strides[d];
    const std::size_t isz = itemsize(a.dtype());
    copy_strided(bytes(a) + dot(start, in_strides) * static_cast<std::int64_t>(isz),
                 src_strides.data(), mutable_raw(out), row_major_strides(out_shape).data(),
                 out_shape, isz);
  }
  if (any_traced(a))
    out = record(op, out, {a},
                 [start, step](const Array& g, const std::vector<Array>& in, const Array&) {
                   return std::vector<Array>{strided_scatter(g, in[0].shape(), start, step)};
                 });
  return out;
}

Array strided_scatter(const Array& g, const Shape& shape, const Shape& start, const Shape& step) {
  Array out = g.is_abstract() ? abstract(g.dtype(), shape) : empty(g.dtype(), shape);
  bool covers = true;  // every element of `out` receives one of g's (flip): no zero fill needed
  for (std::size_t d = 0; d < shape.size(); ++d)
    covers = covers && g.shape()[d] == shape[d] && (step[d] == 1 || step[d] == -1 || shape[d] <= 1);
  if (!covers && !g.is_abstract()) std::memset(mutable_raw(out), 0, out.nbytes());
  if (!g.is_abstract() && g.size() > 0) {
    const Shape out_strides = row_major_strides(shape);
    Shape dst_strides(shape.size());
    for (std::size_t d = 0; d < shape.size(); ++d) dst_strides[d] = step[d] * out_strides[d];
    const std::size_t isz = itemsize(g.dtype());
    copy_strided(g.raw_data(), row_major_strides(g.shape()).data(),
                 mutable_bytes(out) + dot(start, out_strides) * static_cast<std::int64_t>(isz),
                 dst_strides.data(), g.shape(), isz);
  }
  if (any_traced(g))
    out =
        record("slice_transpose", out, {g},
               [start, step](const Array& ct, const std::vector<Array>& in, const Array&) {
                 return std::vector<Array>{strided_gather(ct, start, step, in[0].shape(), "slice")};
               });
  return out;
}

}  // namespace detail

using detail::normalize_axis;

// ---- reshape and friends (no copy) -------------------------------------------------------------

Array reshape(const Array& a, const Shape& shape) {
  Shape target = shape;
  std::int64_t known = 1;
  int unknown = -1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1 && unknown < 0) {
      unknown = static_cast<int>(d);
    } else if (shape[d] == -1) {
      throw ShapeError("[reshape] Can only infer one dimension, but shape " +
                       detail::shape_str(shape) + " has more than one -1.");
    } else if (shape[d] < 0) {
      throw ShapeError("[reshape] Cannot reshape into shape " + detail::shape_str(shape) +
                       " because it has a negative dimension; only -1 (inferred) is allowed.");
    } else {
      known *= shape[d];
    }
  }
  const std::int64_t size = a.size();
  if (unknown >= 0 && known != 0 && size % known == 0)
    target[static_cast<std::size_t>(unknown)] = size / known;
  if ((unknown >= 0 && (known == 0 || size % known != 0)) || (unknown < 0 && known != size))
    throw ShapeError("[reshape] Cannot reshape array of size " + std::to_string(size) +
                     " with shape " + detail::shape_str(a.shape()) + " into shape " +
                     detail::shape_str(shape) + ".");
  if (target == a.shape()) return a;
  Array out = detail::with_shape(a, target);
  if (detail::any_traced(a))
    out = detail::record("reshape", out, {a},
                         [](const Array& g, const std::vector<Array>& in, const Array&) {
                           return std::vector<Array>{reshape(g, in[0].shape())};
                         });
  return out;
}

Array ravel(const Array& a) { return reshape(a, {a.size()}); }

Array expand_dims(const Array& a, const Axes& axes) {
  if (axes.all())
    throw ValueError(
        "[expand_dims] Give the positions of the new axes explicitly; expand_dims "
        "has no default axes.");
  const int out_ndim = a.ndim() + static_cast<int>(axes.list().size());
  const std::vector<int> pos = axes.resolve(out_ndim, "expand_dims");
  Shape shape;
  std::size_t next = 0, src = 0;
  for (int d = 0; d < out_ndim; ++d) {
    if (next < pos.size() && pos[next] == d) {
      shape.push_back(1);
      ++next;
    } else {
      shape.push_back(a.shape()[src++]);
    }
  }
  return reshape(a, shape);
}

Array squeeze(const Array& a, const Axes& axes) {
  std::vector<bool> drop(static_cast<std::size_t>(a.ndim()), false);
  if (axes.all()) {
    for (int d = 0; d < a.ndim(); ++d) drop[static_cast<std::size_t>(d)] = a.shape()[d] == 1;
  } else {
    for (int d : axes.resolve(a.ndim(), "squeeze")) {
      if (a.shape()[d] != 1)
        throw ShapeError("[squeeze] Cannot squeeze axis " + std::to_string(d) +
                         " of an array of shape " + detail::shape_str(a.shape()) +
                         " because its size is " + std::to_string(a.shape()[d]) +
                         ", not 1; squeeze only size-1 axes.");
      drop[static_cast<std::size_t>(d)] = true;
    }
  }
  Shape shape;
  for (int d = 0; d < a.ndim(); ++d)
    if (!drop[static_cast<std::size_t>(d)]) shape.push_back(a.shape()[d]);
  return reshape(a, shape);
}

// ---- transpose ---------------------------------------------------------------------------------

Array transpose(const Array& a, const std::vector<int>& perm) {
  const int n = a.ndim();
  std::vector<int> p(static_cast<std::size_t>(n));
  if (perm.empty()) {
    for (int d = 0; d < n; ++d) p[static_cast<std::size_t>(d)] = n - 1 - d;
  } else {
    std::vector<bool> seen(static_cast<std::size_t>(n), false);
    bool ok = static_cast<int>(perm.size()) == n;
    for (std::size_t d = 0; ok && d < perm.size(); ++d) {
      const int ax = perm[d] < 0 ? perm[d] + n : perm[d];
      ok = ax >= 0 && ax < n && !seen[static_cast<std::size_t>(ax)];
      if (ok) seen[static_cast<std::size_t>(ax)] = true;
      p[d] = ax;
    }
    if (!ok) {
      const std::string axes = detail::shape_str(Shape(perm.begin(), perm.end()));
      throw ShapeError("[transpose] Axes " + axes + " are not a permutation of the axes of an " +
                       "array of shape " + detail::shape_str(a.shape()) +
                       "; give each axis exactly once.");
    }
  }
  bool identity = true;
  for (int d = 0; d < n; ++d) identity = identity && p[static_cast<std::size_t>(d)] == d;
  if (identity) return a;

  const Shape in_strides = detail::row_major_strides(a.shape());
  Shape shape(static_cast<std::size_t>(n)), src_strides(static_cast<std::size_t>(n));
  for (std::size_t d = 0; d < p.size(); ++d) {
    shape[d] = a.shape()[static_cast<std::size_t>(p[d])];
    src_strides[d] = in_strides[static_cast<std::size_t>(p[d])];
  }
  Array out = a.is_abstract() ? detail::abstract(a.dtype(), shape, a.weak_type())
                              : detail::empty(a.dtype(), shape, a.weak_type());
  if (!a.is_abstract())
    detail::copy_strided(a.raw_data(), src_strides.data(), detail::mutable_raw(out),
                         detail::row_major_strides(shape).data(), shape, itemsize(a.dtype()));
  if (detail::any_traced(a)) {
    std::vector<int> inverse(p.size());
    for (std::size_t d = 0; d < p.size(); ++d)
      inverse[static_cast<std::size_t>(p[d])] = static_cast<int>(d);
    out = detail::record("transpose", out, {a},
                         [inverse](const Array& g, const std::vector<Array>&, const Array&) {
                           return std::vector<Array>{transpose(g, inverse)};
                         });
  }
  return out;
}

Array swapaxes(const Array& a, int axis1, int axis2) {
  const int n = a.ndim();
  const int a1 = normalize_axis(axis1, n, "swapaxes"), a2 = normalize_axis(axis2, n, "swapaxes");
  std::vector<int> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[static_cast<std::size_t>(a1)], perm[static_cast<std::size_t>(a2)]);
  return transpose(a, perm);
}

// ---- broadcast_to ------------------------------------------------------------------------------

Array broadcast_to(const Array& a, const Shape& shape) {
  const int n = a.ndim(), m = static_cast<int>(shape.size());
  bool ok = n <= m;
  for (int d = 0; ok && d < n; ++d) {
    const std::int64_t from = a.shape()[d], to = shape[static_cast<std::size_t>(d + m - n)];
    ok = from == to || from == 1;
  }
  for (auto dim : shape) ok = ok && dim >= 0;
  if (!ok)
    throw ShapeError("[broadcast_to] Cannot broadcast an array of shape " +
                     detail::shape_str(a.shape()) + " to shape " + detail::shape_str(shape) +
                     "; each dimension must equal the target's or be 1.");
  if (a.shape() == shape) return a;
  const Shape in_strides = detail::row_major_strides(a.shape());
  Shape src_strides(static_cast<std::size_t>(m), 0);
  for (int d = 0; d < n; ++d)
    if (a.shape()[d] != 1) src_strides[static_cast<std::size_t>(d + m - n)] = in_strides[d];
  Array out = a.is_abstract() ? detail::abstract(a.dtype(), shape, a.weak_type())
                              : detail::empty(a.dtype(), shape, a.weak_type());
  if (!a.is_abstract())
    detail::copy_strided(a.raw_data(), src_strides.data(), detail::mutable_raw(out),
                         detail::row_major_strides(shape).data(), shape, itemsize(a.dtype()));
  if (detail::any_traced(a))
    out = detail::record("broadcast_to", out, {a},
                         [](const Array& g, const std::vector<Array>& in, const Array&) {
                           return std::vector<Array>{detail::unbroadcast(g, in[0].shape())};
                         });
  return out;
}

// ---- concatenate, stack, split -----------------------------------------------------------------

Array concatenate(const std::vector<Array>& arrays, int axis) {
  if (arrays.empty())
    throw ValueError("[concatenate] Needs at least one array, got an empty list.");
  const Array& first = arrays[0];
  if (first.ndim() == 0)
    throw ShapeError(
        "[concatenate] Cannot concatenate zero-dimensional arrays (scalars); "
        "reshape them to shape (1,) first.");
  const int ax = normalize_axis(axis, first.ndim(), "concatenate");
  std::int64_t total = 0;
  for (std::size_t k = 0; k < arrays.size(); ++k) {
    const Shape& s = arrays[k].shape();
    bool same = s.size() == first.shape().size();
    for (std::size_t d = 0; same && d < s.size(); ++d)
      same = static_cast<int>(d) == ax || s[d] == first.shape()[d];
    if (!same)
      throw ShapeError("[concatenate] All dimensions except axis " + std::to_string(ax) +
                       " must match, but array 0 has shape " + detail::shape_str(first.shape()) +
                       " and array " + std::to_string(k) + " has shape " + detail::shape_str(s) +
                       ".");
    total += s[static_cast<std::size_t>(ax)];
  }
  // Dtypes promote as in a chain of binary ops.
  detail::ResultType type = detail::result_type(first, first);
  for (const auto& x : arrays) type = detail::result_type(type, {x.dtype(), x.weak_type()});
  const DType dtype = type.dtype;
  std::vector<Array> in;
  in.reserve(arrays.size());
  for (const auto& x : arrays) in.push_back(x.astype(dtype));
  if (in.size() == 1) return in[0];

  Shape shape = first.shape();
  shape[static_cast<std::size_t>(ax)] = total;
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= shape[static_cast<std::size_t>(d)];
  for (std::size_t d = static_cast<std::size_t>(ax) + 1; d < shape.size(); ++d) inner *= shape[d];
  const bool shape_only =
      std::any_of(in.begin(), in.end(), [](const Array& x) { return x.is_abstract(); });
  Array out = shape_only ? detail::abstract(dtype, shape) : detail::empty(dtype, shape);
  const std::size_t isz = itemsize(dtype);
  std::vector<std::int64_t> offsets;
  std::int64_t offset = 0;
  for (const auto& x : in) {
    const std::int64_t len = x.shape()[static_cast<std::size_t>(ax)];
    const std::int64_t run = len * inner;
    const std::int64_t src_strides[] = {run, 1}, dst_strides[] = {total * inner, 1};
    if (!shape_only)
      detail::copy_strided(x.raw_data(), src_strides,
                           static_cast<unsigned char*>(detail::mutable_raw(out)) +
                               offset * inner * static_cast<std::int64_t>(isz),
                           dst_strides, {outer, run}, isz);
    offsets.push_back(offset);
    offset += len;
  }
  if (detail::any_traced_in(in))
    out =
        detail::record("concatenate", out, in,
                       [ax, offsets](const Array& g, const std::vector<Array>& ins, const Array&) {
                         std::vector<Array> cts;
                         for (std::size_t k = 0; k < ins.size(); ++k) {
                           const std::int64_t len = ins[k].shape()[static_cast<std::size_t>(ax)];
                           cts.push_back(detail::may_need_cotangent(ins[k])
                                             ? slice_axis(g, ax, offsets[k], offsets[k] + len)
                                             : Array());
                         }
                         return cts;
                       });
  return out;
}

Array stack(const std::vector<Array>& arrays, int axis) {
  if (arrays.empty()) throw ValueError("[stack] Needs at least one array, got an empty list.");
  const Shape& s0 = arrays[0].shape();
  for (std::size_t k = 1; k < arrays.size(); ++k)
    if (arrays[k].shape() != s0)
      throw ShapeError("[stack] All input arrays must have the same shape, but array 0 has shape " +
                       detail::shape_str(s0) + " and array " + std::to_string(k) + " has shape " +
                       detail::shape_str(arrays[k].shape()) + ".");
  const int ax = normalize_axis(axis, arrays[0].ndim() + 1, "stack");
  std::vector<Array> expanded;
  expanded.reserve(arrays.size());
  for (const auto& x : arrays) expanded.push_back(expand_dims(x, ax));
  return concatenate(expanded, ax);
}

std::vector<Array> split(const Array& a, int sections, int axis) {
  const int ax = normalize_axis(axis, a.ndim(), "split");
  if (sections <= 0)
    throw ValueError("[split] The number of sections must be positive, got " +
                     std::to_string(sections) + ".");
  const std::int64_t n = a.shape()[static_cast<std::size_t>(ax)];
  if (n % sections != 0)
    throw ShapeError("[split] Array split does not result in an equal division: axis " +
                     std::to_string(ax) + " of an array of shape " + detail::shape_str(a.shape()) +
                     " has size " + std::to_string(n) + ", which " + std::to_string(sections) +
                     " sections do not divide; pass split indices instead.");
  std::vector<std::int64_t> indices;
  for (int k = 1; k < sections; ++k) indices.push_back(k * (n / sections));
  return split(a, indices, ax);
}

std::vector<Array> split(const Array& a, const std::vector<std::int64_t>& indices, int axis) {
  const int ax = normalize_axis(axis, a.ndim(), "split");
  std::vector<Array> pieces;
  pieces.reserve(indices.size() + 1);
  std::int64_t start = 0;
  for (std::int64_t stop : indices) {
    pieces.push_back(slice_axis(a, ax, start, stop));
    start = stop;
  }
  pieces.push_back(slice_axis(a, ax, start, std::numeric_limits<std::int64_t>::max()));
  return pieces;
}

// ---- slice, slice_axis, flip -------------------------------------------------------------------

Array slice(const Array& a, const Shape& start, const Shape& stop, const Shape& strides) {
  const std::size_t n = static_cast<std::size_t>(a.ndim());
  if (start.size() != n || stop.size() != n || (!strides.empty() && strides.size() != n))
    throw ShapeError("[slice] start " + detail::shape_str(start) + ", stop " +
                     detail::shape_str(stop) + " and strides " + detail::shape_str(strides) +
                     " must have one entry per axis of the array of shape " +
                     detail::shape_str(a.shape()) + " (strides may be empty).");
  Shape step = strides.empty() ? Shape(n, 1) : strides;
  Shape shape(n);
  for (std::size_t d = 0; d < n; ++d) {
    if (step[d] <= 0)
      throw ValueError("[slice] Strides must be positive, got " + detail::shape_str(step) + ".");
    if (start[d] < 0 || stop[d] > a.shape()[d] || start[d] > stop[d])
      throw ShapeError("[slice] Slice from " + detail::shape_str(start) + " to " +
                       detail::shape_str(stop) + " is out of bounds on axis " + std::to_string(d) +
                       " of an array of shape " + detail::shape_str(a.shape()) +
                       "; need 0 <= start <= stop <= size on every axis.");
    shape[d] = (stop[d] - start[d] + step[d] - 1) / step[d];
  }
  if (shape == a.shape()) return a;
  return detail::strided_gather(a, start, step, shape, "slice");
}

Array slice_axis(const Array& a, int axis, std::int64_t start, std::int64_t stop,
                 std::int64_t step) {
  const int ax = normalize_axis(axis, a.ndim(), "slice_axis");
  if (step == 0) throw ValueError("[slice_axis] The slice step must be nonzero.");
  const std::int64_t n = a.shape()[static_cast<std::size_t>(ax)];
  // Python's slice.indices: negative bounds count from the end, then clamp to the valid range.
  auto adjust = [n, step](std::int64_t i) {
    if (i < 0) {
      i = i < -n ? -1 : i + n;  // written to avoid overflow for very negative i
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  start = adjust(start);
  stop = adjust(stop);
  std::int64_t len = 0;
  if (step > 0 && start < stop) len = (stop - start - 1) / step + 1;
  if (step < 0 && stop < start) len = (start - stop - 1) / (-step) + 1;
  if (len == n && step == 1) return a;
  Shape first(static_cast<std::size_t>(a.ndim()), 0), steps(static_cast<std::size_t>(a.ndim()), 1);
  Shape shape = a.shape();
  first[static_cast<std::size_t>(ax)] = len > 0 ? start : 0;
  steps[static_cast<std::size_t>(ax)] = step;
  shape[static_cast<std::size_t>(ax)] = len;
  return detail::strided_gather(a, first, steps, shape, "slice_axis");
}

Array flip(const Array& a, const Axes& axes) {
  std::vector<int> list;
  if (axes.all()) {
    for (int d = 0; d < a.ndim(); ++d) list.push_back(d);
  } else {
    list = axes.resolve(a.ndim(), "flip");
  }
  Shape start(static_cast<std::size_t>(a.ndim()), 0), step(static_cast<std::size_t>(a.ndim()), 1);
  bool moves = false;
  for (int d : list) {
    const std::int64_t n = a.shape()[static_cast<std::size_t>(d)];
    start[static_cast<std::size_t>(d)] = n > 0 ? n - 1 : 0;
    step[static_cast<std::size_t>(d)] = -1;
    moves = moves || n > 1;
  }
  if (!moves) return a;
  return detail::strided_gather(a, start, step, a.shape(), "flip");
}

// ---- pad ---------------------------------------------------------------------------------------

namespace {

using Widths = std::vector<std::pair<std::int64_t, std::int64_t>>;

const char* mode_name(PadMode mode) {
  switch (mode) {
    case PadMode::Constant:
      return "constant";
    case PadMode::Reflect:
      return "reflect";
    case PadMode::Wrap:
      return "wrap";
    case PadMode::Edge:
      return "edge";
  }
  return "unknown";
}

/// The interior index that padded position `i` (relative to the interior's start, so negative
/// before it) copies, for the index-mapping modes. NumPy pads reflect/wrap widths wider than the
/// axis by repeating the pattern, which is exactly this periodic map; a size-1 axis reflects as
/// edge (NumPy's legacy behaviour).
std::int64_t source_index(std::int64_t i, std::int64_t n, PadMode mode) {
  switch (mode) {
    case PadMode::Edge:
      return std::clamp<std::int64_t>(i, 0, n - 1);
    case PadMode::Wrap:
      return ((i % n) + n) % n;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      const std::int64_t period = 2 * (n - 1);
      const std::int64_t j = ((i % period) + period) % period;
      return j < n ? j : period - j;
    }
    case PadMode::Constant:
      break;
  }
  return i;
}

/// The region of the padded array (shape `padded`, strides `strides`) that step `d` of padding
/// (or of folding back) works on: axes before `d` over their padded extent (already done), axes
/// after `d` over their interior only; axis `d` itself is set by the caller. Returns the region's
/// shape and the offset of its origin.
std::pair<Shape, std::int64_t> axis_region(const Shape& padded, const Shape& interior,
                                           const Shape& strides, const Widths& w, std::size_t d) {
  Shape region = padded;
  std::int64_t offset = 0;
  for (std::size_t e = d + 1; e < padded.size(); ++e) {
    region[e] = interior[e];
    offset += w[e].first * strides[e];
  }
  region[d] = 1;
  return {region, offset};
}

/// The transpose of `pad` for the index-mapping modes: every padded element of `g` is added onto
/// the interior element it was copied from, axis by axis in reverse order (the adjoint of padding
/// axis by axis). Recorded; its rule is `pad` itself, so it can be differentiated again.
Array pad_transpose(const Array& g, const Shape& shape, const Widths& w, PadMode mode) {
  const Shape& padded = g.shape();
  const Shape strides = detail::row_major_strides(padded);
  const std::size_t isz = itemsize(g.dtype());
  if (g.is_abstract()) return detail::abstract(g.dtype(), shape);
  Array work = detail::empty(g.dtype(), padded);
  std::memcpy(detail::mutable_raw(work), g.raw_data(), g.nbytes());
  auto* base = static_cast<unsigned char*>(detail::mutable_raw(work));
  for (std::size_t d = padded.size(); d-- > 0;) {
    if (shape[d] == 0) continue;  // nothing to fold onto; only constant mode pads empty axes
    auto [region, origin] = axis_region(padded, shape, strides, w, d);
    const std::int64_t n = shape[d], before = w[d].first;
    for (std::int64_t i = 0; i < padded[d]; ++i) {
      if (i >= before && i < before + n) continue;
      const std::int64_t to = before + source_index(i - before, n, mode);
      detail::add_strided(base + (origin + i * strides[d]) * static_cast<std::int64_t>(isz),
                          base + (origin + to * strides[d]) * static_cast<std::int64_t>(isz),
                          strides.data(), region, g.dtype());
    }
  }
  Array out = detail::empty(g.dtype(), shape);
  std::int64_t interior = 0;
  for (std::size_t d = 0; d < padded.size(); ++d) interior += w[d].first * strides[d];
  detail::copy_strided(base + interior * static_cast<std::int64_t>(isz), strides.data(),
                       detail::mutable_raw(out), detail::row_major_strides(shape).data(), shape,
                       isz);
  if (detail::any_traced(g))
    out = detail::record("pad_transpose", out, {g},
                         [w, mode](const Array& ct, const std::vector<Array>&, const Array&) {
                           return std::vector<Array>{pad(ct, w, mode)};
                         });
  return out;
}

}  // namespace

Array pad(const Array& a, const std::vector<std::pair<std::int64_t, std::int64_t>>& widths,
          PadMode mode, double value) {
  const std::size_t n = static_cast<std::size_t>(a.ndim());
  // One pair pads every axis, as NumPy's ((before, after),).
  const Widths w = widths.size() == 1 ? Widths(n, widths[0]) : widths;
  if (w.size() != n)
    throw ShapeError("[pad] Got " + std::to_string(widths.size()) +
                     " (before, after) pairs for an array of shape " +
                     detail::shape_str(a.shape()) +
                     "; give one pair per axis or a single pair for all axes.");
  bool any = false;
  for (std::size_t d = 0; d < n; ++d) {
    if (w[d].first < 0 || w[d].second < 0)
      throw ValueError("[pad] Pad widths must be >= 0, got (" + std::to_string(w[d].first) + "," +
                       std::to_string(w[d].second) + ") for axis " + std::to_string(d) +
                       " of an array of shape " + detail::shape_str(a.shape()) + ".");
    if (mode != PadMode::Constant && a.shape()[d] == 0 && (w[d].first || w[d].second))
      throw ValueError(std::string("[pad] Cannot extend the empty axis ") + std::to_string(d) +
                       " of an array of shape " + detail::shape_str(a.shape()) + " in " +
                       mode_name(mode) + " mode; only constant mode can pad an empty axis.");
    any = any || w[d].first || w[d].second;
  }
  if (!any) return a;

  Shape shape = a.shape();
  for (std::size_t d = 0; d < n; ++d) shape[d] += w[d].first + w[d].second;
  const Shape strides = detail::row_major_strides(shape);
  const std::size_t isz = itemsize(a.dtype());
  // Shape-only: no derivative is recorded; a gradient through it is a shape-only zeros_like.
  if (a.is_abstract()) return detail::abstract(a.dtype(), shape, a.weak_type());
  Array out = detail::empty(a.dtype(), shape, a.weak_type());
  auto* base = static_cast<unsigned char*>(detail::mutable_raw(out));
  std::int64_t interior = 0;
  for (std::size_t d = 0; d < n; ++d) interior += w[d].first * strides[d];
  detail::copy_strided(a.raw_data(), detail::row_major_strides(a.shape()).data(),
                       base + interior * static_cast<std::int64_t>(isz), strides.data(), a.shape(),
                       isz);
  // Borders, axis by axis (as NumPy): step d writes the before/after slabs of axis d over the
  // padded extent of the axes already done and the interior of the others.
  alignas(8) unsigned char fill[8] = {};
  detail::convert(&value, DType::Float64, fill, a.dtype(), 1);
  const Shape zero_strides(n, 0);
  for (std::size_t d = 0; d < n; ++d) {
    auto [region, origin] = axis_region(shape, a.shape(), strides, w, d);
    const std::int64_t len = a.shape()[d], before = w[d].first;
    if (mode == PadMode::Constant) {
      for (auto [from, count] :
           {std::pair{std::int64_t{0}, before}, std::pair{before + len, w[d].second}}) {
        region[d] = count;
        detail::copy_strided(fill, zero_strides.data(),
                             base + (origin + from * strides[d]) * static_cast<std::int64_t>(isz),
                             strides.data(), region, isz);
      }
      continue;
    }
    for (std::int64_t i = 0; i < shape[d]; ++i) {
      if (i >= before && i < before + len) continue;
      const std::int64_t from = before + source_index(i - before, len, mode);
      detail::copy_strided(base + (origin + from * strides[d]) * static_cast<std::int64_t>(isz),
                           strides.data(),
                           base + (origin + i * strides[d]) * static_cast<std::int64_t>(isz),
                           strides.data(), region, isz);
    }
  }
  if (detail::any_traced(a)) {
    Shape lo(n), hi(n);
    for (std::size_t d = 0; d < n; ++d) lo[d] = w[d].first, hi[d] = w[d].first + a.shape()[d];
    out = detail::record(
        "pad", out, {a},
        [w, mode, lo, hi](const Array& g, const std::vector<Array>& in, const Array&) {
          return std::vector<Array>{mode == PadMode::Constant
                                        ? slice(g, lo, hi)
                                        : pad_transpose(g, in[0].shape(), w, mode)};
        });
  }
  return out;
}

}  // namespace jute
