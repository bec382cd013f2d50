// Internal: the one GEMM wrapper that matmul and conv share. Float32 runs on oneDNN's
// `dnnl_sgemm` (inside OneDnnThreads), float64 on OpenBLAS's `cblas_dgemm`; docs/performance.md
// says why.
#pragma once

#include <cblas.h>

#include <climits>
#include <cstdint>
#include <string>

#include "jute/errors.hpp"

namespace jute::detail {

/// `v` as a BLAS integer; ValueError naming `op` when it does not fit (2^31 - 1).
inline blasint blas_int(std::int64_t v, const char* op) {
  if (v > INT_MAX)
    throw ValueError(std::string("[") + op + "] A GEMM dimension of " + std::to_string(v) +
                     " exceeds the BLAS integer range (2^31 - 1); split the work into smaller "
                     "pieces.");
  return static_cast<blasint>(v);
}

/// Row-major C (m×n, leading dimension ldc) = op(A) @ op(B) + beta·C, where op transposes the
/// operands whose flag is set; `op_name` names the caller in errors. With beta = 0, C is only
/// written (its old contents, NaN or not, do not matter). Float32 (src/ops/blas.cpp): oneDNN's
/// sgemm, one OpenMP thread per call; a large product is cut into a fixed number of row or
/// column blocks that depends on the shape and the machine, never on the thread count, and jute's
/// threads compute the blocks, so the bits are the same for any thread count.
void gemm(const char* op_name, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);
inline void gemm(const char* op_name, bool ta, bool tb, std::int64_t m, std::int64_t n,
                 std::int64_t k, const double* a, std::int64_t lda, const double* b,
                 std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              blas_int(m, op_name), blas_int(n, op_name), blas_int(k, op_name), 1.0, a,
              blas_int(lda, op_name), b, blas_int(ldb, op_name), beta, c, blas_int(ldc, op_name));
}

}  // namespace jute::detail
