// Internal: matrix products with transposed operands, for rules and kernels in src/.
#pragma once

#include "jute/array.hpp"

namespace jute::detail {

/// op(a) @ op(b) with op = "swap the last two axes" where the flag is set, without materializing
/// the transpose: the flags go to GEMM. Both operands have rank >= 2 and the same dtype; leading
/// (batch) axes broadcast as in matmul. Recorded (op "matmul"); its rule uses matmul_t again, so
/// the backward pass of x @ W is exactly the GEMMs g @ Wᵀ and xᵀ @ g.
Array matmul_t(const Array& a, const Array& b, bool transpose_a, bool transpose_b);

}  // namespace jute::detail
