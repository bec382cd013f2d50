// Internal: the loops behind elementwise ops and reductions, shared by every op file.
//
// Why hand-written loops instead of xtensor here: an op must be able to write its result into a
// temporary operand's buffer (see `detail::can_reuse`), broadcasting must run as an n-d loop whose
// innermost dimension is contiguous or a stride-0 scalar (so that the compiler vectorizes it),
// and reductions need a summation order we choose (pairwise, for accuracy). xtensor's lazy
// expressions over adapted buffers give none of that for free, cost ~12 s of compile time per
// file, and xtensor 0.24.3 has bugs in exactly these places (reductions over reshaped views,
// fill() on strided adapted buffers). The loops below are short and easy to check.
//
// What is here:
// - dtype promotion of operands (`result_type`, `cast`), NumPy broadcasting (`broadcast_shapes`);
// - `LoopPlan`/`for_each_row`: an n-d iteration over a broadcast output with collapsed dims;
// - `unary_loop`, `binary_loop`, `ternary_loop`: the elementwise kernels with fast paths;
// - `ReducePlan` and the pairwise reduction kernels (`reduce_rows`, `reduce_columns`);
// - `unbroadcast`: the cotangent of a broadcast operand (for every op's derivative rule).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/array_impl.hpp"
#include "core/parallel.hpp"
#include "core/trace.hpp"
#include "jute/ops.hpp"

namespace jute::detail {

/// Throws ValueError "[op] An operand is a null (default-constructed) Array; ..." for a null `a`.
inline void require_valid(const Array& a, const char* op) {
  if (!a.valid())
    throw ValueError(std::string("[") + op +
                     "] An operand is a null (default-constructed) Array; give it a value first.");
}

// ---- dtypes ------------------------------------------------------------------------------------

/// The dtype and weak flag of an op's result.
struct ResultType {
  DType dtype;
  bool weak;
};

/// The promoted type of two operands: `promote_types` between strong operands, `promote_weak`
/// when exactly one is weakly typed; the result is weak only when both are.
ResultType result_type(const ResultType& a, const ResultType& b);
inline ResultType result_type(const Array& a, const Array& b) {
  return result_type(ResultType{a.dtype(), a.weak_type()}, ResultType{b.dtype(), b.weak_type()});
}

/// `a` converted to `t` (no copy when it already has that dtype). Float-to-float conversions of
/// traced values are recorded by `astype`, so gradients flow through promotion.
inline Array cast(Array a, DType t) { return a.dtype() == t ? a : a.astype(t); }

/// A scalar of `dtype` that takes part in promotion like a C++ number (weakly typed) but keeps
/// `v` at the precision of `dtype` (a C++ double written in an expression becomes float32).
inline Array weak_scalar(double v, DType dtype) { return with_weak(Array::scalar(v, dtype), true); }

/// Calls `f(T{})` with T = float for every dtype but float64 (for float math on any input that
/// was first converted to a float dtype).
template <class F>
decltype(auto) visit_float(DType t, F&& f) {
  if (t == DType::Float64) return f(double{});
  return f(float{});
}

/// The dtype float math computes in: the input's float dtype, float32 for integers and bool.
constexpr DType float_compute_dtype(DType t) { return is_floating(t) ? t : DType::Float32; }

/// "float32" etc., for messages.
inline std::string dtype_str(DType t) { return std::string(name(t)); }

// ---- broadcasting
// --------------------------------------------------------------------------------

/// NumPy broadcasting of any number of shapes. Throws ShapeError
/// "[op] Shapes (2,3) and (4,) cannot be broadcast together."
Shape broadcast_shapes(const std::vector<const Shape*>& shapes, const char* op);
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  return broadcast_shapes({&a, &b}, op);
}

