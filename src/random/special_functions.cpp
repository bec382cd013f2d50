#include "random/special_functions.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define JUTE_RANDOM_AVX512 1
#include <immintrin.h>
#else
#define JUTE_RANDOM_AVX512 0
#endif

// The block loops below are written to be vectorized; AVX-512 machines should use their full
// width for them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

namespace jute::random::detail {

// ---- log1p, correctly rounded to float32 -------------------------------------------------------
//
// JAX's normal() and exponential() call log1p in float32. XLA's CPU kernel and a correctly rounded
// log1p agree on every published known answer, so jute uses the correctly rounded one: it is
// well defined, platform independent and testable. No library in the project's dependency list
// offers a correctly rounded float log1p (glibc's log1pf is not), hence this implementation:
//
// Fast path (vectorized): for 2^-24 <= |a| < 2^24 and a > -1, y = 1 + a is exact in double, and
// log(y) is evaluated in double to within a few double ulps:
//  - portable: fdlibm's __ieee754_log (reduction to [sqrt(2)/2, sqrt(2)), s = f / (2 + f), a
//    degree-14 odd polynomial in s), its Horner steps fused;
//  - AVX-512 (twice as fast, which `normal` needs to stay within 3x of `bits`): y = 2^k m with
//    m in [0.75, 1.5) (vgetmant/vgetexp), m times 1/c for c the centre of one of 16 equal
//    sub-intervals (c = 1 for the one around 1, so results near 0 suffer no cancellation),
//    log(m) = log(c) + log1p(r) with |r| <= 2^-5 and a degree-9 Taylor polynomial
//    (relative truncation error below 2^-48). The 16-entry
//    tables are looked up with in-register permutes; gathers are slow on the machines measured.
// Rounding the double to float32 gives the correctly rounded result unless it lies within
// kGuardUlps double ulps of a float32 rounding boundary (a float32 midpoint), which happens for
// about one input in 2^22; those inputs, and the rest of the domain, take the slow path. So both
// evaluations give the same float32 bits. Slow path: |a| < 2^-24 rounds to a itself
// (log1p(a) = a - a^2/2 + ... is within half an ulp of a); special values follow IEEE log1p;
// everything else is recomputed with the C library's log1pl in extended precision and rounded
// once.

namespace {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // k * kLn2Hi is exact for |k| < 2^20
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLg1 = 6.666666666666735130e-01;
constexpr double kLg2 = 3.999999999940941908e-01;
constexpr double kLg3 = 2.857142874366239149e-01;
constexpr double kLg4 = 2.222219843214978396e-01;
constexpr double kLg5 = 1.818357216161805012e-01;
constexpr double kLg6 = 1.531383769920937332e-01;
constexpr double kLg7 = 1.479819860511658591e-01;

// Distance, in double ulps, from a float32 midpoint below which the fast result is not trusted.
constexpr std::uint64_t kGuardUlps = 64;

// Elements per chunk of the block loops: their temporaries stay in L1.
constexpr std::int64_t kChunk = 256;

// fdlibm's log for a positive normal double (meaningless but harmless for other inputs).
inline double log_positive(double y) {
  std::uint64_t b = std::bit_cast<std::uint64_t>(y);
  std::int64_t hx = static_cast<std::int64_t>(b >> 32) + (0x3ff00000 - 0x3fe6a09e);
  const auto k = static_cast<double>((hx >> 20) - 0x3ff);
  hx = (hx & 0x000fffff) + 0x3fe6a09e;
  b = (static_cast<std::uint64_t>(hx) << 32) | (b & 0xffffffffull);
  const double f = std::bit_cast<double>(b) - 1.0;  // in [sqrt(2)/2 - 1, sqrt(2) - 1), exact
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * std::fma(w, std::fma(w, kLg6, kLg4), kLg2);
  const double t2 = z * std::fma(w, std::fma(w, std::fma(w, kLg7, kLg5), kLg3), kLg1);
  return k * kLn2Hi - ((hfsq - std::fma(s, hfsq + (t2 + t1), k * kLn2Lo)) - f);
}

inline bool in_fast_domain(float a) {
  const float m = std::fabs(a);
  return (a > -1.0f) & (m >= 0x1p-24f) & (m < 0x1p24f);
}

// True when rounding `r` to float32 might differ from rounding the exact value: the 29 mantissa
// bits dropped by the conversion are within kGuardUlps of one half.
inline bool near_float_midpoint(double r) {
  const std::uint64_t low = std::bit_cast<std::uint64_t>(r) & ((1ull << 29) - 1);
  const std::uint64_t half = 1ull << 28;
  const std::uint64_t dist = low > half ? low - half : half - low;
  return dist <= kGuardUlps;
}

float log1p_slow(float a) {
  if (std::isnan(a)) return a;
  if (a == -1.0f) return -std::numeric_limits<float>::infinity();
  if (a < -1.0f) return std::numeric_limits<float>::quiet_NaN();
  if (std::fabs(a) < 0x1p-24f) return a;
  return static_cast<float>(std::log1pl(static_cast<long double>(a)));
}

// ---- erfinv: the scalar pieces ----------------------------------------------------------------

// XLA computes both branches and selects; jute evaluates the central branch (w < 5, all but about
// 0.3% of a normal sample) in a vectorized pass and the tail branch only where it is needed.
inline float erfinv_central(float x, float w) {
  const float v = w - 2.5f;
  float p = 2.81022636e-08f;
  p = std::fma(p, v, 3.43273939e-07f);
  p = std::fma(p, v, -3.5233877e-06f);
  p = std::fma(p, v, -4.39150654e-06f);
  p = std::fma(p, v, 0.00021858087f);
  p = std::fma(p, v, -0.00125372503f);
  p = std::fma(p, v, -0.00417768164f);
  p = std::fma(p, v, 0.246640727f);
  p = std::fma(p, v, 1.50140941f);
  return p * x;
}

inline float erfinv_tail(float x, float w) {
  const float v = std::sqrt(w) - 3.0f;
  float p = -0.000200214257f;
  p = std::fma(p, v, 0.000100950558f);
  p = std::fma(p, v, 0.00134934322f);
  p = std::fma(p, v, -0.00367342844f);
  p = std::fma(p, v, 0.00573950773f);
  p = std::fma(p, v, -0.0076224613f);
  p = std::fma(p, v, 0.00943887047f);
  p = std::fma(p, v, 1.00167406f);
  p = std::fma(p, v, 2.83297682f);
  return std::fabs(x) == 1.0f ? x * std::numeric_limits<float>::infinity() : p * x;
}

// ---- portable block kernels (vectorized by the compiler) ----------------------------------------

// log1p_f32 of m <= kChunk elements: the fast result with its rounding test, then the slow path for
// the flagged elements. `in` and `out` must not overlap.
void log1p_chunk_portable(const float* __restrict in, std::int64_t m, float* __restrict out) {
  std::uint8_t redo[kChunk];
  int any = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    // Outside the fast domain r is meaningless (but harmless) and gets recomputed.
    const double r = log_positive(1.0 + static_cast<double>(in[i]));
    // Both tests run (no short circuit), so the loop stays branch-free and vectorizes.
    const bool bad =
        static_cast<int>(!in_fast_domain(in[i])) | static_cast<int>(near_float_midpoint(r));
    redo[i] = static_cast<std::uint8_t>(bad);
    any |= static_cast<int>(bad);
    out[i] = static_cast<float>(r);
  }
  if (!any) return;
  for (std::int64_t i = 0; i < m; ++i)
    if (redo[i]) out[i] = log1p_slow(in[i]);
}

// scale * erfinv_f32 of m <= kChunk elements; `x` and `out` must not overlap.
void erfinv_chunk_portable(const float* __restrict x, std::int64_t m, float scale,
                           float* __restrict out) {
  float a[kChunk] = {};  // (initialized only to keep GCC 12's -Wmaybe-uninitialized quiet)
  float w[kChunk];
  for (std::int64_t i = 0; i < m; ++i) a[i] = x[i] * -x[i];
  log1p_chunk_portable(a, m, w);
  std::uint8_t tail[kChunk];
  int any_tail = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    w[i] = -w[i];
    tail[i] = static_cast<std::uint8_t>(!(w[i] < 5.0f));  // w >= 5, or NaN
    any_tail |= tail[i];
    out[i] = scale * erfinv_central(x[i], w[i]);
  }
  if (!any_tail) return;
  for (std::int64_t i = 0; i < m; ++i)
    if (tail[i]) out[i] = scale * erfinv_tail(x[i], w[i]);
}

