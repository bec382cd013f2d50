#include "ops/blas.hpp"

#include <dnnl.h>

#include <algorithm>
#include <thread>

#include "core/onednn.hpp"
#include "core/parallel.hpp"

namespace jute::detail {

namespace {

/// Below this many multiply-adds (~0.1 ms on one core) a product is one block: waking a thread
/// would cost more than it saves.
constexpr std::int64_t kSplitWork = std::int64_t{1} << 22;
/// Each block has at least this many rows (or columns).
constexpr std::int64_t kMinBlock = 32;

/// The blocks a product is cut into: the machine's hardware threads (at most 8), fewer when the
/// product is small. A function of the shape and the machine only.
std::int64_t block_count(std::int64_t m, std::int64_t n, std::int64_t k) {
  static const std::int64_t hardware =
      std::clamp<std::int64_t>(std::thread::hardware_concurrency(), 1, 8);
  if (m * n * k < kSplitWork) return 1;
  return std::clamp<std::int64_t>(std::max(m, n) / kMinBlock, 1, hardware);
}

void sgemm(const char* op_name, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k,
           const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
           std::int64_t ldc) {
  dnnl_status_t status = dnnl_success;
  {
    const OneDnnThreads one(1);  // oneDNN may split K across threads, which changes the bits
    status =
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  }
  if (status != dnnl_success)
    throw ValueError(std::string("[") + op_name + "] oneDNN's sgemm failed (status " +
                     std::to_string(static_cast<int>(status)) + ") for a " + std::to_string(m) +
                     "×" + std::to_string(k) + " by " + std::to_string(k) + "×" +
                     std::to_string(n) + " product; check the operands' sizes.");
}

}  // namespace

void gemm(const char* op_name, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  for (const std::int64_t d : {m, n, k, lda, ldb, ldc}) blas_int(d, op_name);  // one rule for both
  const std::int64_t blocks = block_count(m, n, k);
  if (blocks == 1) {
    sgemm(op_name, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Rows of C are rows of op(A); columns of C are columns of op(B). Block edges are multiples of
  // 16 (the kernels' register blocking).
  const bool rows = m >= n;
  const std::int64_t span = rows ? m : n;
  const auto edge = [&](std::int64_t i) {
    return i == blocks ? span : (span * i / blocks) / 16 * 16;
  };
  parallel_for(blocks, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t i = first; i < last; ++i) {
      const std::int64_t lo = edge(i), hi = edge(i + 1);
      if (hi <= lo) continue;
      if (rows)
        sgemm(op_name, ta, tb, hi - lo, n, k, ta ? a + lo : a + lo * lda, lda, b, ldb, beta,
              c + lo * ldc, ldc);
      else
        sgemm(op_name, ta, tb, m, hi - lo, k, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo,
              ldc);
    }
  });
}

}  // namespace jute::detail
