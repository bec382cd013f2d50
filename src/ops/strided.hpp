// Internal: the layout machinery behind the shape and indexing ops.
//
// Arrays are always contiguous and row-major, so every op that "moves" elements (transpose, slice,
// flip, broadcast_to, concatenate, pad) materializes its result through one engine,
// `copy_strided`: it walks an n-d region given by element strides on both sides, merges axes that
// are contiguous on both sides, and then copies contiguous runs with memcpy, fills broadcast runs,
// or (for a transposed layout) copies cache-sized tiles. Ops describe *what* to copy with strides;
// the engine decides *how*.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/array_impl.hpp"
#include "core/trace.hpp"
#include "jute/ops.hpp"

namespace jute::detail {

/// Row-major element strides of `shape` (the last axis has stride 1).
Shape row_major_strides(const Shape& shape);

/// dst[i · dst_strides] = src[i · src_strides] for every multi-index i of `shape`. Strides count
/// elements of `itemsize` bytes; source strides may be 0 (broadcast) or negative (reversed), the
/// destination must not overlap the source.
void copy_strided(const void* src, const std::int64_t* src_strides, void* dst,
                  const std::int64_t* dst_strides, const Shape& shape, std::size_t itemsize);

/// dst[i · strides] += src[i · strides] over `shape` for float32/float64 buffers (the
/// accumulation step of the scatter-adds behind the gradients of pad); regions must not overlap.
void add_strided(const void* src, void* dst, const std::int64_t* strides, const Shape& shape,
                 DType dtype);

/// `axis` normalized to [0, ndim); ShapeError "[op] Axis 3 is out of bounds ..." otherwise.
int normalize_axis(int axis, int ndim, const char* op);

/// out[i] = a[start + i · step] per axis (steps may be negative), recorded as `op`; its
/// derivative is `strided_scatter`. slice, slice_axis and flip are this op.
Array strided_gather(const Array& a, const Shape& start, const Shape& step, const Shape& out_shape,
                     const char* op);

/// The transpose of `strided_gather`: an array of `shape` that is zero except at
/// start + i · step, where it holds g[i]. Recorded; its derivative is `strided_gather`.
Array strided_scatter(const Array& g, const Shape& shape, const Shape& start, const Shape& step);

}  // namespace jute::detail
