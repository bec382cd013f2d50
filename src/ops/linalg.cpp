// matmul, on OpenBLAS GEMM for float32/float64.
//
// Transposed operands. Arrays are contiguous row-major by contract, so `transpose` materializes
// its result (a cache-blocked copy) and has no lazy path: a lazy transpose would either leak a
// strided layout into every other op or need a "transposed" flag that each op checks. Instead the
// transposes that matter — the ones in matmul's own backward pass, g @ Bᵀ and Aᵀ @ g — never
// exist as arrays: the primitive is `detail::matmul_t(a, b, transpose_a, transpose_b)`, which
// hands the flags to GEMM, and matmul's rule is written with matmul_t. The backward pass of a
// dense layer therefore runs exactly its GEMMs (and skips the one for an input that no trace
// follows, such as a network's data). A user's own `matmul(x, transpose(w))` pays one copy of w.
//
// Integer and bool matmul is a plain triple loop (NumPy's results, wrapping on overflow; bool is
// "or of ands"): it exists for completeness, not speed — BLAS has no integer GEMM.
#include "ops/linalg.hpp"

#include <cstring>
#include <string>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "ops/blas.hpp"
#include "ops/kernels.hpp"
#include "ops/strided.hpp"

namespace jute {

namespace {

std::int64_t product(const Shape& s) {
  std::int64_t p = 1;
  for (auto d : s) p *= d;
  return p;
}

[[noreturn]] void mismatch(const Shape& a, const Shape& b) {
  throw ShapeError("[matmul] Last dimension of first input with shape " + detail::shape_str(a) +
                   " must match second to last dimension of second input with shape " +
                   detail::shape_str(b) + ".");
}

/// NumPy broadcasting of the batch shapes; ShapeError naming both operands' shapes otherwise.
Shape broadcast_batch(const Shape& a, const Shape& b, const Shape& full_a, const Shape& full_b) {
  Shape out(std::max(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::int64_t x = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::int64_t y = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (x != y && x != 1 && y != 1)
      throw ShapeError("[matmul] Batch dimensions of first input with shape " +
                       detail::shape_str(full_a) + " and second input with shape " +
                       detail::shape_str(full_b) +
                       " cannot be broadcast together; they must match or be 1.");
    out[out.size() - 1 - i] = x == 1 ? y : x;
  }
  return out;
}

/// Offsets (in matrices) of an operand's batch entries for each output batch index, with 0
/// strides where the operand broadcasts.
std::vector<std::int64_t> batch_offsets(const Shape& batch, const Shape& out_batch) {
  const std::size_t lead = out_batch.size() - batch.size();
  Shape strides(out_batch.size(), 0);
  std::int64_t s = 1;
  for (std::size_t i = batch.size(); i-- > 0;) {
    if (batch[i] != 1) strides[i + lead] = s;
    s *= batch[i];
  }
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(product(out_batch)));
  Shape pos(out_batch.size(), 0);
  std::int64_t off = 0;
  for (auto& o : offsets) {
    o = off;
    for (std::size_t d = out_batch.size(); d-- > 0;) {
      off += strides[d];
      if (++pos[d] < out_batch[d]) break;
      off -= strides[d] * out_batch[d];
      pos[d] = 0;
    }
  }
  return offsets;
}

/// One GEMM: C (m×n, leading dimension ldc) = op(A) op(B), row-major.
struct Gemm {
  bool ta, tb;
  std::int64_t m, n, k, lda, ldb, ldc;
};

void gemm(const Gemm& g, const float* a, const float* b, float* c) {
  detail::gemm("matmul", g.ta, g.tb, g.m, g.n, g.k, a, g.lda, b, g.ldb, 0.0f, c, g.ldc);
}
void gemm(const Gemm& g, const double* a, const double* b, double* c) {
  detail::gemm("matmul", g.ta, g.tb, g.m, g.n, g.k, a, g.lda, b, g.ldb, 0.0, c, g.ldc);
}
/// The plain loop for integers (accumulating in uint32, which wraps like NumPy's int32/uint8) and
/// bools (or of ands).
template <class T>
void gemm(const Gemm& g, const T* a, const T* b, T* c) {
  for (std::int64_t i = 0; i < g.m; ++i)
    for (std::int64_t j = 0; j < g.n; ++j) {
      std::uint32_t acc = 0;
      for (std::int64_t p = 0; p < g.k; ++p) {
        const T x = g.ta ? a[p * g.lda + i] : a[i * g.lda + p];
        const T y = g.tb ? b[j * g.ldb + p] : b[p * g.ldb + j];
        if constexpr (std::is_same_v<T, bool>)
          acc = acc || (x && y);
        else
          acc += static_cast<std::uint32_t>(x) * static_cast<std::uint32_t>(y);
      }
      c[i * g.ldc + j] = static_cast<T>(acc);
    }
}

/// The cotangent of b in op(a) @ op(b). When b is a single matrix applied to a stack (a Dense
/// layer on (batch, time, features)), the stack folds into the rows of one GEMM.
Array b_cotangent(const Array& a, const Array& b, const Array& g, bool ta, bool tb) {
  const Shape a_batch(a.shape().begin(), a.shape().end() - 2);
  const Shape g_batch(g.shape().begin(), g.shape().end() - 2);
  if (b.ndim() == 2 && g.ndim() > 2 && !ta && product(a_batch) == product(g_batch)) {
    const Array a2 = reshape(a, {-1, a.shape().back()});
    const Array g2 = reshape(g, {-1, g.shape().back()});
    return tb ? detail::matmul_t(g2, a2, true, false) : detail::matmul_t(a2, g2, true, false);
  }
  Array full = tb ? detail::matmul_t(g, a, true, ta) : detail::matmul_t(a, g, !ta, false);
  return detail::unbroadcast(full, b.shape());
}

}  // namespace

namespace detail {

Array matmul_t(const Array& a, const Array& b, bool ta, bool tb) {
  if (a.ndim() < 2 || b.ndim() < 2)
    throw ShapeError("[matmul] Operands of matmul_t need at least two dimensions, got shapes " +
                     shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     "; this is a bug in jute, please report it.");
  if (a.dtype() != b.dtype())
    throw DtypeError("[matmul] Operands of matmul_t need one dtype, got " +
                     std::string(name(a.dtype())) + " and " + std::string(name(b.dtype())) +
                     "; this is a bug in jute, please report it.");
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  const std::size_t ra = as.size(), rb = bs.size();
  const std::int64_t m = ta ? as[ra - 1] : as[ra - 2], k = ta ? as[ra - 2] : as[ra - 1];
  const std::int64_t kb = tb ? bs[rb - 1] : bs[rb - 2], n = tb ? bs[rb - 2] : bs[rb - 1];
  if (k != kb) mismatch(as, bs);
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  Shape shape = broadcast_batch(a_batch, b_batch, as, bs);
  const Shape out_batch = shape;
  shape.push_back(m);
  shape.push_back(n);
  const bool shape_only = any_abstract(a, b);
  Array out = shape_only ? abstract(a.dtype(), shape) : empty(a.dtype(), shape);

  const std::int64_t batches = product(out_batch);
  if (!shape_only && batches > 0 && m > 0 && n > 0) {
    if (k == 0) {
      std::memset(mutable_raw(out), 0, out.nbytes());
    } else {
      const std::int64_t a_mat = as[ra - 2] * as[ra - 1], b_mat = bs[rb - 2] * bs[rb - 1];
      Gemm g{ta, tb, m, n, k, as[ra - 1], bs[rb - 1], n};
      visit_dtype(a.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* pa = static_cast<const T*>(a.raw_data());
        const T* pb = static_cast<const T*>(b.raw_data());
        T* pc = mutable_data<T>(out);
        if (!ta && product(b_batch) == 1 && product(a_batch) == batches) {
          // One matrix b for a whole stack a: the stack is just more rows of one GEMM.
          Gemm folded = g;
          folded.m = m * batches;
          gemm(folded, pa, pb, pc);
          return;
        }
        const auto a_off = batch_offsets(a_batch, out_batch);
        const auto b_off = batch_offsets(b_batch, out_batch);
        for (std::size_t i = 0; i < a_off.size(); ++i)
          gemm(g, pa + a_off[i] * a_mat, pb + b_off[i] * b_mat,
               pc + static_cast<std::int64_t>(i) * m * n);
      });
    }
  }
  if (any_traced(a, b))
    out = record("matmul", out, {a, b},
                 [ta, tb](const Array& g, const std::vector<Array>& in, const Array&) {
                   const Array& x = in[0];
                   const Array& y = in[1];
                   Array dx, dy;
                   // C = op(x) op(y): d op(x) = g op(y)ᵀ and d op(y) = op(x)ᵀ g, each rewritten
                   // so that the transposes stay GEMM flags.
                   if (may_need_cotangent(x))
                     dx = unbroadcast(ta ? matmul_t(y, g, tb, true) : matmul_t(g, y, false, !tb),
                                      x.shape());
                   if (may_need_cotangent(y)) dy = b_cotangent(x, y, g, ta, tb);
                   return std::vector<Array>{dx, dy};
                 },
                 {.output = false});
  return out;
}

}  // namespace detail

