// Elementwise ops: arithmetic, float math, comparisons and logic, clip and where, with their
// derivative rules. The loops are in kernels.hpp; the semantics are documented in docs/ops.md.
#include <immintrin.h>

#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/kernels.hpp"

namespace jute {

namespace detail {

ResultType result_type(const ResultType& a, const ResultType& b) {
  if (a.weak && !b.weak) return {promote_weak(b.dtype, a.dtype), false};
  if (b.weak && !a.weak) return {promote_weak(a.dtype, b.dtype), false};
  return {promote_types(a.dtype, b.dtype), a.weak && b.weak};
}

Shape broadcast_shapes(const std::vector<const Shape*>& shapes, const char* op) {
  std::size_t nd = 0;
  for (const Shape* s : shapes) nd = std::max(nd, s->size());
  Shape out(nd, 1);
  for (const Shape* s : shapes) {
    const std::size_t lead = nd - s->size();
    for (std::size_t i = 0; i < s->size(); ++i) {
      const std::int64_t d = (*s)[i];
      std::int64_t& o = out[lead + i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string msg = std::string("[") + op + "] Shapes ";
      for (std::size_t k = 0; k < shapes.size(); ++k) {
        if (k) msg += k + 1 == shapes.size() ? " and " : ", ";
        msg += shape_str(*shapes[k]);
      }
      throw ShapeError(msg + " cannot be broadcast together.");
    }
  }
  return out;
}

}  // namespace detail

namespace {

using detail::ResultType;

template <class T>
constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// Integer add/subtract/multiply wrap around (two's complement), computed in the unsigned type so
// that overflow is defined behaviour.
template <class T, class F>
T wrapping(T x, T y, F f) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(f(static_cast<U>(x), static_cast<U>(y)));
}

/// The promoted type of two operands, after checking that both are non-null.
ResultType checked_type(const Array& a, const Array& b, const char* op) {
  detail::require_valid(a, op);
  detail::require_valid(b, op);
  return detail::result_type(a, b);
}

[[noreturn]] void bool_error(const char* op, const char* what) {
  throw DtypeError(std::string("[") + op + "] " + what);
}

// ---- the binary driver -------------------------------------------------------------------------

/// Runs `f` over broadcast operands already converted to `in_dtype`; the result has `out_dtype`
/// (in_dtype or bool) and the weak flag `weak`. Writes into a temporary operand when allowed.
template <bool ToBool, class F>
Array run_binary(const Array& a, const Array& b, const Shape& shape, DType in_dtype, bool weak,
                 bool may_reuse, F f, bool traced_reuse = false) {
  const DType out_dtype = ToBool ? DType::Bool : in_dtype;
  if (detail::any_abstract(a, b)) return detail::abstract(out_dtype, shape, weak);
  const auto pick = [&](const Array& c) {
    return traced_reuse ? detail::output_for_traced(c, out_dtype, shape)
                        : detail::output_for(c, out_dtype, shape, may_reuse);
  };
  Array out = pick(a);
  if (!out.valid()) out = pick(b);
  if (!out.valid()) out = detail::empty(out_dtype, shape);
  const auto plan = detail::make_plan<2>(shape, {&a.shape(), &b.shape()});
  visit_dtype(in_dtype, [&](auto t) {
    using T = decltype(t);
    using TO = std::conditional_t<ToBool, bool, T>;
    detail::binary_loop(plan, detail::mutable_data<TO>(out), static_cast<const T*>(a.raw_data()),
                        static_cast<const T*>(b.raw_data()),
                        [&](T x, T y) -> TO { return f(x, y); });
  });
  return detail::with_weak(out, weak);
}

/// The derivative rule of a binary op from the two partial cotangents it computes; each is
/// summed back to its operand's shape.
template <class Partials>
detail::VjpRule binary_rule(Partials partials) {
  return [partials](const Array& g, const std::vector<Array>& in, const Array& out) {
    auto [ga, gb] = partials(g, in[0], in[1], out);
    return std::vector<Array>{ga.valid() ? detail::unbroadcast(ga, in[0].shape()) : ga,
                              gb.valid() ? detail::unbroadcast(gb, in[1].shape()) : gb};
  };
}

struct Prepared {
  Shape shape;
  ResultType type;
  bool traced;
};

/// Validates, broadcasts and promotes two operands to `compute` (in place).
Prepared prepare(Array& a, Array& b, const char* op, DType compute, bool weak) {
  detail::require_valid(a, op);
  detail::require_valid(b, op);
  Shape shape = detail::broadcast_shapes(a.shape(), b.shape(), op);
  a = detail::cast(std::move(a), compute);
  b = detail::cast(std::move(b), compute);
  return {std::move(shape), {compute, weak}, detail::any_traced(a, b)};
}

/// An arithmetic op whose result has the operands' promoted dtype. `Linear`: the rule reads no
/// value (add, subtract), so a traced op records shape-only operands and may write into one.
template <bool Linear = false, class F, class Partials>
Array arith(const char* op, Array a, Array b, F f, Partials partials) {
  const ResultType rt = checked_type(a, b, op);
  Prepared p = prepare(a, b, op, rt.dtype, rt.weak);
  Array out = run_binary<false>(a, b, p.shape, rt.dtype, rt.weak, !p.traced, f, Linear && p.traced);
  if (p.traced) {
    detail::RuleReads reads;
    if constexpr (Linear) reads = {.output = false, .values_of = 0};
    out = detail::record(op, out, {a, b}, binary_rule(partials), reads);
  }
  return out;
}

/// A comparison: operands promoted to their common dtype, a bool result, never differentiated.
template <class F>
Array compare(const char* op, Array a, Array b, F f) {
  const ResultType rt = checked_type(a, b, op);
  Prepared p = prepare(a, b, op, rt.dtype, false);
  return run_binary<true>(a, b, p.shape, rt.dtype, false, true, f);
}

/// A logical op: any dtype, nonzero is true.
template <class F>
Array logical(const char* op, Array a, Array b, F f) {
  Prepared p = prepare(a, b, op, DType::Bool, false);
  return run_binary<false>(a, b, p.shape, DType::Bool, false, true, f);
}

// ---- the unary driver
// ----------------------------------------------------------------------------

/// Runs `f` elementwise over `a` (already in `in_dtype`) into a result of `out_dtype`.
template <class TI, class TO, class F>
Array run_unary(const Array& a, DType out_dtype, bool may_reuse, F f) {
  if (a.is_abstract()) return detail::abstract(out_dtype, a.shape(), a.weak_type());
  Array out = detail::output_for(a, out_dtype, a.shape(), may_reuse);
  if (!out.valid()) out = detail::empty(out_dtype, a.shape());
  detail::unary_loop(a.size(), detail::mutable_data<TO>(out), static_cast<const TI*>(a.raw_data()),
                     f);
  return detail::with_weak(out, a.weak_type());
}

using UnaryRule = Array (*)(const Array& g, const Array& x, const Array& y);

// ---- vector math for float32
// --------------------------------------------------------------------- libm's exp, log, tanh, ...
// are one call per element and do not vectorize (GCC only calls their SIMD variants under
// -ffast-math). On float32 arrays jute calls those variants itself: glibc's libmvec (linked through
// libm), 10-30x faster per element, within 4 ulp of the exact result. Every element, the tail
// included, goes through the same vector function, so an element's result does not depend on its
// position. float64 keeps libm's scalar functions (float64 is for accuracy; these are the functions
// NumPy uses). Without AVX-512 or glibc, float32 does too.
using FloatBlock = void (*)(const float* in, float* out, std::int64_t n);

#if defined(__AVX512F__) && defined(__GLIBC__)
extern "C" {
__m512 _ZGVeN16v_expf(__m512);
__m512 _ZGVeN16v_logf(__m512);
__m512 _ZGVeN16v_log1pf(__m512);
__m512 _ZGVeN16v_expm1f(__m512);
__m512 _ZGVeN16v_tanhf(__m512);
__m512 _ZGVeN16v_erff(__m512);
__m512 _ZGVeN16v_sinf(__m512);
__m512 _ZGVeN16v_cosf(__m512);
}

/// Applies the 16-lane function V to n floats (the last partial block through masked loads).
template <__m512 (*V)(__m512)>
void block16(const float* in, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, V(_mm512_loadu_ps(in + i)));
  if (i < n) {
    const auto mask = static_cast<__mmask16>((1U << (n - i)) - 1U);
    _mm512_mask_storeu_ps(out + i, mask, V(_mm512_maskz_loadu_ps(mask, in + i)));
  }
}

__m512 sigmoid16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.f);
  return _mm512_div_ps(one,
                       _mm512_add_ps(one, _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

constexpr FloatBlock kVecExp = &block16<_ZGVeN16v_expf>;
constexpr FloatBlock kVecLog = &block16<_ZGVeN16v_logf>;
constexpr FloatBlock kVecLog1p = &block16<_ZGVeN16v_log1pf>;
constexpr FloatBlock kVecExpm1 = &block16<_ZGVeN16v_expm1f>;
constexpr FloatBlock kVecTanh = &block16<_ZGVeN16v_tanhf>;
constexpr FloatBlock kVecSigmoid = &block16<sigmoid16>;
constexpr FloatBlock kVecErf = &block16<_ZGVeN16v_erff>;
constexpr FloatBlock kVecSin = &block16<_ZGVeN16v_sinf>;
constexpr FloatBlock kVecCos = &block16<_ZGVeN16v_cosf>;
#else
constexpr FloatBlock kVecExp = nullptr, kVecLog = nullptr, kVecLog1p = nullptr, kVecExpm1 = nullptr,
                     kVecTanh = nullptr, kVecSigmoid = nullptr, kVecErf = nullptr,
                     kVecSin = nullptr, kVecCos = nullptr;
#endif

/// Float math: integer and bool inputs compute in float32. `f` is a generic functor; `vec32`,
/// when given, computes the float32 case a block at a time.
template <class F>
Array float_unary(const char* op, Array a, F f, UnaryRule rule, FloatBlock vec32 = nullptr) {
  detail::require_valid(a, op);
  const DType compute = detail::float_compute_dtype(a.dtype());
  const bool weak = a.weak_type();
  a = detail::cast(std::move(a), compute);
  const bool traced = rule && detail::any_traced(a);
  Array out = detail::visit_float(a.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, float>) {
      if (vec32 && !a.is_abstract()) {
        Array o = detail::output_for(a, a.dtype(), a.shape(), !traced);
        if (!o.valid()) o = detail::empty(a.dtype(), a.shape());
        const float* in = a.data<float>();
        float* dst = detail::mutable_data<float>(o);
        detail::parallel_for(a.size(), detail::kParallelGrain, [&](std::int64_t b, std::int64_t e) {
          vec32(in + b, dst + b, e - b);
        });
        return detail::with_weak(o, weak);
      }
    }
    return detail::with_weak(run_unary<T, T>(a, a.dtype(), !traced, [&](T x) -> T { return f(x); }),
                             weak);
  });
  if (traced)
    out = detail::record(op, out, {a},
                         [rule](const Array& g, const std::vector<Array>& in, const Array& y) {
                           return std::vector<Array>{rule(g, in[0], y)};
                         });
  return out;
}

