// The samplers of jute/random.hpp. Each one is JAX's algorithm (jax/_src/random), evaluated with
// the same float32 operations in the same order; where XLA fuses a multiply and an add into one
// fma, so does this file (std::fma), because the build never contracts a*b+c by itself.
//
// Random bits are produced in blocks of detail::kBlock counters and transformed while they are
// still in L1, so a sampler makes one pass over its output.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/array_impl.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "random/keys.hpp"
#include "random/special_functions.hpp"
#include "random/threefry.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

namespace jute::random {

namespace {

using detail::KeyWords;

constexpr float kSqrt2f = 1.41421353816986083984375f;  // float32(sqrt(2)) = 0x3FB504F3
constexpr double kSqrt2 = 1.41421356237309514547;      // float64(sqrt(2))

std::string num_str(double v) {
  std::ostringstream os;
  os << std::setprecision(10) << v;
  return os.str();
}

void check_float_dtype(DType dtype, const char* op) {
  if (!is_floating(dtype))
    throw DtypeError(std::string("[") + op + "] dtype must be float32 or float64, got " +
                     std::string(name(dtype)) + ".");
}

/// f(first, bits, m) for blocks of JAX's 32-bit random bits of counters [begin, end).
template <class F>
void for_each_bits32(KeyWords k, std::uint64_t begin, std::uint64_t end, F&& f) {
  std::uint32_t buf[detail::kBlock];
  detail::for_each_block(begin, end, [&](std::uint64_t first, std::int64_t m) {
    detail::threefry_bits32(k.k0, k.k1, detail::hi32(first), detail::lo32(first), m, buf);
    f(first, static_cast<const std::uint32_t*>(buf), m);
  });
}

/// f(first, bits, m) for blocks of JAX's 64-bit random bits ((y0 << 32) | y1) of [0, n).
template <class F>
void for_each_bits64(KeyWords k, std::int64_t n, F&& f) {
  std::uint32_t y0[detail::kBlock], y1[detail::kBlock];
  std::uint64_t b[detail::kBlock];
  detail::for_each_block(
      0, static_cast<std::uint64_t>(n), [&](std::uint64_t first, std::int64_t m) {
        detail::threefry_iota(k.k0, k.k1, detail::hi32(first), detail::lo32(first), m, y0, y1);
        for (std::int64_t i = 0; i < m; ++i) b[i] = (std::uint64_t{y0[i]} << 32) | y1[i];
        f(first, static_cast<const std::uint64_t*>(b), m);
      });
}

std::vector<std::uint32_t> bits32_vector(KeyWords k, std::int64_t n) {
  std::vector<std::uint32_t> out(static_cast<std::size_t>(n));
  for_each_bits32(k, 0, static_cast<std::uint64_t>(n),
                  [&](std::uint64_t first, const std::uint32_t* b, std::int64_t m) {
                    std::copy(b, b + m, out.begin() + static_cast<std::ptrdiff_t>(first));
                  });
  return out;
}

/// JAX's `_split(key)` into two keys: fold_in(key, 0) and fold_in(key, 1).
std::pair<KeyWords, KeyWords> split2(KeyWords k) {
  const auto a = detail::threefry2x32(k.k0, k.k1, 0, 0);
  const auto b = detail::threefry2x32(k.k0, k.k1, 0, 1);
  return {{a.y0, a.y1}, {b.y0, b.y1}};
}

// ---- uniform floats -----------------------------------------------------------------------------

// The 23 (52) high bits of the random word as the mantissa of a float in [1, 2), minus 1: a
// multiple of 2^-23 (2^-52) in [0, 1).
inline float unit_f32(std::uint32_t b) {
  return std::bit_cast<float>((b >> 9) | 0x3F800000u) - 1.0f;
}
inline double unit_f64(std::uint64_t b) {
  return std::bit_cast<double>((b >> 12) | 0x3FF0000000000000ull) - 1.0;
}

// JAX's `_uniform` after the bits: max(minval, floats * (maxval - minval) + minval), the
// multiply-add fused as XLA fuses it. `range` is maxval - minval rounded to T. A NaN stays NaN.
template <class T>
inline T scale_unit(T unit, T range, T minval) {
  const T v = std::fma(unit, range, minval);
  return v < minval ? minval : v;
}

/// f(first, u, m) for blocks of JAX's float32 uniform samples in [minval, maxval).
template <class F>
void for_each_uniform_f32(KeyWords k, std::int64_t n, float minval, float maxval, F&& f) {
  const float range = maxval - minval;
  float u[detail::kBlock];
  for_each_bits32(k, 0, static_cast<std::uint64_t>(n),
                  [&](std::uint64_t first, const std::uint32_t* b, std::int64_t m) {
                    for (std::int64_t i = 0; i < m; ++i)
                      u[i] = scale_unit(unit_f32(b[i]), range, minval);
                    f(first, static_cast<const float*>(u), m);
                  });
}

void uniform_f32(KeyWords k, std::int64_t n, float minval, float maxval, float* out) {
  for_each_uniform_f32(k, n, minval, maxval,
                       [&](std::uint64_t first, const float* u, std::int64_t m) {
                         std::copy(u, u + m, out + first);
                       });
}

/// JAX's float64 uniform samples; values above `clamp` (only the public `uniform` passes one)
/// become `clamp`.
void uniform_f64(KeyWords k, std::int64_t n, double minval, double maxval, double* out,
                 double clamp = std::numeric_limits<double>::infinity()) {
  const double range = maxval - minval;
  for_each_bits64(k, n, [&](std::uint64_t first, const std::uint64_t* b, std::int64_t m) {
    double* o = out + first;
    for (std::int64_t i = 0; i < m; ++i)
      o[i] = std::min(scale_unit(unit_f64(b[i]), range, minval), clamp);
  });
}

/// A new float Array of `shape` filled by `fill32(float*)` or `fill64(double*)`.
template <class F32, class F64>
Array make_float(DType dtype, const Shape& shape, F32&& fill32, F64&& fill64) {
  Array out = jute::detail::empty(dtype, shape);
  if (dtype == float32)
    fill32(jute::detail::mutable_data<float>(out));
  else
    fill64(jute::detail::mutable_data<double>(out));
  return out;
}

// ---- normal and truncated normal ----------------------------------------------------------------

void normal_f32(KeyWords k, std::int64_t n, float* out) {
  const float lo = std::nextafter(-1.0f, 0.0f);  // maxval - lo rounds to 2.0
  for_each_uniform_f32(k, n, lo, 1.0f, [&](std::uint64_t first, const float* u, std::int64_t m) {
    detail::erfinv_f32(u, m, kSqrt2f, out + first);
  });
}

void normal_f64(KeyWords k, std::int64_t n, double* out) {
  uniform_f64(k, n, std::nextafter(-1.0, 0.0), 1.0, out);
  for (std::int64_t i = 0; i < n; ++i) out[i] = kSqrt2 * detail::erfinv_f64(out[i]);
}

void truncated_normal_f32(KeyWords k, std::int64_t n, float lower, float upper, float* out) {
  const float a = detail::erf_f32(lower / kSqrt2f);
  const float b = detail::erf_f32(upper / kSqrt2f);
  const float lo_clip = std::nextafter(lower, std::numeric_limits<float>::infinity());
  const float hi_clip = std::nextafter(upper, -std::numeric_limits<float>::infinity());
  for_each_uniform_f32(k, n, a, b, [&](std::uint64_t first, const float* u, std::int64_t m) {
    float* o = out + first;
    detail::erfinv_f32(u, m, kSqrt2f, o);
    for (std::int64_t i = 0; i < m; ++i) o[i] = std::min(std::max(o[i], lo_clip), hi_clip);
  });
}

void truncated_normal_f64(KeyWords k, std::int64_t n, double lower, double upper, double* out) {
  // JAX's float64 erf is an XLA rational approximation; the C library's erf is used here (they
  // agree to the last bit or within one ulp at the bounds; see docs/random.md).
  const double a = std::erf(lower / kSqrt2);
  const double b = std::erf(upper / kSqrt2);
  const double lo_clip = std::nextafter(lower, std::numeric_limits<double>::infinity());
  const double hi_clip = std::nextafter(upper, -std::numeric_limits<double>::infinity());
  uniform_f64(k, n, a, b, out);
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = std::min(std::max(kSqrt2 * detail::erfinv_f64(out[i]), lo_clip), hi_clip);
}

// ---- randint ------------------------------------------------------------------------------------

// XLA's unsigned remainder: x % 0 == x.
inline std::uint32_t urem(std::uint32_t x, std::uint32_t y) { return y == 0 ? x : x % y; }

/// x % d for a fixed divisor d >= 1 without a division (Lemire, Kaser & Kurz, "Faster remainder by
/// direct computation", 2019): with M = floor((2^64 - 1) / d) + 1, x % d is the high 32 bits of
/// the 96-bit product (M * x mod 2^64) * d, exact for every 32-bit x. randint takes three
/// remainders per value, and a hardware division costs ~25 cycles.
class FastMod {
 public:
  explicit FastMod(std::uint32_t d) : d_(d), m_(~std::uint64_t{0} / d + 1) {}
  std::uint32_t operator()(std::uint32_t x) const {
    const std::uint64_t low = m_ * x;  // wraps mod 2^64
    // high 64 bits of low * d, from 32 x 32 -> 64 products (no overflow: see the paper's bound)
    const std::uint64_t hi = (low >> 32) * d_ + (((low & 0xFFFFFFFFull) * d_) >> 32);
    return static_cast<std::uint32_t>(hi >> 32);
  }