// ---- AVX-512 block kernels ----------------------------------------------------------------------

#if JUTE_RANDOM_AVX512

struct LogTable {
  alignas(64) double invc[16];
  alignas(64) double logc[16];  // -log(invc), rounded once from extended precision
};

// Sub-interval i of [0.75, 1.5) is [0.75 + i w, 0.75 + (i + 1) w), w = 0.75 / 16.
constexpr double kLogBuckets = 16 / 0.75;

const LogTable& log_table() {
  static const LogTable table = [] {
    LogTable t{};
    for (int i = 0; i < 16; ++i) {
      const long double lo = 0.75L + i / static_cast<long double>(kLogBuckets);
      const long double hi = 0.75L + (i + 1) / static_cast<long double>(kLogBuckets);
      const bool around_one = lo <= 1.0L && 1.0L < hi;
      t.invc[i] = around_one ? 1.0 : static_cast<double>(2.0L / (lo + hi));
      t.logc[i] =
          around_one ? 0.0 : static_cast<double>(-std::log(static_cast<long double>(t.invc[i])));
    }
    return t;
  }();
  return table;
}

// The zero-masking forms with every lane selected are the plain instructions; GCC 12's plain
// intrinsics trip -Wmaybe-uninitialized on their undefined pass-through operand.
constexpr __mmask8 kAll8 = 0xFF;
constexpr __mmask16 kAll16 = 0xFFFF;

