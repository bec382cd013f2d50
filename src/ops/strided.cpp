// The strided-copy engine (see strided.hpp). Written by hand rather than with xtensor's strided
// views: jute's layouts are plain (contiguous, row-major, strides in elements), and the cases that
// matter (contiguous runs → memcpy, broadcast runs → fill, 2-d transposes → tiles) are a few lines
// each, without paying xtensor's compile time or its per-element index arithmetic.
#include "ops/strided.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace jute::detail {

Shape row_major_strides(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

int normalize_axis(int axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim)
    throw ShapeError(std::string("[") + op + "] Axis " + std::to_string(axis) +
                     " is out of bounds for an array of dimension " + std::to_string(ndim) +
                     "; use an axis in [" + std::to_string(-ndim) + "," + std::to_string(ndim) +
                     ").");
  return axis < 0 ? axis + ndim : axis;
}

namespace {

/// One axis of a strided region: extent, source stride, destination stride (in elements).
struct Dim {
  std::int64_t n, s, d;
};

/// The region's axes without size-1 axes, with neighbours that are contiguous on both sides
/// merged. Returns false when the region is empty.
bool simplify(const Shape& shape, const std::int64_t* ss, const std::int64_t* ds,
              std::vector<Dim>& out) {
  out.clear();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) return false;
    if (shape[i] == 1) continue;
    Dim x{shape[i], ss[i], ds[i]};
    if (!out.empty() && out.back().s == x.s * x.n && out.back().d == x.d * x.n)
      out.back() = Dim{out.back().n * x.n, x.s, x.d};
    else
      out.push_back(x);
  }
  return true;
}

/// Calls `body(src_offset, dst_offset)` for every index of `outer` (an odometer, last axis
/// fastest).
template <class F>
void for_each_outer(const std::vector<Dim>& outer, F&& body) {
  std::vector<std::int64_t> idx(outer.size(), 0);
  std::int64_t so = 0, dof = 0;
  for (;;) {
    body(so, dof);
    std::size_t k = outer.size();
    for (; k-- > 0;) {
      so += outer[k].s;
      dof += outer[k].d;
      if (++idx[k] < outer[k].n) break;
      so -= outer[k].s * outer[k].n;
      dof -= outer[k].d * outer[k].n;
      idx[k] = 0;
    }
    if (k == static_cast<std::size_t>(-1)) return;
  }
}

/// Element moves go through a fixed-size memcpy: well-defined for any dtype and compiled to a
/// single load/store.
template <std::size_t N>
inline void move_elem(const unsigned char* s, unsigned char* d) {
  std::memcpy(d, s, N);
}

template <std::size_t N>
void copy_dims(const unsigned char* src, unsigned char* dst, std::vector<Dim> dims) {
  if (dims.empty()) {
    move_elem<N>(src, dst);
    return;
  }
  const Dim in = dims.back();
  // Contiguous on both sides: memcpy whole runs.
  if (in.s == 1 && in.d == 1) {
    dims.pop_back();
    const std::size_t bytes = static_cast<std::size_t>(in.n) * N;
    for_each_outer(dims, [&](std::int64_t so, std::int64_t dof) {
      std::memcpy(dst + dof * static_cast<std::int64_t>(N), src + so * static_cast<std::int64_t>(N),
                  bytes);
    });
    return;
  }
  // A transposed layout: the destination is contiguous along the last axis and the source along
  // another one. Copy square tiles so both sides stay in cache.
  constexpr std::int64_t kTile = 32;
  if (in.d == 1 && in.s != 0 && in.n >= 8) {
    auto j = std::find_if(dims.begin(), dims.end() - 1,
                          [](const Dim& x) { return (x.s == 1 || x.s == -1) && x.n >= 8; });
    if (j != dims.end() - 1) {
      const Dim row = *j;
      dims.erase(j);
      dims.pop_back();
      for_each_outer(dims, [&](std::int64_t so, std::int64_t dof) {
        const unsigned char* s0 = src + so * static_cast<std::int64_t>(N);
        unsigned char* d0 = dst + dof * static_cast<std::int64_t>(N);
        for (std::int64_t r0 = 0; r0 < row.n; r0 += kTile) {
          const std::int64_t r1 = std::min(row.n, r0 + kTile);
          for (std::int64_t c0 = 0; c0 < in.n; c0 += kTile) {
            const std::int64_t c1 = std::min(in.n, c0 + kTile);
            for (std::int64_t r = r0; r < r1; ++r)
              for (std::int64_t c = c0; c < c1; ++c)
                move_elem<N>(s0 + (r * row.s + c * in.s) * static_cast<std::int64_t>(N),
                             d0 + (r * row.d + c) * static_cast<std::int64_t>(N));
          }
        }
      });
      return;
    }
  }
  // Anything else (broadcast, reversed or strided runs): an element loop along the last axis.
  dims.pop_back();
  for_each_outer(dims, [&](std::int64_t so, std::int64_t dof) {
    const unsigned char* s0 = src + so * static_cast<std::int64_t>(N);
    unsigned char* d0 = dst + dof * static_cast<std::int64_t>(N);
    for (std::int64_t i = 0; i < in.n; ++i)
      move_elem<N>(s0 + i * in.s * static_cast<std::int64_t>(N),
                   d0 + i * in.d * static_cast<std::int64_t>(N));
  });
}

template <class T>
void add_dims(const T* src, T* dst, std::vector<Dim> dims) {
  if (dims.empty()) {
    *dst += *src;
    return;
  }
  const Dim in = dims.back();
  dims.pop_back();
  for_each_outer(dims, [&](std::int64_t so, std::int64_t dof) {
    const T* s0 = src + so;
    T* d0 = dst + dof;
    for (std::int64_t i = 0; i < in.n; ++i) d0[i * in.d] += s0[i * in.s];
  });
}

}  // namespace

void copy_strided(const void* src, const std::int64_t* src_strides, void* dst,
                  const std::int64_t* dst_strides, const Shape& shape, std::size_t itemsize) {
  std::vector<Dim> dims;
  if (!simplify(shape, src_strides, dst_strides, dims)) return;
  const auto* s = static_cast<const unsigned char*>(src);
  auto* d = static_cast<unsigned char*>(dst);
  switch (itemsize) {
    case 1:
      return copy_dims<1>(s, d, std::move(dims));
    case 2:
      return copy_dims<2>(s, d, std::move(dims));
    case 4:
      return copy_dims<4>(s, d, std::move(dims));
    case 8:
      return copy_dims<8>(s, d, std::move(dims));
    default:
      break;
  }
  throw ValueError("[copy_strided] Unsupported element size " + std::to_string(itemsize) +
                   "; this is a bug in jute, please report it.");
}

void add_strided(const void* src, void* dst, const std::int64_t* strides, const Shape& shape,
                 DType dtype) {
  std::vector<Dim> dims;
  if (!simplify(shape, strides, strides, dims)) return;
  if (dtype == DType::Float32)
    return add_dims(static_cast<const float*>(src), static_cast<float*>(dst), std::move(dims));
  if (dtype == DType::Float64)
    return add_dims(static_cast<const double*>(src), static_cast<double*>(dst), std::move(dims));
  throw DtypeError("[add_strided] Accumulation is defined for float32 and float64 only, got " +
                   std::string(name(dtype)) + "; this is a bug in jute, please report it.");
}

}  // namespace jute::detail