 private:
  std::uint64_t d_;
  std::uint64_t m_;
};

struct IntRange {
  std::int64_t min, max;  // inclusive
};

IntRange int_range(DType dtype) {
  switch (dtype) {
    case DType::Int32:
      return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
    case DType::UInt32:
      return {0, std::numeric_limits<std::uint32_t>::max()};
    case DType::UInt8:
      return {0, 255};
    default:
      break;
  }
  throw DtypeError("[random.randint] dtype must be int32, uint32 or uint8, got " +
                   std::string(name(dtype)) + ".");
}

/// JAX's `_randint` for a 32-bit dtype whose range is `r`: out[i] is minval + offset as the
/// unsigned 32-bit pattern of the result.
void randint_32(KeyWords k, std::int64_t n, std::int64_t minval, std::int64_t maxval, IntRange r,
                std::uint32_t* out) {
  const bool maxval_out_of_range = maxval > r.max;
  const std::int64_t lo = std::clamp(minval, r.min, r.max);
  const std::int64_t hi = std::clamp(maxval, r.min, r.max);
  std::uint32_t span = static_cast<std::uint32_t>(hi - lo);
  if (hi <= lo) span = 1;
  if (maxval_out_of_range && hi > lo) span += 1;  // wraps to 0 for the full 2^32 range
  std::uint32_t mult = urem(1u << 16, span);
  mult = urem(mult * mult, span);
  const auto [k1, k2] = split2(k);
  std::uint32_t lo_bits[detail::kBlock];
  const auto base = static_cast<std::uint32_t>(lo);
  const FastMod mod(span == 0 ? 1 : span);
  for_each_bits32(k1, 0, static_cast<std::uint64_t>(n),
                  [&, k2 = k2](std::uint64_t first, const std::uint32_t* hb, std::int64_t m) {
                    detail::threefry_bits32(k2.k0, k2.k1, detail::hi32(first), detail::lo32(first),
                                            m, lo_bits);
                    auto* o = out + first;
                    if (span == 0) {  // the full 2^32 range: every remainder is the identity
                      for (std::int64_t i = 0; i < m; ++i) o[i] = base + lo_bits[i];
                      return;
                    }
                    for (std::int64_t i = 0; i < m; ++i)
                      o[i] = base + mod(mod(hb[i]) * mult + mod(lo_bits[i]));
                  });
}

// ---- permutation --------------------------------------------------------------------------------

/// JAX's `_shuffle` round count: ceil(3 ln(max(1, size)) / ln(2^32 - 1)).
int shuffle_rounds(std::int64_t size) {
  const double v =
      3.0 * std::log(static_cast<double>(std::max<std::int64_t>(1, size))) / std::log(4294967295.0);
  return static_cast<int>(std::ceil(v));
}

/// For each of the `outer * inner` lanes of length `len` along the middle axis of an array of
/// shape (outer, len, inner), the source positions that JAX's `_shuffle` (stable sorts on fresh
/// random keys, repeated `shuffle_rounds(total size)` times) moves to each position:
/// result[(o * len + t) * inner + j] is the source position along the axis.
std::vector<std::int64_t> shuffle_positions(KeyWords k, std::int64_t outer, std::int64_t len,
                                            std::int64_t inner) {
  const std::int64_t size = outer * len * inner;
  std::vector<std::int64_t> pos(static_cast<std::size_t>(size));
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t t = 0; t < len; ++t)
      for (std::int64_t j = 0; j < inner; ++j)
        pos[static_cast<std::size_t>((o * len + t) * inner + j)] = t;
  const int rounds = shuffle_rounds(size);
  std::vector<std::uint64_t> order(static_cast<std::size_t>(len));
  std::vector<std::int64_t> lane(static_cast<std::size_t>(len));
  for (int r = 0; r < rounds; ++r) {
    const auto [next, sub] = split2(k);
    k = next;
    const std::vector<std::uint32_t> sort_keys = bits32_vector(sub, size);
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < inner; ++j) {
        const auto at = [&](std::int64_t t) {
          return static_cast<std::size_t>((o * len + t) * inner + j);
        };
        // A stable sort by key: (key << 32 | position) is unique, so an unstable sort of these
        // words is the stable order (lanes are shorter than 2^32).
        for (std::int64_t t = 0; t < len; ++t)
          order[static_cast<std::size_t>(t)] =
              (std::uint64_t{sort_keys[at(t)]} << 32) | static_cast<std::uint64_t>(t);
        std::sort(order.begin(), order.end());
        for (std::int64_t t = 0; t < len; ++t) lane[static_cast<std::size_t>(t)] = pos[at(t)];
        for (std::int64_t t = 0; t < len; ++t)
          pos[at(t)] =
              lane[static_cast<std::size_t>(order[static_cast<std::size_t>(t)] & 0xFFFFFFFFull)];
      }
  }
  return pos;
}