// log(y) for 8 positive normal doubles (within a few ulps), and the rounding test.
class Log8 {
 public:
  Log8() {
    const LogTable& t = log_table();
    invc0_ = _mm512_load_pd(t.invc);
    invc1_ = _mm512_load_pd(t.invc + 8);
    logc0_ = _mm512_load_pd(t.logc);
    logc1_ = _mm512_load_pd(t.logc + 8);
  }

  __m512d operator()(__m512d y) const {
    const __m512d mant =
        _mm512_maskz_getmant_pd(kAll8, y, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_zero);
    const __m512d k =
        _mm512_sub_pd(_mm512_maskz_getexp_pd(kAll8, y), _mm512_maskz_getexp_pd(kAll8, mant));
    const __m512i idx = _mm512_maskz_cvttpd_epi64(
        kAll8,
        _mm512_fmadd_pd(mant, _mm512_set1_pd(kLogBuckets), _mm512_set1_pd(-0.75 * kLogBuckets)));
    const __m512d r =
        _mm512_fmadd_pd(mant, _mm512_permutex2var_pd(invc0_, idx, invc1_), _mm512_set1_pd(-1.0));
    __m512d p = _mm512_set1_pd(1.0 / 9);
    for (double c : {-1.0 / 8, 1.0 / 7, -1.0 / 6, 1.0 / 5, -1.0 / 4, 1.0 / 3, -1.0 / 2})
      p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
    const __m512d hi =
        _mm512_fmadd_pd(k, _mm512_set1_pd(kLn2Hi), _mm512_permutex2var_pd(logc0_, idx, logc1_));
    const __m512d lo =
        _mm512_fmadd_pd(_mm512_mul_pd(r, r), p, _mm512_mul_pd(k, _mm512_set1_pd(kLn2Lo)));
    return _mm512_add_pd(_mm512_add_pd(hi, r), lo);
  }

  // Lanes whose float32 rounding might not be the exact value's (near_float_midpoint).
  static __mmask8 near_midpoint(__m512d r) {
    const __m512i low =
        _mm512_and_si512(_mm512_castpd_si512(r), _mm512_set1_epi64((1ll << 29) - 1));
    const auto guard = static_cast<long long>(kGuardUlps);
    return _mm512_cmple_epu64_mask(_mm512_sub_epi64(low, _mm512_set1_epi64((1ll << 28) - guard)),
                                   _mm512_set1_epi64(2 * guard));
  }

 private:
  __m512d invc0_, invc1_, logc0_, logc1_;
};

// in_fast_domain for 16 floats.
inline __mmask16 fast_domain16(__m512 a) {
  const __m512 m = _mm512_abs_ps(a);
  return _mm512_cmp_ps_mask(a, _mm512_set1_ps(-1.0f), _CMP_GT_OQ) &
         _mm512_cmp_ps_mask(m, _mm512_set1_ps(0x1p-24f), _CMP_GE_OQ) &
         _mm512_cmp_ps_mask(m, _mm512_set1_ps(0x1p24f), _CMP_LT_OQ);
}