Array matmul(const Array& a, const Array& b) {
  if (a.ndim() == 0 || b.ndim() == 0)
    throw ShapeError("[matmul] Inputs must have at least one dimension, got shapes " +
                     detail::shape_str(a.shape()) + " and " + detail::shape_str(b.shape()) +
                     "; use multiply to scale an array by a scalar.");
  const std::int64_t ka = a.shape().back();
  const std::int64_t kb = b.ndim() == 1 ? b.shape()[0] : b.shape()[b.shape().size() - 2];
  if (ka != kb) mismatch(a.shape(), b.shape());
  const DType dtype = detail::result_type(a, b).dtype;
  // NumPy: a 1-D first operand is a row (1, K), a 1-D second operand a column (K, 1); the added
  // axis is removed from the result.
  const Array x = (a.ndim() == 1 ? reshape(a, {1, ka}) : a).astype(dtype);
  const Array y = (b.ndim() == 1 ? reshape(b, {kb, 1}) : b).astype(dtype);
  Array out = detail::matmul_t(x, y, false, false);
  if (a.ndim() == 1 || b.ndim() == 1) {
    Shape shape = out.shape();
    if (b.ndim() == 1) shape.pop_back();
    if (a.ndim() == 1) shape.erase(shape.end() - (b.ndim() == 1 ? 1 : 2));
    out = reshape(out, shape);
  }
  return out;
}

}  // namespace jute