Array permutation_indices(KeyWords k, std::int64_t n) {
  const std::vector<std::int64_t> pos = shuffle_positions(k, 1, n, 1);
  Array out = jute::detail::empty(int32, {n});
  auto* o = jute::detail::mutable_data<std::int32_t>(out);
  for (std::int64_t i = 0; i < n; ++i)
    o[i] = static_cast<std::int32_t>(pos[static_cast<std::size_t>(i)]);
  return out;
}

// ---- logs for gumbel ----------------------------------------------------------------------------

// float32 log, correctly rounded except in astronomically rare cases (the double result is
// rounded once). XLA's float32 log is an approximation of its own; see docs/random.md.
inline float log_f32(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }

void gumbel_f32(KeyWords k, std::int64_t n, float* out) {
  const float tiny = std::numeric_limits<float>::min();
  uniform_f32(k, n, tiny, 1.0f, out);
  for (std::int64_t i = 0; i < n; ++i) out[i] = -log_f32(-log_f32(out[i]));
}

void gumbel_f64(KeyWords k, std::int64_t n, double* out) {
  uniform_f64(k, n, std::numeric_limits<double>::min(), 1.0, out);
  for (std::int64_t i = 0; i < n; ++i) out[i] = -std::log(-std::log(out[i]));
}