/// An op defined for every dtype that keeps the input's dtype.
template <class F>
Array same_unary(const char* op, Array a, F f, UnaryRule rule) {
  detail::require_valid(a, op);
  const bool traced = rule && detail::any_traced(a);
  Array out = visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    return run_unary<T, T>(a, a.dtype(), !traced, [&](T x) -> T { return f(x); });
  });
  if (traced)
    out = detail::record(op, out, {a},
                         [rule](const Array& g, const std::vector<Array>& in, const Array& y) {
                           return std::vector<Array>{rule(g, in[0], y)};
                         });
  return out;
}

/// A predicate on elements (bool result, no derivative).
template <class F>
Array predicate(const char* op, Array a, F f) {
  detail::require_valid(a, op);
  return visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    return detail::with_weak(run_unary<T, bool>(a, DType::Bool, true, [&](T x) { return f(x); }),
                             false);
  });
}

// ---- elementwise functions --------------------------------------------------------------------

template <class T>
T max_nan(T x, T y) {
  if constexpr (std::is_floating_point_v<T>)
    return (x > y || x != x) ? x : y;
  else
    return x > y ? x : y;
}
template <class T>
T min_nan(T x, T y) {
  if constexpr (std::is_floating_point_v<T>)
    return (x < y || x != x) ? x : y;
  else
    return x < y ? x : y;
}