/// An n-d loop over an output of `K` broadcast operands. Output dims of size 1 are dropped and
/// adjacent dims that are contiguous for every operand are merged, so a same-shape op is one
/// contiguous row, and array ⊕ scalar is one row with a stride-0 operand.
template <std::size_t K>
struct LoopPlan {
  using Strides = std::array<std::int64_t, K>;
  std::vector<std::int64_t> dims;  // outermost first; at least one entry
  std::vector<Strides> strides;    // element strides of each operand per dim (0: broadcast)
  std::int64_t size = 0;           // elements of the output
};

template <std::size_t K>
LoopPlan<K> make_plan(const Shape& out, const std::array<const Shape*, K>& ins) {
  using Strides = typename LoopPlan<K>::Strides;
  const std::size_t nd = out.size();
  std::vector<Strides> st(nd);
  for (std::size_t k = 0; k < K; ++k) {
    const Shape& sh = *ins[k];
    std::int64_t s = 1;
    for (std::size_t d = nd; d-- > 0;) {
      const std::int64_t ad = static_cast<std::int64_t>(d) - static_cast<std::int64_t>(nd) +
                              static_cast<std::int64_t>(sh.size());
      if (ad < 0 || sh[static_cast<std::size_t>(ad)] == 1) {
        st[d][k] = 0;
      } else {
        st[d][k] = s;
        s *= sh[static_cast<std::size_t>(ad)];
      }
    }
  }
  LoopPlan<K> p;
  p.size = 1;
  for (std::size_t d = 0; d < nd; ++d) {
    p.size *= out[d];
    if (out[d] == 1) continue;
    bool merge = !p.dims.empty();
    for (std::size_t k = 0; merge && k < K; ++k) merge = p.strides.back()[k] == st[d][k] * out[d];
    if (merge) {
      p.dims.back() *= out[d];
      p.strides.back() = st[d];
    } else {
      p.dims.push_back(out[d]);
      p.strides.push_back(st[d]);
    }
  }
  if (p.dims.empty()) {
    p.dims.push_back(1);
    p.strides.push_back(Strides{});
  }
  return p;
}

/// Calls `row(out_offset, in_offsets, n, inner_strides)` for each innermost row of the plan; the
/// output is contiguous, so a row's output is [out_offset, out_offset + n). Large plans run on
/// the pool (`parallel_for`): a single row is cut into pieces, several rows are shared out whole;
/// rows write disjoint outputs, so the result does not depend on the thread count.
template <std::size_t K, class Row>
void for_each_row(const LoopPlan<K>& p, Row&& row) {
  using Strides = typename LoopPlan<K>::Strides;
  if (p.size == 0) return;
  const std::size_t nd = p.dims.size();
  const std::int64_t n = p.dims.back();
  const Strides& inner = p.strides.back();
  if (nd == 1) {
    parallel_for(n, kParallelGrain, [&](std::int64_t begin, std::int64_t end) {
      Strides off{};
      for (std::size_t k = 0; k < K; ++k) off[k] = begin * inner[k];
      row(begin, off, end - begin, inner);
    });
    return;
  }
  parallel_for(p.size / n, grain_for(n), [&](std::int64_t first, std::int64_t last) {
    // The outer index and operand offsets of row `first`.
    std::vector<std::int64_t> idx(nd - 1, 0);
    Strides off{};
    for (std::int64_t d = static_cast<std::int64_t>(nd) - 2, r = first; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      idx[du] = r % p.dims[du];
      r /= p.dims[du];
      for (std::size_t k = 0; k < K; ++k) off[k] += idx[du] * p.strides[du][k];
    }
    for (std::int64_t r = first; r < last; ++r) {
      row(r * n, off, n, inner);
      for (std::size_t d = nd - 1; d-- > 0;) {
        if (++idx[d] < p.dims[d]) {
          for (std::size_t k = 0; k < K; ++k) off[k] += p.strides[d][k];
          break;
        }
        idx[d] = 0;
        for (std::size_t k = 0; k < K; ++k) off[k] -= p.strides[d][k] * (p.dims[d] - 1);
      }
    }
  });
}