void exponential_f32(KeyWords k, std::int64_t n, float* out) {
  float neg_u[detail::kBlock];
  for_each_uniform_f32(k, n, 0.0f, 1.0f, [&](std::uint64_t first, const float* u, std::int64_t m) {
    for (std::int64_t i = 0; i < m; ++i) neg_u[i] = -u[i];
    detail::log1p_f32(neg_u, m, out + first);
    for (std::int64_t i = 0; i < m; ++i) out[first + i] = -out[first + i];
  });
}

void exponential_f64(KeyWords k, std::int64_t n, double* out) {
  uniform_f64(k, n, 0.0, 1.0, out);
  for (std::int64_t i = 0; i < n; ++i) out[i] = -std::log1p(-out[i]);
}

/// A float sampler without parameters: checks the key, the shape and the dtype (naming `op`) and
/// fills a new Array with `f32(key, n, float*)` or `f64(key, n, double*)`.
template <class F32, class F64>
Array sample_float(const Array& key, const Shape& shape, DType dtype, const char* op, F32 f32,
                   F64 f64) {
  const auto k = detail::key_words(key, op);
  const std::int64_t n = detail::checked_size(shape, op);
  check_float_dtype(dtype, op);
  return make_float(
      dtype, shape, [&](float* o) { f32(k, n, o); }, [&](double* o) { f64(k, n, o); });
}

}  // namespace

// ---- public samplers ----------------------------------------------------------------------------

Array bits(const Array& key, const Shape& shape, DType dtype) {
  const auto k = detail::key_words(key, "random.bits");
  const std::int64_t n = detail::checked_size(shape, "random.bits");
  if (dtype != uint32 && dtype != uint8)
    throw DtypeError(
        "[random.bits] dtype must be uint32 or uint8 (jute has no uint16 or uint64), got " +
        std::string(name(dtype)) + ".");
  Array out = jute::detail::empty(dtype, shape);
  if (dtype == uint32) {
    auto* o = jute::detail::mutable_data<std::uint32_t>(out);
    detail::for_each_block(0, static_cast<std::uint64_t>(n),
                           [&](std::uint64_t first, std::int64_t m) {
                             detail::threefry_bits32(k.k0, k.k1, detail::hi32(first),
                                                     detail::lo32(first), m, o + first);
                           });
  } else {
    auto* o = jute::detail::mutable_data<std::uint8_t>(out);
    for_each_bits32(k, 0, static_cast<std::uint64_t>(n),
                    [&](std::uint64_t first, const std::uint32_t* b, std::int64_t m) {
                      for (std::int64_t i = 0; i < m; ++i)
                        o[first + static_cast<std::uint64_t>(i)] = static_cast<std::uint8_t>(b[i]);
                    });
  }
  return out;
}

Array uniform(const Array& key, const Shape& shape, DType dtype, double minval, double maxval) {
  const auto k = detail::key_words(key, "random.uniform");
  const std::int64_t n = detail::checked_size(shape, "random.uniform");
  check_float_dtype(dtype, "random.uniform");
  const auto bad_bounds = [&] {
    throw ValueError("[random.uniform] Expected finite bounds with minval < maxval in " +
                     std::string(name(dtype)) + ", got minval=" + num_str(minval) +
                     " and maxval=" + num_str(maxval) + ".");
  };
  if (dtype == float32) {
    const float lo = static_cast<float>(minval), hi = static_cast<float>(maxval);
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) bad_bounds();
    const float below = std::nextafter(hi, lo);
    return make_float(
        dtype, shape,
        [&](float* o) {
          for_each_uniform_f32(k, n, lo, hi,
                               [&](std::uint64_t first, const float* u, std::int64_t m) {
                                 for (std::int64_t i = 0; i < m; ++i)
                                   o[first + i] = std::min(u[i], below);
                               });
        },
        [](double*) {});
  }
  if (!(std::isfinite(minval) && std::isfinite(maxval) && minval < maxval)) bad_bounds();
  const double below = std::nextafter(maxval, minval);
  return make_float(
      dtype, shape, [](float*) {}, [&](double* o) { uniform_f64(k, n, minval, maxval, o, below); });
}

Array normal(const Array& key, const Shape& shape, DType dtype) {
  return sample_float(key, shape, dtype, "random.normal", normal_f32, normal_f64);
}

Array truncated_normal(const Array& key, double lower, double upper, const Shape& shape,
                       DType dtype) {
  const auto k = detail::key_words(key, "random.truncated_normal");
  const std::int64_t n = detail::checked_size(shape, "random.truncated_normal");
  check_float_dtype(dtype, "random.truncated_normal");
  const float lo32 = static_cast<float>(lower), hi32 = static_cast<float>(upper);
  const bool ok = dtype == float32 ? lo32 < hi32 : lower < upper;
  if (!ok)
    throw ValueError("[random.truncated_normal] Expected lower < upper in " +
                     std::string(name(dtype)) + ", got lower=" + num_str(lower) +
                     " and upper=" + num_str(upper) + ".");
  return make_float(
      dtype, shape, [&](float* o) { truncated_normal_f32(k, n, lo32, hi32, o); },
      [&](double* o) { truncated_normal_f64(k, n, lower, upper, o); });
}