// Integer power by squaring with wraparound; a negative exponent is an error (as NumPy).
template <class T>
T int_power(T base, T exponent) {
  using U = std::make_unsigned_t<T>;
  if constexpr (std::is_signed_v<T>) {
    if (exponent < 0)
      throw ValueError(
          "[power] Integers to negative integer powers are not allowed; convert the "
          "base to a float dtype first.");
  }
  U result = 1, b = static_cast<U>(base);
  for (U e = static_cast<U>(exponent); e != 0; e >>= 1) {
    if (e & 1U) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
  }
  return static_cast<T>(result);
}

/// The share of a maximum/minimum's cotangent that goes to `mine` (JAX's rule): 1 where it alone
/// produced the result, 1/2 where both operands tie, 0 elsewhere; in the cotangent's dtype.
Array tie_share(const Array& mine, const Array& other, const Array& out, DType dtype) {
  Array wins = equal(mine, out).astype(dtype);
  Array ties = equal(other, out).astype(dtype);
  return wins * (1 - ties * 0.5);
}

}  // namespace

// ---- arithmetic
// ------------------------------------------------------------------------------------

Array add(Array a, Array b) {
  return arith</*Linear=*/true>(
      "add", std::move(a), std::move(b),
      [](auto x, auto y) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x || y;
        else if constexpr (is_int_v<T>)
          return wrapping(x, y, [](auto u, auto v) { return u + v; });
        else
          return x + y;
      },
      [](const Array& g, const Array&, const Array&, const Array&) {
        return std::pair<Array, Array>{g, g};
      });
}