// log1p_f32 of 16 floats: the fast results, and in `bad` the lanes that need the slow path.
inline __m512 log1p16(const Log8& log8, __m512 a, __mmask16& bad) {
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d r0 = log8(
      _mm512_add_pd(_mm512_maskz_cvtps_pd(kAll8, _mm512_maskz_extractf32x8_ps(kAll8, a, 0)), one));
  const __m512d r1 = log8(
      _mm512_add_pd(_mm512_maskz_cvtps_pd(kAll8, _mm512_maskz_extractf32x8_ps(kAll8, a, 1)), one));
  const auto near = static_cast<__mmask16>(Log8::near_midpoint(r0) |
                                           (static_cast<unsigned>(Log8::near_midpoint(r1)) << 8));
  bad = static_cast<__mmask16>(~fast_domain16(a) | near);
  const __m512 lo =
      _mm512_maskz_insertf32x8(kAll16, _mm512_setzero_ps(), _mm512_maskz_cvtpd_ps(kAll8, r0), 0);
  return _mm512_maskz_insertf32x8(kAll16, lo, _mm512_maskz_cvtpd_ps(kAll8, r1), 1);
}

// Calls fix(j) for the set bits j of the 16-bit masks, mask g covering elements 16g .. 16g + 15.
template <class Fix>
void for_each_set_lane(const std::uint16_t* masks, std::int64_t groups, Fix fix) {
  for (std::int64_t g = 0; g < groups; ++g)
    for (unsigned b = masks[g]; b != 0; b &= b - 1) fix(16 * g + std::countr_zero(b));
}

void log1p_chunk_avx512(const float* __restrict in, std::int64_t m, float* __restrict out) {
  const Log8 log8;
  std::uint16_t bad[kChunk / 16];
  unsigned any = 0;
  std::int64_t i = 0;
  for (; i + 16 <= m; i += 16) {
    __mmask16 b;
    _mm512_storeu_ps(out + i, log1p16(log8, _mm512_loadu_ps(in + i), b));
    bad[i / 16] = b;
    any |= b;
  }
  for (std::int64_t j = i; j < m; ++j) out[j] = log1p_f32(in[j]);
  if (any) for_each_set_lane(bad, i / 16, [&](std::int64_t j) { out[j] = log1p_slow(in[j]); });
}

// One pass per 16 lanes: a = -x^2, w = -log1p(a), the central branch; the lanes that need the slow
// log1p or the tail branch are recomputed with the scalar erfinv_f32.
void erfinv_chunk_avx512(const float* __restrict x, std::int64_t m, float scale,
                         float* __restrict out) {
  const Log8 log8;
  const __m512 sign = _mm512_set1_ps(-0.0f);
  std::uint16_t redo[kChunk / 16];
  unsigned any = 0;
  std::int64_t i = 0;
  for (; i + 16 <= m; i += 16) {
    const __m512 xv = _mm512_loadu_ps(x + i);
    __mmask16 bad;
    const __m512 w =
        _mm512_xor_ps(log1p16(log8, _mm512_mul_ps(xv, _mm512_xor_ps(xv, sign)), bad), sign);
    const __mmask16 tail = static_cast<__mmask16>(
        ~_mm512_cmp_ps_mask(w, _mm512_set1_ps(5.0f), _CMP_LT_OQ));  // w >= 5, or NaN
    const __m512 v = _mm512_sub_ps(w, _mm512_set1_ps(2.5f));
    __m512 p = _mm512_set1_ps(2.81022636e-08f);
    for (float c : {3.43273939e-07f, -3.5233877e-06f, -4.39150654e-06f, 0.00021858087f,
                    -0.00125372503f, -0.00417768164f, 0.246640727f, 1.50140941f})
      p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(c));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_set1_ps(scale), _mm512_mul_ps(p, xv)));
    redo[i / 16] = static_cast<std::uint16_t>(bad | tail);
    any |= redo[i / 16];
  }
  for (std::int64_t j = i; j < m; ++j) out[j] = scale * erfinv_f32(x[j]);
  if (any)
    for_each_set_lane(redo, i / 16, [&](std::int64_t j) { out[j] = scale * erfinv_f32(x[j]); });
}

#endif

}  // namespace

float log1p_f32(float a) {
  if (!in_fast_domain(a)) return log1p_slow(a);
  const double r = log_positive(1.0 + static_cast<double>(a));
  return near_float_midpoint(r) ? log1p_slow(a) : static_cast<float>(r);
}

float erfinv_f32(float x) {
  const float w = -log1p_f32(x * -x);
  return w < 5.0f ? erfinv_central(x, w) : erfinv_tail(x, w);
}

void log1p_f32(const float* a, std::int64_t n, float* out) {
  for (std::int64_t start = 0; start < n; start += kChunk)
#if JUTE_RANDOM_AVX512
    log1p_chunk_avx512(a + start, std::min(kChunk, n - start), out + start);
#else
    log1p_chunk_portable(a + start, std::min(kChunk, n - start), out + start);
#endif
}