Array bernoulli(const Array& key, double p, const Shape& shape, BernoulliMode mode) {
  const auto k = detail::key_words(key, "random.bernoulli");
  const std::int64_t n = detail::checked_size(shape, "random.bernoulli");
  if (!(p >= 0.0 && p <= 1.0))
    throw ValueError("[random.bernoulli] The probability p must lie in [0, 1], got " + num_str(p) +
                     ".");
  const float pf = static_cast<float>(p);
  Array out = jute::detail::empty(bool_, shape);
  auto* o = jute::detail::mutable_data<bool>(out);
  if (mode == BernoulliMode::low) {
    for_each_bits32(k, 0, static_cast<std::uint64_t>(n),
                    [&](std::uint64_t first, const std::uint32_t* b, std::int64_t m) {
                      for (std::int64_t i = 0; i < m; ++i)
                        o[first + static_cast<std::uint64_t>(i)] = unit_f32(b[i]) < pf;
                    });
  } else {
    // u1, u2 = uniform(key, (2, *shape)); u2 *= 2^-23; u2 < p - u1.
    const std::vector<std::uint32_t> b = bits32_vector(k, 2 * n);
    for (std::int64_t i = 0; i < n; ++i) {
      const float u1 = unit_f32(b[static_cast<std::size_t>(i)]);
      const float u2 = unit_f32(b[static_cast<std::size_t>(n + i)]) * 0x1p-23f;
      o[i] = u2 < pf - u1;
    }
  }
  return out;
}

Array randint(const Array& key, const Shape& shape, std::int64_t minval, std::int64_t maxval,
              DType dtype) {
  const auto k = detail::key_words(key, "random.randint");
  const std::int64_t n = detail::checked_size(shape, "random.randint");
  const IntRange r = int_range(dtype);
  if (maxval <= minval)
    throw ValueError("[random.randint] The range [" + std::to_string(minval) + ", " +
                     std::to_string(maxval) + ") is empty; maxval must be greater than minval.");
  if (maxval <= r.min || minval > r.max)
    throw ValueError("[random.randint] The range [" + std::to_string(minval) + ", " +
                     std::to_string(maxval) + ") holds no " + std::string(name(dtype)) +
                     " value; pick bounds inside [" + std::to_string(r.min) + ", " +
                     std::to_string(r.max) + "].");
  // int32 and uint32 results are the 32-bit patterns randint_32 computes. Since JAX 0.7.2,
  // narrower dtypes are sampled as int32 with the bounds clipped to [min, max + 1] of the narrow
  // type, then cast.
  if (dtype != uint8) {
    Array out = jute::detail::empty(dtype, shape);
    randint_32(k, n, minval, maxval, r,
               static_cast<std::uint32_t*>(jute::detail::mutable_raw(out)));
    return out;
  }
  std::vector<std::uint32_t> wide(static_cast<std::size_t>(n));
  randint_32(k, n, std::clamp(minval, r.min, r.max), std::clamp(maxval, r.min, r.max + 1),
             int_range(int32), wide.data());
  Array out = jute::detail::empty(uint8, shape);
  auto* o = jute::detail::mutable_data<std::uint8_t>(out);
  for (std::int64_t i = 0; i < n; ++i)
    o[i] = static_cast<std::uint8_t>(wide[static_cast<std::size_t>(i)]);
  return out;
}

Array permutation(const Array& key, std::int64_t n) {
  const auto k = detail::key_words(key, "random.permutation");
  if (n < 0 || n > std::numeric_limits<std::int32_t>::max())
    throw ValueError("[random.permutation] n must lie in [0, 2147483647], got " +
                     std::to_string(n) + ".");
  return permutation_indices(k, n);
}

namespace {

/// The axis of `x` named by `axis` (negative counts from the end); ShapeError naming `op`.
int checked_axis(const Array& x, int axis, const char* op) {
  const int rank = x.ndim();
  if (axis < -rank || axis >= rank)
    throw ShapeError(std::string("[") + op + "] axis " + std::to_string(axis) +
                     " is out of range for an array of shape " +
                     jute::detail::shape_str(x.shape()) + ".");
  return axis < 0 ? axis + rank : axis;
}

/// n for a 0-d integer Array standing for arange(n); ShapeError for a 0-d float.
std::int64_t scalar_count(const Array& x, const char* op) {
  if (!is_integer(x.dtype()))
    throw ShapeError(std::string("[") + op +
                     "] x must be an integer or at least 1-dimensional, got " + x.type_string() +
                     ".");
  return x.item<std::int64_t>();
}

/// ValueError unless choice's population size n fits int32 indices and is positive.
void check_population(std::int64_t n) {
  if (n <= 0 || n > std::numeric_limits<std::int32_t>::max())
    throw ValueError(
        "[random.choice] The population size n must lie in [1, 2147483647] unless "
        "no samples are taken, got " +
        std::to_string(n) + ".");
}

}  // namespace