Array subtract(Array a, Array b) {
  const ResultType rt = checked_type(a, b, "subtract");
  if (rt.dtype == DType::Bool)
    bool_error("subtract",
               "Subtracting bool arrays is not supported; use logical_xor, or convert "
               "the operands to an integer dtype first.");
  return arith</*Linear=*/true>(
      "subtract", std::move(a), std::move(b),
      [](auto x, auto y) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x != y;  // unreachable (checked above)
        else if constexpr (is_int_v<T>)
          return wrapping(x, y, [](auto u, auto v) { return u - v; });
        else
          return x - y;
      },
      [](const Array& g, const Array&, const Array&, const Array&) {
        return std::pair<Array, Array>{g, negative(g)};
      });
}

Array multiply(Array a, Array b) {
  return arith(
      "multiply", std::move(a), std::move(b),
      [](auto x, auto y) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x && y;
        else if constexpr (is_int_v<T>)
          return wrapping(x, y, [](auto u, auto v) { return u * v; });
        else
          return x * y;
      },
      [](const Array& g, const Array& x, const Array& y, const Array&) {
        return std::pair<Array, Array>{g * y, g * x};
      });
}

Array divide(Array a, Array b) {
  ResultType rt = checked_type(a, b, "divide");
  rt.dtype = detail::float_compute_dtype(rt.dtype);
  Prepared p = prepare(a, b, "divide", rt.dtype, rt.weak);
  Array out = detail::visit_float(rt.dtype, [&](auto t) {
    using T = decltype(t);
    return run_binary<false>(a, b, p.shape, rt.dtype, rt.weak, !p.traced,
                             [](T x, T y) { return x / y; });
  });
  if (p.traced)
    out = detail::record(
        "divide", out, {a, b},
        binary_rule([](const Array& g, const Array&, const Array& y, const Array& q) {
          Array ga = g / y;
          return std::pair<Array, Array>{ga, negative(ga * q)};
        }));
  return out;
}