// ---- elementwise kernels -----------------------------------------------------------------------
// The output may be the same buffer as an operand of the output's shape (in-place reuse of a
// temporary): every kernel reads element i of each operand before writing element i. The
// in-place case gets loops of its own: with two pointers to the same memory, the compiler's
// runtime overlap check would send the loop to its scalar (unvectorized) version.

/// True when `out` is the same memory as `in` (only possible for the same element type).
template <class TO, class TI>
bool same_buffer(const TO* out, const TI* in) {
  if constexpr (std::is_same_v<TO, TI>)
    return out == in;
  else
    return false;
}

template <class TO, class TI, class F>
void unary_loop(std::int64_t n, TO* out, const TI* in, F f) {
  parallel_for(n, kParallelGrain, [&](std::int64_t begin, std::int64_t end) {
    TO* o = out + begin;
    const TI* x = in + begin;
    const std::int64_t m = end - begin;
    if (same_buffer(o, x)) {
      for (std::int64_t i = 0; i < m; ++i) o[i] = f(o[i]);
    } else {
      for (std::int64_t i = 0; i < m; ++i) o[i] = f(x[i]);
    }
  });
}

template <class TO, class TA, class TB, class F>
void binary_loop(const LoopPlan<2>& p, TO* o, const TA* a, const TB* b, F f) {
  for_each_row(p, [&](std::int64_t oo, const std::array<std::int64_t, 2>& off, std::int64_t n,
                      const std::array<std::int64_t, 2>& s) {
    TO* out = o + oo;
    const TA* x = a + off[0];
    const TB* y = b + off[1];
    if (s[0] == 1 && s[1] == 1) {
      if (same_buffer(out, x)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(static_cast<TA>(out[i]), y[i]);
      } else if (same_buffer(out, y)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], static_cast<TB>(out[i]));
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], y[i]);
      }
    } else if (s[0] == 1 && s[1] == 0) {
      const TB v = *y;
      if (same_buffer(out, x)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(static_cast<TA>(out[i]), v);
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], v);
      }
    } else if (s[0] == 0 && s[1] == 1) {
      const TA v = *x;
      if (same_buffer(out, y)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(v, static_cast<TB>(out[i]));
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(v, y[i]);
      }
    } else {
      for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i * s[0]], y[i * s[1]]);
    }
  });
}

template <class TO, class TA, class TB, class TC, class F>
void ternary_loop(const LoopPlan<3>& p, TO* o, const TA* a, const TB* b, const TC* c, F f) {
  for_each_row(p, [&](std::int64_t oo, const std::array<std::int64_t, 3>& off, std::int64_t n,
                      const std::array<std::int64_t, 3>& s) {
    TO* out = o + oo;
    const TA* x = a + off[0];
    const TB* y = b + off[1];
    const TC* z = c + off[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      if (same_buffer(out, y)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], static_cast<TB>(out[i]), z[i]);
      } else if (same_buffer(out, z)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], y[i], static_cast<TC>(out[i]));
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], y[i], z[i]);
      }
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {  // where(c, x, scalar): relu and its rule
      const TC w = *z;
      if (same_buffer(out, y)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], static_cast<TB>(out[i]), w);
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], y[i], w);
      }
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {  // where(c, scalar, y)
      const TB v = *y;
      if (same_buffer(out, z)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], v, static_cast<TC>(out[i]));
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], v, z[i]);
      }
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 0) {  // clip(x, lo, hi) with scalar bounds
      const TB v = *y;
      const TC w = *z;
      if (same_buffer(out, x)) {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(static_cast<TA>(out[i]), v, w);
      } else {
        for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i], v, w);
      }
    } else {
      for (std::int64_t i = 0; i < n; ++i) out[i] = f(x[i * s[0]], y[i * s[1]], z[i * s[2]]);
    }
  });
}