Array permutation(const Array& key, const Array& x, int axis, bool independent) {
  const auto k = detail::key_words(key, "random.permutation");
  if (!x.valid()) throw ValueError("[random.permutation] x is a null Array.");
  if (x.ndim() == 0) return permutation(key, scalar_count(x, "random.permutation"));
  const int ax = checked_axis(x, axis, "random.permutation");
  const Shape& s = x.shape();
  const std::int64_t len = s[static_cast<std::size_t>(ax)];
  if (len > std::numeric_limits<std::int32_t>::max())
    throw ShapeError("[random.permutation] axis " + std::to_string(axis) + " of shape " +
                     jute::detail::shape_str(s) + " is longer than 2147483647.");
  if (!independent && x.ndim() > 1) return take(x, permutation_indices(k, len), ax);
  // JAX's _shuffle of x itself: sort keys of x's full shape, rounds from x's size.
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= s[static_cast<std::size_t>(d)];
  for (int d = ax + 1; d < x.ndim(); ++d) inner *= s[static_cast<std::size_t>(d)];
  const std::vector<std::int64_t> pos = shuffle_positions(k, outer, len, inner);
  Array idx = jute::detail::empty(int32, s);
  auto* o = jute::detail::mutable_data<std::int32_t>(idx);
  for (std::size_t i = 0; i < pos.size(); ++i) o[i] = static_cast<std::int32_t>(pos[i]);
  return take_along_axis(x, idx, ax);
}

Array choice(const Array& key, const Array& a, const Shape& shape, bool replace, int axis) {
  const auto k = detail::key_words(key, "random.choice");
  if (!a.valid()) throw ValueError("[random.choice] a is a null Array.");
  if (a.ndim() == 0) return choice(key, scalar_count(a, "random.choice"), shape, replace);
  const int ax = checked_axis(a, axis, "random.choice");
  const std::int64_t n = a.shape(ax);
  const std::int64_t draws = detail::checked_size(shape, "random.choice");
  if (draws > 0 && n <= 0)
    throw ValueError("[random.choice] a has no elements along axis " + std::to_string(axis) +
                     " (shape " + jute::detail::shape_str(a.shape()) +
                     "); nothing to sample from.");
  if (!replace && draws > n)
    throw ValueError("[random.choice] Cannot take a larger sample (size " + std::to_string(draws) +
                     ") than the population (size " + std::to_string(n) + ") without replacement.");
  Array indices;
  if (draws == 0) {
    indices = jute::zeros(shape, int32);
  } else if (replace) {
    indices = randint(key, shape, 0, n, int32);
  } else {
    const Array perm = permutation_indices(k, n);
    indices = jute::detail::empty(int32, shape);
    std::copy_n(perm.data<std::int32_t>(), draws,
                jute::detail::mutable_data<std::int32_t>(indices));
  }
  return take(a, indices, ax);
}

Array gumbel(const Array& key, const Shape& shape, DType dtype) {
  return sample_float(key, shape, dtype, "random.gumbel", gumbel_f32, gumbel_f64);
}

Array exponential(const Array& key, const Shape& shape, DType dtype) {
  return sample_float(key, shape, dtype, "random.exponential", exponential_f32, exponential_f64);
}

namespace {

/// x < y in the total order lax.sort uses for floats (-0 before +0; no NaNs reach it here).
template <class T>
bool total_less(T x, T y) {
  return x < y || (x == y && std::signbit(x) && !std::signbit(y));
}

/// categorical(replace = false) after categorical's checks: `ax` is the categories' axis,
/// `batch` logits' shape without it, and the first `lead` dimensions of `out_shape` hold the k
/// draws of each batch position.
Array categorical_without_replacement(const Array& key, const Array& logits, int ax,
                                      const Shape& batch, const Shape& out_shape,
                                      std::size_t lead) {
  const Shape& ls = logits.shape();
  if (!std::equal(batch.begin(), batch.end(),
                  out_shape.begin() + static_cast<std::ptrdiff_t>(lead)))
    throw ShapeError("[random.categorical] Without replacement, shape " +
                     jute::detail::shape_str(out_shape) + " must end with the batch shape " +
                     jute::detail::shape_str(batch) + " of logits " + jute::detail::shape_str(ls) +
                     " itself, not a shape it broadcasts to.");
  const std::int64_t categories = ls[static_cast<std::size_t>(ax)];
  std::int64_t k = 1;
  for (std::size_t d = 0; d < lead; ++d) k *= out_shape[d];
  if (k > categories)
    throw ValueError("[random.categorical] Cannot draw " + std::to_string(k) +
                     " samples without replacement from " + std::to_string(categories) +
                     " categories; ask for at most as many draws as categories.");
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; ++d) outer *= ls[static_cast<std::size_t>(d)];
  for (std::size_t d = static_cast<std::size_t>(ax) + 1; d < ls.size(); ++d) inner *= ls[d];
  const std::int64_t positions = outer * inner;
  const Array g = gumbel(key, ls, logits.dtype());
  Array out = jute::detail::empty(int32, out_shape);
  auto* o = jute::detail::mutable_data<std::int32_t>(out);
  visit_dtype(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* gd = g.data<T>();
      const T* ld = logits.data<T>();
      std::vector<T> perturbed(static_cast<std::size_t>(categories));
      std::vector<std::int32_t> order(static_cast<std::size_t>(categories));
      for (std::int64_t b = 0; b < positions; ++b) {
        // Batch position b = (i, j) over the dimensions before and after the axis.
        const std::int64_t base = (b / inner) * categories * inner + b % inner;
        for (std::int64_t c = 0; c < categories; ++c) {
          const std::int64_t at = base + c * inner;
          perturbed[static_cast<std::size_t>(c)] = ld[at] + gd[at];
          order[static_cast<std::size_t>(c)] = static_cast<std::int32_t>(c);
        }
        // lax.top_k: largest first, ties to the lower index.
        std::stable_sort(order.begin(), order.end(), [&](std::int32_t x, std::int32_t y) {
          return total_less(perturbed[static_cast<std::size_t>(y)],
                            perturbed[static_cast<std::size_t>(x)]);
        });
        for (std::int64_t j = 0; j < k; ++j)
          o[j * positions + b] = order[static_cast<std::size_t>(j)];
      }
    }
  });
  return out;
}

}  // namespace