Array power(Array a, Array b) {
  const ResultType rt = checked_type(a, b, "power");
  if (rt.dtype == DType::Bool)
    bool_error("power", "Both operands are bool; convert one to an integer or float dtype first.");
  return arith(
      "power", std::move(a), std::move(b),
      [](auto x, auto y) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x || !y;  // unreachable (checked above)
        else if constexpr (is_int_v<T>)
          return int_power(x, y);
        else
          return std::pow(x, y);
      },
      // JAX's rules: d/dx = y * x^(y-1), taken as 0 where y == 0 (so 0^0 has gradient 0);
      // d/dy = log(x) * x^y, with log(x) taken as 0 where x == 0.
      [](const Array& g, const Array& x, const Array& y, const Array& out) {
        Array dx = where(equal(y, 0), Array(0.0), y * power(x, y - 1));
        Array x_safe = where(equal(x, 0), Array(1.0), x);
        return std::pair<Array, Array>{g * dx, g * (out * log(x_safe))};
      });
}

Array maximum(Array a, Array b) {
  return arith(
      "maximum", std::move(a), std::move(b), [](auto x, auto y) { return max_nan(x, y); },
      // JAX's rule: the larger operand gets the gradient; at a tie each side gets half.
      [](const Array& g, const Array& x, const Array& y, const Array& out) {
        return std::pair<Array, Array>{g * tie_share(x, y, out, g.dtype()),
                                       g * tie_share(y, x, out, g.dtype())};
      });
}

Array minimum(Array a, Array b) {
  return arith(
      "minimum", std::move(a), std::move(b), [](auto x, auto y) { return min_nan(x, y); },
      [](const Array& g, const Array& x, const Array& y, const Array& out) {
        return std::pair<Array, Array>{g * tie_share(x, y, out, g.dtype()),
                                       g * tie_share(y, x, out, g.dtype())};
      });
}

// ---- unary
// ---------------------------------------------------------------------------------------

Array negative(Array a) {
  detail::require_valid(a, "negative");
  if (a.dtype() == DType::Bool)
    bool_error("negative", "Cannot negate a bool array; use logical_not instead.");
  return same_unary(
      "negative", std::move(a),
      [](auto x) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x;  // unreachable (checked above)
        else if constexpr (is_int_v<T>)
          return wrapping(T{0}, x, [](auto u, auto v) { return u - v; });
        else
          return -x;
      },
      [](const Array& g, const Array&, const Array&) { return negative(g); });
}

Array abs(Array a) {
  return same_unary(
      "abs", std::move(a),
      [](auto x) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>)
          return x;
        else if constexpr (is_int_v<T>)
          return x < 0 ? wrapping(T{0}, x, [](auto u, auto v) { return u - v; }) : x;
        else
          return std::fabs(x);
      },
      // JAX: the derivative at 0 is +1.
      [](const Array& g, const Array& x, const Array&) {
        return where(greater_equal(x, 0), g, negative(g));
      });
}

Array sign(Array a) {
  detail::require_valid(a, "sign");
  if (a.dtype() == DType::Bool)
    bool_error("sign", "sign is not defined for bool arrays; convert to an integer dtype first.");
  // Zero derivative: not recorded, so the result is a constant for autodiff.
  return same_unary(
      "sign", std::move(a),
      [](auto x) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_floating_point_v<T>)
          return x > 0 ? T(1) : (x < 0 ? T(-1) : (x == 0 ? T(0) : x));
        else if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, bool>)
          return x != 0 ? T(1) : T(0);
        else
          return static_cast<T>((x > 0) - (x < 0));
      },
      nullptr);
}