/// The buffer an elementwise op writes into: `candidate`'s own buffer when it is a temporary
/// nobody else sees with the result's dtype and shape (and `may_reuse`, i.e. nothing is being
/// traced: a traced op keeps its inputs for its derivative rule), else a new one.
inline Array output_for(const Array& candidate, DType dtype, const Shape& shape, bool may_reuse) {
  if (may_reuse && candidate.dtype() == dtype && candidate.shape() == shape && can_reuse(candidate))
    return candidate;
  return Array();
}

/// The same for a traced op whose rule does not read `candidate`'s value (see RuleReads).
inline Array output_for_traced(const Array& candidate, DType dtype, const Shape& shape) {
  if (candidate.dtype() == dtype && candidate.shape() == shape && can_reuse_traced(candidate))
    return candidate;
  return Array();
}

// ---- reductions
// ----------------------------------------------------------------------------------

/// How a reduction walks its input: after dropping size-1 axes and merging adjacent axes of the
/// same kind, the input is viewed as (outer, reduced, inner) when the reduced axes form one
/// block. Otherwise (`single_block` false) the reduction runs block by block, last block first.
struct ReducePlan {
  std::vector<int> axes;  // the reduced axes, resolved
  Shape out_shape;        // without the reduced axes
  Shape keep_shape;       // with the reduced axes as size 1
  std::int64_t outer = 1, reduced = 1, inner = 1;
  bool single_block = true;
};
ReducePlan make_reduce_plan(const Shape& shape, const Axes& axes, const char* op);

/// Pairwise reduction of a contiguous row with an associative `f` (NumPy's scheme: rows of up to
/// 128 elements run 16 interleaved accumulators, longer rows split in halves). `init` is the
/// identity, returned for an empty row. Summation error grows as O(log n), not O(n).
constexpr std::int64_t kRowLanes = 16, kRowBlock = 128;

/// The size of the first half `reduce_row` splits a row of n elements into; 0 for a leaf.
constexpr std::int64_t row_split(std::int64_t n) {
  return n <= kRowBlock ? 0 : n / 2 - (n / 2) % kRowLanes;
}

template <class T, class F>
T reduce_row(const T* x, std::int64_t n, T init, F f) {
  constexpr std::int64_t kLanes = kRowLanes;
  if (n < kLanes) {
    T acc = init;
    for (std::int64_t i = 0; i < n; ++i) acc = f(acc, x[i]);
    return acc;
  }
  const std::int64_t half = row_split(n);
  if (half == 0) {
    T acc[kLanes];
    for (std::int64_t k = 0; k < kLanes; ++k) acc[k] = x[k];
    std::int64_t i = kLanes;
    for (; i + kLanes <= n; i += kLanes)
      for (std::int64_t k = 0; k < kLanes; ++k) acc[k] = f(acc[k], x[i + k]);
    for (std::int64_t w = kLanes / 2; w > 0; w /= 2)
      for (std::int64_t k = 0; k < w; ++k) acc[k] = f(acc[k], acc[k + w]);
    T r = acc[0];
    for (; i < n; ++i) r = f(r, x[i]);
    return r;
  }
  return f(reduce_row(x, half, init, f), reduce_row(x + half, n - half, init, f));
}

/// `out[j]` = the rows of an (N, width) block with row stride `stride` folded in order,
/// f(...f(f(x₀, x₁), x₂)..., x_{N-1}), in one pass over j (N is a constant, so the row loop unrolls
/// and the j loop vectorizes; the running value stays in a register instead of `out`). `out`
/// never overlaps `x`: `__restrict` says so, as a runtime overlap check against up to 16 rows is
/// more than GCC versions a loop for, which would leave it scalar.
template <int N, class T, class F>
void fold_rows(const T* __restrict x, std::int64_t stride, std::int64_t width, T* __restrict out,
               F f) {
  for (std::int64_t j = 0; j < width; ++j) {
    T acc = x[j];
    for (int r = 1; r < N; ++r) acc = f(acc, x[r * stride + j]);
    out[j] = acc;
  }
}