Array categorical(const Array& key, const Array& logits, int axis,
                  const std::optional<Shape>& shape, bool replace) {
  detail::key_words(key, "random.categorical");
  if (!logits.valid()) throw ValueError("[random.categorical] logits is a null Array.");
  check_float_dtype(logits.dtype(), "random.categorical");
  const int rank = logits.ndim();
  if (rank == 0 || axis < -rank || axis >= rank)
    throw ShapeError("[random.categorical] axis " + std::to_string(axis) +
                     " is out of range for logits of shape " +
                     jute::detail::shape_str(logits.shape()) +
                     "; logits need at least one dimension.");
  const int ax = axis < 0 ? axis + rank : axis;
  const Shape& ls = logits.shape();
  const std::int64_t categories = ls[static_cast<std::size_t>(ax)];
  Shape batch = ls;
  batch.erase(batch.begin() + ax);
  const Shape out_shape = shape.value_or(batch);
  const std::int64_t n_out = detail::checked_size(out_shape, "random.categorical");
  // `batch` must broadcast to the trailing dimensions of `shape`.
  bool compatible = out_shape.size() >= batch.size();
  const std::size_t lead = compatible ? out_shape.size() - batch.size() : 0;
  for (std::size_t d = 0; compatible && d < batch.size(); ++d)
    compatible = batch[d] == 1 || batch[d] == out_shape[lead + d];
  if (!compatible)
    throw ShapeError("[random.categorical] shape " + jute::detail::shape_str(out_shape) +
                     " is not compatible with the batch shape " + jute::detail::shape_str(batch) +
                     " of logits " + jute::detail::shape_str(ls) +
                     "; it must end with dimensions the batch shape broadcasts to.");
  if (categories == 0)
    throw ShapeError("[random.categorical] logits of shape " + jute::detail::shape_str(ls) +
                     " have no categories along axis " + std::to_string(axis) + ".");
  if (!replace) return categorical_without_replacement(key, logits, ax, batch, out_shape, lead);
  // The Gumbel noise has shape (*prefix, *tail with the categories inserted at ax).
  Shape gshape(out_shape.begin(), out_shape.begin() + static_cast<std::ptrdiff_t>(lead));
  for (std::size_t d = 0; d < batch.size(); ++d) {
    if (d == static_cast<std::size_t>(ax)) gshape.push_back(categories);
    gshape.push_back(out_shape[lead + d]);
  }
  if (static_cast<std::size_t>(ax) == batch.size()) gshape.push_back(categories);
  const Array g = gumbel(key, gshape, logits.dtype());
  // Strides of the gumbel noise and of the logits (0 along broadcast dimensions).
  const std::size_t grank = gshape.size();
  std::vector<std::int64_t> gstride(grank, 1), lstride(ls.size(), 1);
  for (std::size_t d = grank; d-- > 1;) gstride[d - 1] = gstride[d] * gshape[d];
  for (std::size_t d = ls.size(); d-- > 1;) lstride[d - 1] = lstride[d] * ls[d];
  const std::size_t gax = lead + static_cast<std::size_t>(ax);
  Array out = jute::detail::empty(int32, out_shape);
  auto* o = jute::detail::mutable_data<std::int32_t>(out);
  visit_dtype(logits.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* gd = g.data<T>();
      const T* ld = logits.data<T>();
      std::vector<std::int64_t> idx(out_shape.size(), 0);
      for (std::int64_t flat = 0; flat < n_out; ++flat) {
        std::int64_t goff = 0, loff = 0;
        for (std::size_t d = 0; d < out_shape.size(); ++d) {
          const std::size_t gd_axis =
              d < lead ? d : (d - lead < static_cast<std::size_t>(ax) ? d : d + 1);
          goff += idx[d] * gstride[gd_axis];
          if (d >= lead) {
            const std::size_t b = d - lead;
            const std::size_t ld_axis = b < static_cast<std::size_t>(ax) ? b : b + 1;
            if (ls[ld_axis] != 1) loff += idx[d] * lstride[ld_axis];
          }
        }
        // argmax with the first maximum winning and NaN counting as the maximum (jnp.argmax).
        std::int32_t best = 0;
        T best_v = gd[goff] + ld[loff];
        for (std::int64_t c = 1; c < categories && !std::isnan(best_v); ++c) {
          const T v =
              gd[goff + c * gstride[gax]] + ld[loff + c * lstride[static_cast<std::size_t>(ax)]];
          if (v > best_v || std::isnan(v)) {
            best_v = v;
            best = static_cast<std::int32_t>(c);
          }
        }
        o[flat] = best;
        for (std::size_t d = out_shape.size(); d-- > 0;) {
          if (++idx[d] < out_shape[d]) break;
          idx[d] = 0;
        }
      }
    }
  });
  return out;
}