Array exp(Array a) {
  return float_unary(
      "exp", std::move(a), [](auto x) { return std::exp(x); },
      [](const Array& g, const Array&, const Array& y) { return g * y; }, kVecExp);
}

Array log(Array a) {
  return float_unary(
      "log", std::move(a), [](auto x) { return std::log(x); },
      [](const Array& g, const Array& x, const Array&) { return g / x; }, kVecLog);
}

Array log1p(Array a) {
  return float_unary(
      "log1p", std::move(a), [](auto x) { return std::log1p(x); },
      [](const Array& g, const Array& x, const Array&) { return g / (x + 1); }, kVecLog1p);
}

Array expm1(Array a) {
  return float_unary(
      "expm1", std::move(a), [](auto x) { return std::expm1(x); },
      [](const Array& g, const Array&, const Array& y) { return g * (y + 1); }, kVecExpm1);
}

Array sqrt(Array a) {
  return float_unary(
      "sqrt", std::move(a), [](auto x) { return std::sqrt(x); },
      [](const Array& g, const Array&, const Array& y) { return g / (y * 2); });
}

Array rsqrt(Array a) {
  return float_unary(
      "rsqrt", std::move(a),
      [](auto x) {
        using T = decltype(x);
        return T(1) / std::sqrt(x);
      },
      // d/dx x^(-1/2) = -1/2 · x^(-1/2) / x
      [](const Array& g, const Array& x, const Array& y) { return g * (y / x) * -0.5; });
}

Array square(Array a) {
  return same_unary(
      "square", std::move(a),
      [](auto x) -> decltype(x) {
        using T = decltype(x);
        if constexpr (std::is_same_v<T, bool>)
          return x;
        else if constexpr (is_int_v<T>)
          return wrapping(x, x, [](auto u, auto v) { return u * v; });
        else
          return x * x;
      },
      [](const Array& g, const Array& x, const Array&) { return g * (x * 2); });
}

Array reciprocal(Array a) {
  return float_unary(
      "reciprocal", std::move(a),
      [](auto x) {
        using T = decltype(x);
        return T(1) / x;
      },
      [](const Array& g, const Array&, const Array& y) { return negative(g * square(y)); });
}

Array tanh(Array a) {
  return float_unary(
      "tanh", std::move(a), [](auto x) { return std::tanh(x); },
      [](const Array& g, const Array&, const Array& y) { return g * (1 - square(y)); }, kVecTanh);
}

Array sigmoid(Array a) {
  return float_unary(
      "sigmoid", std::move(a),
      [](auto x) {
        using T = decltype(x);
        return T(1) / (T(1) + std::exp(-x));
      },
      [](const Array& g, const Array&, const Array& y) { return g * (y * (1 - y)); }, kVecSigmoid);
}

Array erf(Array a) {
  return float_unary(
      "erf", std::move(a), [](auto x) { return std::erf(x); },
      [](const Array& g, const Array& x, const Array&) {
        // d/dx erf(x) = 2/sqrt(pi) · exp(-x²)
        return g * (exp(negative(square(x))) * detail::weak_scalar(1.1283791670955126, x.dtype()));
      },
      kVecErf);
}

Array sin(Array a) {
  return float_unary(
      "sin", std::move(a), [](auto x) { return std::sin(x); },
      [](const Array& g, const Array& x, const Array&) { return g * cos(x); }, kVecSin);
}

Array cos(Array a) {
  return float_unary(
      "cos", std::move(a), [](auto x) { return std::cos(x); },
      [](const Array& g, const Array& x, const Array&) { return negative(g * sin(x)); }, kVecCos);
}