/// The rows split in two halves of A and B rows, each folded in order, then combined:
/// `out[j]` = f(fold(rows 0..A), fold(rows A..A+B)), in one pass.
template <int A, int B, class T, class F>
void fold_row_halves(const T* __restrict x, std::int64_t stride, std::int64_t width,
                     T* __restrict out, F f) {
  const T* y = x + A * stride;
  for (std::int64_t j = 0; j < width; ++j) {
    T a = x[j];
    for (int r = 1; r < A; ++r) a = f(a, x[r * stride + j]);
    T b = y[j];
    for (int r = 1; r < B; ++r) b = f(b, y[r * stride + j]);
    out[j] = f(a, b);
  }
}

/// Up to 8 rows form a leaf of the pairwise tree (folded in order); 9 to 16 rows are two leaves
/// of rows / 2 and rows - rows / 2 rows.
constexpr std::int64_t kColumnLeaf = 8;

/// The pairwise reduction of 1 to 2 · kColumnLeaf rows, as `reduce_columns` defines it.
template <class T, class F>
void fold_small(const T* x, std::int64_t rows, std::int64_t stride, std::int64_t width, T* out,
                F f) {
  switch (rows) {
    case 1:
      fold_rows<1>(x, stride, width, out, f);
      return;
    case 2:
      fold_rows<2>(x, stride, width, out, f);
      return;
    case 3:
      fold_rows<3>(x, stride, width, out, f);
      return;
    case 4:
      fold_rows<4>(x, stride, width, out, f);
      return;
    case 5:
      fold_rows<5>(x, stride, width, out, f);
      return;
    case 6:
      fold_rows<6>(x, stride, width, out, f);
      return;
    case 7:
      fold_rows<7>(x, stride, width, out, f);
      return;
    case 8:
      fold_rows<8>(x, stride, width, out, f);
      return;
    case 9:
      fold_row_halves<4, 5>(x, stride, width, out, f);
      return;
    case 10:
      fold_row_halves<5, 5>(x, stride, width, out, f);
      return;
    case 11:
      fold_row_halves<5, 6>(x, stride, width, out, f);
      return;
    case 12:
      fold_row_halves<6, 6>(x, stride, width, out, f);
      return;
    case 13:
      fold_row_halves<6, 7>(x, stride, width, out, f);
      return;
    case 14:
      fold_row_halves<7, 7>(x, stride, width, out, f);
      return;
    case 15:
      fold_row_halves<7, 8>(x, stride, width, out, f);
      return;
    default:
      fold_row_halves<8, 8>(x, stride, width, out, f);
      return;
  }
}

/// The size of the first half `reduce_columns` splits `rows` rows into; 0 for a leaf.
constexpr std::int64_t column_split(std::int64_t rows) {
  return rows <= 2 * kColumnLeaf ? 0 : rows / 2;
}

/// Reduces `rows` rows of `width` elements (row stride `stride`) into `out[width]`, pairwise over
/// rows: up to 8 rows are folded in order, more are split into halves (rows / 2 first) reduced
/// separately and combined. Each column's order depends on `rows` only, so any split of the
/// columns (tiles, threads) gives the same bits. `scratch` holds
/// `reduce_columns_scratch(rows, width)` elements.
template <class T, class F>
void reduce_columns(const T* x, std::int64_t rows, std::int64_t stride, std::int64_t width, T* out,
                    T* scratch, T init, F f) {
  const std::int64_t half = column_split(rows);
  if (half == 0) {
    if (rows == 0) {
      for (std::int64_t j = 0; j < width; ++j) out[j] = init;
      return;
    }
    fold_small(x, rows, stride, width, out, f);
    return;
  }
  reduce_columns(x, half, stride, width, out, scratch + width, init, f);
  reduce_columns(x + half * stride, rows - half, stride, width, scratch, scratch + width, init, f);
  for (std::int64_t j = 0; j < width; ++j) out[j] = f(out[j], scratch[j]);
}