Array choice(const Array& key, std::int64_t n, const Shape& shape, bool replace) {
  const auto k = detail::key_words(key, "random.choice");
  const std::int64_t draws = detail::checked_size(shape, "random.choice");
  if (draws == 0) return jute::zeros(shape, int32);
  check_population(n);
  if (replace) return randint(key, shape, 0, n, int32);
  if (draws > n)
    throw ValueError("[random.choice] Cannot take a larger sample (size " + std::to_string(draws) +
                     ") than the population (size " + std::to_string(n) + ") without replacement.");
  const Array perm = permutation_indices(k, n);
  Array out = jute::detail::empty(int32, shape);
  std::copy_n(perm.data<std::int32_t>(), draws, jute::detail::mutable_data<std::int32_t>(out));
  return out;
}

namespace {

/// The int32 indices of `shape` that jax.random.choice draws from 0..n-1 with weights `p`.
Array weighted_indices(const Array& key, std::int64_t n, const Shape& shape, bool replace,
                       const Array& p) {
  detail::key_words(key, "random.choice");
  if (!p.valid()) throw ValueError("[random.choice] p is a null Array.");
  if (p.shape() != Shape{n})
    throw ShapeError("[random.choice] p must have shape (" + std::to_string(n) +
                     ",), one weight per choice, got shape " + jute::detail::shape_str(p.shape()) +
                     ".");
  const std::int64_t draws = detail::checked_size(shape, "random.choice");
  if (draws == 0) return jute::zeros(shape, int32);
  check_population(n);
  const Array w = is_floating(p.dtype()) ? p : p.astype(float32);
  Array out = jute::detail::empty(int32, shape);
  auto* o = jute::detail::mutable_data<std::int32_t>(out);
  visit_dtype(w.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* pw = w.data<T>();
      std::int64_t positive = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (!(pw[i] >= 0) || std::isinf(pw[i]))
          throw ValueError("[random.choice] p must hold finite, non-negative weights, got " +
                           std::to_string(pw[i]) + " at index " + std::to_string(i) + ".");
        positive += pw[i] > 0;
      }
      if (positive == 0)
        throw ValueError(
            "[random.choice] p has no positive weight; give at least one choice a "
            "positive probability.");
      if (replace) {
        // The running sums in index order; the first one that reaches r is the draw.
        std::vector<T> running(static_cast<std::size_t>(n));
        T total = 0;
        for (std::int64_t i = 0; i < n; ++i) running[static_cast<std::size_t>(i)] = total += pw[i];
        if (std::isinf(total))
          throw ValueError("[random.choice] The weights in p sum to infinity in " +
                           std::string(jute::name(w.dtype())) + "; scale them down.");
        const Array u = uniform(key, shape, w.dtype());
        const T* ud = u.data<T>();
        for (std::int64_t j = 0; j < draws; ++j) {
          const T r = total * (T{1} - ud[j]);
          const auto at = std::lower_bound(running.begin(), running.end(), r) - running.begin();
          o[j] = static_cast<std::int32_t>(std::min<std::int64_t>(at, n - 1));
        }
      } else {
        if (draws > positive)
          throw ValueError("[random.choice] Cannot take a sample of size " + std::to_string(draws) +
                           " without replacement when only " + std::to_string(positive) +
                           " choices have a positive weight in p; ask for fewer draws.");
        // Gumbel top-k: the draws are the smallest -gumbel - log(p), in order (stable sort).
        const Array g = gumbel(key, {n}, w.dtype());
        const T* gd = g.data<T>();
        const Array log_p = jute::log(w);
        const T* lp = log_p.data<T>();
        std::vector<T> score(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) score[static_cast<std::size_t>(i)] = -gd[i] - lp[i];
        std::vector<std::int32_t> order(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i)
          order[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
        std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
          return total_less(score[static_cast<std::size_t>(a)], score[static_cast<std::size_t>(b)]);
        });
        std::copy_n(order.begin(), draws, o);
      }
    }
  });
  return out;
}

}  // namespace

Array choice(const Array& key, std::int64_t n, const Shape& shape, bool replace, const Array& p) {
  return weighted_indices(key, n, shape, replace, p);
}

Array choice(const Array& key, const Array& a, const Shape& shape, bool replace, const Array& p,
             int axis) {
  detail::key_words(key, "random.choice");
  if (!a.valid()) throw ValueError("[random.choice] a is a null Array.");
  if (a.ndim() == 0) return choice(key, scalar_count(a, "random.choice"), shape, replace, p);
  const int ax = checked_axis(a, axis, "random.choice");
  return take(a, weighted_indices(key, a.shape(ax), shape, replace, p), ax);
}

}  // namespace jute::random