// floor, ceil and round keep integer and bool inputs unchanged (as JAX) and have zero derivative
// (not recorded).
namespace {
template <class F>
Array rounding(const char* op, Array a, F f) {
  return same_unary(
      op, std::move(a),
      [f](auto x) -> decltype(x) {
        if constexpr (std::is_floating_point_v<decltype(x)>)
          return f(x);
        else
          return x;
      },
      nullptr);
}
}  // namespace

Array floor(Array a) {
  return rounding("floor", std::move(a), [](auto x) { return std::floor(x); });
}
Array ceil(Array a) {
  return rounding("ceil", std::move(a), [](auto x) { return std::ceil(x); });
}
// nearbyint rounds half to even in the default rounding mode, which jute never changes.
Array round(Array a) {
  return rounding("round", std::move(a), [](auto x) { return std::nearbyint(x); });
}

// ---- clip and where ----------------------------------------------------------------------------

Array clip(Array a, Array lo, Array hi) {
  detail::require_valid(a, "clip");
  detail::require_valid(lo, "clip");
  detail::require_valid(hi, "clip");
  const ResultType rt =
      detail::result_type(detail::result_type(a, lo), ResultType{hi.dtype(), hi.weak_type()});
  Shape shape = detail::broadcast_shapes({&a.shape(), &lo.shape(), &hi.shape()}, "clip");
  a = detail::cast(std::move(a), rt.dtype);
  lo = detail::cast(std::move(lo), rt.dtype);
  hi = detail::cast(std::move(hi), rt.dtype);
  const bool traced = detail::any_traced(a, lo, hi);
  Array out = detail::output_for(a, rt.dtype, shape, !traced);
  if (detail::any_abstract(a, lo, hi)) {
    out = detail::abstract(rt.dtype, shape);
  } else {
    if (!out.valid()) out = detail::empty(rt.dtype, shape);
    const auto plan = detail::make_plan<3>(shape, {&a.shape(), &lo.shape(), &hi.shape()});
    visit_dtype(rt.dtype, [&](auto t) {
      using T = decltype(t);
      detail::ternary_loop(plan, detail::mutable_data<T>(out), a.data<T>(), lo.data<T>(),
                           hi.data<T>(), [](T x, T l, T h) { return min_nan(max_nan(x, l), h); });
    });
  }
  out = detail::with_weak(out, rt.weak);
  if (traced)
    // The gradient goes to x where lo <= x <= hi, to hi where the result came from hi, and to lo
    // otherwise (x < lo <= hi); each element's cotangent goes to exactly one operand.
    out = detail::record(
        "clip", out, {a, lo, hi}, [](const Array& g, const std::vector<Array>& in, const Array&) {
          const Array& x = in[0];
          const Array& l = in[1];
          const Array& h = in[2];
          Array in_range = logical_and(less_equal(l, x), less_equal(x, h));
          Array from_hi = logical_and(logical_not(in_range), greater(maximum(x, l), h));
          Array from_lo = logical_not(logical_or(in_range, from_hi));
          Array zero = zeros_like(g);
          return std::vector<Array>{detail::unbroadcast(where(in_range, g, zero), x.shape()),
                                    detail::unbroadcast(where(from_lo, g, zero), l.shape()),
                                    detail::unbroadcast(where(from_hi, g, zero), h.shape())};
        });
  return out;
}