/// Scratch elements `reduce_columns` needs.
inline std::int64_t reduce_columns_scratch(std::int64_t rows, std::int64_t width) {
  std::int64_t levels = 1;
  for (std::int64_t r = rows; r > 2 * kColumnLeaf; r = (r + 1) / 2) ++levels;
  return levels * width;
}

/// Columns per tile of a column reduction: the running sums of a tile and its scratch levels
/// stay in L1 however wide the rows are.
constexpr std::int64_t kColumnTile = 512;

/// The subtrees of a pairwise reduction tree over `n` items, `depth` levels below the root
/// (shallower where a node is a leaf), as (begin, count) pieces in order. `split(n)` is the size
/// of a node's left child, 0 for a leaf.
template <class Split>
void cut_tree(std::int64_t begin, std::int64_t n, int depth, Split split,
              std::vector<std::pair<std::int64_t, std::int64_t>>& pieces) {
  const std::int64_t half = depth > 0 ? split(n) : 0;
  if (half == 0) {
    pieces.emplace_back(begin, n);
    return;
  }
  cut_tree(begin, half, depth - 1, split, pieces);
  cut_tree(begin + half, n - half, depth - 1, split, pieces);
}

/// Combines the pieces of `cut_tree(0, n, depth, split)` up the tree in its order:
/// `merge(left, right)` folds piece `right`'s value into piece `left`'s. Returns the index of the
/// piece that holds the root's value; `next` is the first unused piece.
template <class Split, class Merge>
std::size_t merge_tree(std::int64_t n, int depth, Split split, Merge merge, std::size_t& next) {
  const std::int64_t half = depth > 0 ? split(n) : 0;
  if (half == 0) return next++;
  const std::size_t left = merge_tree(half, depth - 1, split, merge, next);
  const std::size_t right = merge_tree(n - half, depth - 1, split, merge, next);
  merge(left, right);
  return left;
}

/// The depth at which to cut a reduction tree so that each thread gets a subtree.
inline int parallel_depth() {
  int depth = 0;
  while ((1 << depth) < num_threads()) ++depth;
  return depth;
}

/// `reduce_row` with the top of its tree computed by several threads (same bits).
template <class T, class F>
T reduce_row_parallel(const T* x, std::int64_t n, T init, F f) {
  const int depth = n < 2 * kParallelGrain ? 0 : parallel_depth();
  if (depth == 0) return reduce_row(x, n, init, f);
  const auto split = [](std::int64_t m) { return row_split(m); };
  std::vector<std::pair<std::int64_t, std::int64_t>> pieces;
  cut_tree(0, n, depth, split, pieces);
  // (not std::vector: threads write neighbouring elements, and vector<bool> packs them in bits)
  std::unique_ptr<T[]> value(new T[pieces.size()]);
  parallel_for(static_cast<std::int64_t>(pieces.size()), 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const auto [begin, count] = pieces[static_cast<std::size_t>(i)];
      value[static_cast<std::size_t>(i)] = reduce_row(x + begin, count, init, f);
    }
  });
  std::size_t next = 0;
  return value[merge_tree(
      n, depth, split, [&](std::size_t l, std::size_t r) { value[l] = f(value[l], value[r]); },
      next)];
}