void erfinv_f32(const float* x, std::int64_t n, float scale, float* out) {
  for (std::int64_t start = 0; start < n; start += kChunk)
#if JUTE_RANDOM_AVX512
    erfinv_chunk_avx512(x + start, std::min(kChunk, n - start), scale, out + start);
#else
    erfinv_chunk_portable(x + start, std::min(kChunk, n - start), scale, out + start);
#endif
}

void log1p_f32_portable(const float* a, std::int64_t n, float* out) {
  for (std::int64_t start = 0; start < n; start += kChunk)
    log1p_chunk_portable(a + start, std::min(kChunk, n - start), out + start);
}

void erfinv_f32_portable(const float* x, std::int64_t n, float scale, float* out) {
  for (std::int64_t start = 0; start < n; start += kChunk)
    erfinv_chunk_portable(x + start, std::min(kChunk, n - start), scale, out + start);
}

double erfinv_f64(double x) {
  double w = -std::log1p(x * -x);
  double p;
  if (w < 6.25) {
    w = w - 3.125;
    p = -3.6444120640178196996e-21;
    for (double c :
         {-1.685059138182016589e-19,  1.2858480715256400167e-18,  1.115787767802518096e-17,
          -1.333171662854620906e-16,  2.0972767875968561637e-17,  6.6376381343583238325e-15,
          -4.0545662729752068639e-14, -8.1519341976054721522e-14, 2.6335093153082322977e-12,
          -1.2975133253453532498e-11, -5.4154120542946279317e-11, 1.051212273321532285e-09,
          -4.1126339803469836976e-09, -2.9070369957882005086e-08, 4.2347877827932403518e-07,
          -1.3654692000834678645e-06, -1.3882523362786468719e-05, 0.0001867342080340571352,
          -0.00074070253416626697512, -0.0060336708714301490533,  0.24015818242558961693,
          1.6536545626831027356})
      p = std::fma(p, w, c);
  } else if (w < 16.0) {
    w = std::sqrt(w) - 3.25;
    p = 2.2137376921775787049e-09;
    for (double c :
         {9.0756561938885390979e-08, -2.7517406297064545428e-07, 1.8239629214389227755e-08,
          1.5027403968909827627e-06, -4.013867526981545969e-06, 2.9234449089955446044e-06,
          1.2475304481671778723e-05, -4.7318229009055733981e-05, 6.8284851459573175448e-05,
          2.4031110387097893999e-05, -0.0003550375203628474796, 0.00095328937973738049703,
          -0.0016882755560235047313, 0.0024914420961078508066, -0.0037512085075692412107,
          0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635})
      p = std::fma(p, w, c);
  } else {
    w = std::sqrt(w) - 5.0;
    p = -2.7109920616438573243e-11;
    for (double c :
         {-2.5556418169965252055e-10, 1.5076572693500548083e-09, -3.7894654401267369937e-09,
          7.6157012080783393804e-09, -1.4960026627149240478e-08, 2.9147953450901080826e-08,
          -6.7711997758452339498e-08, 2.2900482228026654717e-07, -9.9298272942317002539e-07,
          4.5260625972231537039e-06, -1.9681778105531670567e-05, 7.5995277030017761139e-05,
          -0.00021503011930044477347, -0.00013871931833623122026, 1.0103004648645343977,
          4.8499064014085844221})
      p = std::fma(p, w, c);
  }
  return std::fabs(x) == 1.0 ? x * std::numeric_limits<double>::infinity() : p * x;
}

// ---- erf ----------------------------------------------------------------------------------------

float erf_f32(float x) {
  const float xc = std::fmin(std::fmax(x, -4.0f), 4.0f);
  const float x2 = xc * xc;
  float alpha = -2.72614225801306e-10f;
  for (float c : {2.77068142495902e-08f, -2.10102402082508e-06f, -5.69250639462346e-05f,
                  -7.34990630326855e-04f, -2.95459980854025e-03f, -1.60960333262415e-02f})
    alpha = std::fma(alpha, x2, c);
  float beta = -1.45660718464996e-05f;
  for (float c : {-2.13374055278905e-04f, -1.68282697438203e-03f, -7.37332916720468e-03f,
                  -1.42647390514189e-02f})
    beta = std::fma(beta, x2, c);
  const float r = xc * alpha / beta;
  return std::fmin(std::fmax(r, -1.0f), 1.0f);
}

}  // namespace jute::random::detail