Array where(const Array& cond, Array a, Array b) {
  detail::require_valid(cond, "where");
  if (cond.dtype() != DType::Bool)
    throw DtypeError("[where] The condition must be bool, got " + detail::dtype_str(cond.dtype()) +
                     "; compare it (e.g. x > 0) or use astype(bool_).");
  const ResultType rt = checked_type(a, b, "where");
  Shape shape = detail::broadcast_shapes({&cond.shape(), &a.shape(), &b.shape()}, "where");
  a = detail::cast(std::move(a), rt.dtype);
  b = detail::cast(std::move(b), rt.dtype);
  const bool traced = detail::any_traced(a, b);
  Array out;
  if (detail::any_abstract(cond, a, b)) {
    out = detail::abstract(rt.dtype, shape);
  } else {
    // The rule reads only the condition, so a traced where may write into a branch too.
    const auto pick = [&](const Array& c) {
      return traced ? detail::output_for_traced(c, rt.dtype, shape)
                    : detail::output_for(c, rt.dtype, shape, true);
    };
    out = pick(a);
    if (!out.valid()) out = pick(b);
    if (!out.valid()) out = detail::empty(rt.dtype, shape);
    const auto plan = detail::make_plan<3>(shape, {&cond.shape(), &a.shape(), &b.shape()});
    visit_dtype(rt.dtype, [&](auto t) {
      using T = decltype(t);
      // The condition is read as bytes (0 or 1): GCC vectorizes the select then, but not with
      // bool loads (a branch per element, mispredicted half the time on relu's input).
      const auto* c = reinterpret_cast<const std::uint8_t*>(cond.data<bool>());
      detail::ternary_loop(plan, detail::mutable_data<T>(out), c, a.data<T>(), b.data<T>(),
                           [](std::uint8_t c, T x, T y) { return c ? x : y; });
    });
  }
  out = detail::with_weak(out, rt.weak);
  if (traced)
    out = detail::record("where", out, {cond, a, b},
                         [](const Array& g, const std::vector<Array>& in, const Array&) {
                           // A scalar zero (broadcast by where, no zero-filled array), and no
                           // cotangent for an operand no trace follows (relu's constant 0 would
                           // cost a full reduction).
                           const Array zero = detail::weak_scalar(0.0, g.dtype());
                           const auto branch = [&](std::size_t k, const Array& ct) {
                             return detail::may_need_cotangent(in[k])
                                        ? detail::unbroadcast(ct, in[k].shape())
                                        : Array();
                           };
                           return std::vector<Array>{Array(), branch(1, where(in[0], g, zero)),
                                                     branch(2, where(in[0], zero, g))};
                         },
                         {.output = false, .values_of = 1});
  return out;
}

// ---- comparisons and logic ---------------------------------------------------------------------

Array equal(Array a, Array b) {
  return compare("equal", std::move(a), std::move(b), [](auto x, auto y) { return x == y; });
}
Array not_equal(Array a, Array b) {
  return compare("not_equal", std::move(a), std::move(b), [](auto x, auto y) { return x != y; });
}
Array less(Array a, Array b) {
  return compare("less", std::move(a), std::move(b), [](auto x, auto y) { return x < y; });
}
Array less_equal(Array a, Array b) {
  return compare("less_equal", std::move(a), std::move(b), [](auto x, auto y) { return x <= y; });
}
Array greater(Array a, Array b) {
  return compare("greater", std::move(a), std::move(b), [](auto x, auto y) { return x > y; });
}
Array greater_equal(Array a, Array b) {
  return compare("greater_equal", std::move(a), std::move(b),
                 [](auto x, auto y) { return x >= y; });
}

Array logical_and(Array a, Array b) {
  return logical("logical_and", std::move(a), std::move(b), [](bool x, bool y) { return x && y; });
}
Array logical_or(Array a, Array b) {
  return logical("logical_or", std::move(a), std::move(b), [](bool x, bool y) { return x || y; });
}
Array logical_xor(Array a, Array b) {
  return logical("logical_xor", std::move(a), std::move(b), [](bool x, bool y) { return x != y; });
}
Array logical_not(Array a) {
  detail::require_valid(a, "logical_not");
  a = detail::cast(std::move(a), DType::Bool);
  return detail::with_weak(run_unary<bool, bool>(a, DType::Bool, true, [](bool x) { return !x; }),
                           false);
}

Array isfinite(Array a) {
  return predicate("isfinite", std::move(a), [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>)
      return std::isfinite(x);
    else
      return true;
  });
}
Array isnan(Array a) {
  return predicate("isnan", std::move(a), [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>)
      return x != x;
    else
      return false;
  });
}

}  // namespace jute