/// `reduce_columns` with the top of its tree computed by several threads (same bits).
template <class T, class F>
void reduce_columns_parallel(const T* x, std::int64_t rows, std::int64_t stride, std::int64_t width,
                             T* out, T init, F f) {
  const int depth = rows * width < 2 * kParallelGrain ? 0 : parallel_depth();
  const auto split = [](std::int64_t m) { return column_split(m); };
  std::vector<std::pair<std::int64_t, std::int64_t>> pieces;
  cut_tree(0, rows, depth, split, pieces);
  std::int64_t scratch_size = 0;
  for (const auto& piece : pieces)
    scratch_size = std::max(scratch_size, reduce_columns_scratch(piece.second, width));
  // Per piece: its value (width elements) and its scratch; piece 0's value goes to `out`.
  std::unique_ptr<T[]> buffer(new T[static_cast<std::size_t>(
      static_cast<std::int64_t>(pieces.size()) * (width + scratch_size))]);
  const auto value = [&](std::size_t i) { return i == 0 ? out : buffer.get() + i * width; };
  T* scratch = buffer.get() + static_cast<std::int64_t>(pieces.size()) * width;
  parallel_for(static_cast<std::int64_t>(pieces.size()), 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const auto [begin, count] = pieces[static_cast<std::size_t>(i)];
      reduce_columns(x + begin * stride, count, stride, width, value(static_cast<std::size_t>(i)),
                     scratch + i * scratch_size, init, f);
    }
  });
  std::size_t next = 0;
  merge_tree(
      rows, depth, split,
      [&](std::size_t l, std::size_t r) {
        T* a = value(l);
        const T* c = value(r);
        for (std::int64_t j = 0; j < width; ++j) a[j] = f(a[j], c[j]);
      },
      next);
}

/// Runs an associative reduction over a plan's (outer, reduced, inner) view of `x`. Large
/// reductions run on the pool: whole outputs (rows, or tiles of columns) when there are enough
/// of them for the threads, else subtrees of each output's pairwise tree. Either way every
/// output is the same tree of the same operations, so the bits do not depend on the threads.
template <class T, class F>
void reduce_plan(const ReducePlan& p, const T* x, T* out, T init, F f) {
  if (p.outer == 0 || p.inner == 0) return;  // no outputs
  const bool few = p.outer < num_threads();
  if (p.inner == 1) {
    if (few) {
      for (std::int64_t o = 0; o < p.outer; ++o)
        out[o] = reduce_row_parallel(x + o * p.reduced, p.reduced, init, f);
      return;
    }
    parallel_for(p.outer, grain_for(p.reduced), [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t o = b; o < e; ++o)
        out[o] = reduce_row(x + o * p.reduced, p.reduced, init, f);
    });
    return;
  }
  const std::int64_t width = std::min(p.inner, kColumnTile);
  const std::int64_t tiles = (p.inner + width - 1) / width;
  const auto tile = [&](std::int64_t item, auto&& reduce) {  // item = (o, tile)
    const std::int64_t o = item / tiles, j = item % tiles * width;
    reduce(x + o * p.reduced * p.inner + j, std::min(width, p.inner - j), out + o * p.inner + j);
  };
  if (p.outer * tiles < num_threads()) {
    for (std::int64_t item = 0; item < p.outer * tiles; ++item)
      tile(item, [&](const T* xi, std::int64_t w, T* oi) {
        reduce_columns_parallel(xi, p.reduced, p.inner, w, oi, init, f);
      });
    return;
  }
  parallel_for(p.outer * tiles, grain_for(p.reduced * width), [&](std::int64_t b, std::int64_t e) {
    // (not std::vector: vector<bool> has no data())
    std::unique_ptr<T[]> scratch(
        new T[static_cast<std::size_t>(reduce_columns_scratch(p.reduced, width))]);
    for (std::int64_t item = b; item < e; ++item)
      tile(item, [&](const T* xi, std::int64_t w, T* oi) {
        reduce_columns(xi, p.reduced, p.inner, w, oi, scratch.get(), init, f);
      });
  });
}

// ---- autodiff helpers
// -----------------------------------------------------------------------------

/// The cotangent of an operand of `shape` that was broadcast to `g`'s shape: `g` summed over the
/// broadcast axes (written with public ops, so it is differentiable itself).
Array unbroadcast(const Array& g, const Shape& shape);

/// `g`, shaped like a reduction's result (with or without the kept size-1 axes), repeated along
/// the reduced axes to the input's `shape` (reshape, then broadcast_to: both differentiable).
Array expand_reduced(const Array& g, const ReducePlan& plan, const Shape& shape);

}  // namespace jute::detail
