// Internal: the float special functions the samplers need, evaluated exactly as JAX's XLA
// kernels do (Horner steps fused into one fma each) so that samples match JAX bit for bit.
#pragma once

#include <cstdint>

namespace jute::random::detail {

/// log(1 + a) correctly rounded to float32 (see special_functions.cpp for how).
float log1p_f32(float a);
/// out[i] = log1p_f32(a[i]) for a block (vectorized); `a` and `out` must not overlap.
void log1p_f32(const float* a, std::int64_t n, float* out);

/// XLA's ErfInv32 (Giles 2010): w = -log1p(-x*x), a degree-8 polynomial in w - 2.5 (w < 5) or in
/// sqrt(w) - 3, each Horner step one fma, times x; erfinv(+-1) = +-inf.
float erfinv_f32(float x);
/// out[i] = scale * erfinv_f32(x[i]) (one float32 multiply) for a block (vectorized); `x` and
/// `out` must not overlap.
void erfinv_f32(const float* x, std::int64_t n, float scale, float* out);
/// The portable (compiler-vectorized) block kernels. On AVX-512 builds the functions above use
/// hand-vectorized kernels instead; both give the same bits, which the tests check through these.
void log1p_f32_portable(const float* a, std::int64_t n, float* out);
void erfinv_f32_portable(const float* x, std::int64_t n, float scale, float* out);

/// XLA's ErfInv64 (Giles 2010, double coefficients; breakpoints 6.25 and 16) with the C
/// library's log1p.
double erfinv_f64(double x);

/// StableHLO's float32 erf: x clamped to [-4, 4], x * alpha(x^2) / beta(x^2) clamped to [-1, 1],
/// each Horner step one fma.
float erf_f32(float x);

}  // namespace jute::random::detail
