// The per-leaf formulas of the optimizer transformations (see kernels.hpp).
//
// Each formula is written once, as a generic lambda over a value type V, and runs two ways:
//   - V = float or double: inside one loop over the raw buffers (`fused` below). One pass per
//     leaf instead of one op call — a fresh buffer written and read back — per sub-expression,
//     which is what the ~10 ops of an Adam update would cost.
//   - V = Array: on jute ops, when an input is being differentiated, so a traced update records
//     itself like any other computation.
// The terms appear in Optax's order ((1-b1)*g + b1*mu, not b1*mu + (1-b1)*g) and the build
// forbids fp contraction, so both paths round as XLA does. This file is compiled with
// -fno-math-errno (see CMakeLists.txt) so that loops calling sqrt vectorize.
#include "optim/kernels.hpp"

#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

#include "core/array_impl.hpp"
#include "core/trace.hpp"
#include "jute/ops.hpp"

namespace jute::optim::detail {

namespace {

// ---- the scalar vocabulary shared by both paths ----------------------------------------------

template <class T>
requires std::is_floating_point_v<T> T vsqrt(T x) { return std::sqrt(x); }
Array vsqrt(const Array& x) { return jute::sqrt(x); }

template <class T>
requires std::is_floating_point_v<T> T vrsqrt(T x) { return T(1) / std::sqrt(x); }
Array vrsqrt(const Array& x) { return jute::rsqrt(x); }

template <class T>
requires std::is_floating_point_v<T> T vsign(T x) {
  return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);  // ±0 and NaN map to themselves, as lax.sign
}
Array vsign(const Array& x) { return jute::sign(x); }

template <class T>
requires std::is_floating_point_v<T> T vabs(T x) { return std::abs(x); }
Array vabs(const Array& x) { return jute::abs(x); }

template <class T>
requires std::is_floating_point_v<T> T vtanh(T x) { return std::tanh(x); }
Array vtanh(const Array& x) { return jute::tanh(x); }

template <class T>
requires std::is_floating_point_v<T> T vselect(bool c, T a, T b) { return c ? a : b; }
Array vselect(const Array& c, const Array& a, const Array& b) { return jute::where(c, a, b); }

/// jnp.maximum: NaN propagating.
template <class T>
requires std::is_floating_point_v<T> T vmaximum(T a, T b) {
  return (a != a || b != b) ? a + b : (a < b ? b : a);
}
Array vmaximum(const Array& a, const Array& b) { return jute::maximum(a, b); }

/// jnp.clip: maximum(lo, x) then minimum(hi, x), NaN propagating.
template <class T>
requires std::is_floating_point_v<T> T vclip(T x, T lo, T hi) {
  return x != x ? x : (x < lo ? lo : (x > hi ? hi : x));
}
Array vclip(const Array& x, const Array& lo, const Array& hi) { return jute::clip(x, lo, hi); }

// ---- the driver ------------------------------------------------------------------------------

template <class T, std::size_t NOut, std::size_t NIn, std::size_t NK, class F, std::size_t... I,
          std::size_t... O>
void run_loop(std::int64_t n, const std::array<const T*, NIn>& in, const std::array<T*, NOut>& out,
              const std::array<T, NK>& k, const F& f, std::index_sequence<I...>,
              std::index_sequence<O...>) {
  // Pointers and constants as locals (not loaded through references every iteration), and no
  // aliasing between the fresh outputs and the inputs: the loop vectorizes.
  const auto src = std::make_tuple(in[I]...);
  const auto dst = std::make_tuple(out[O]...);
  const std::array<T, NK> kk = k;
  const F body = f;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
  for (std::int64_t i = 0; i < n; ++i) {
    const auto r = body(kk, std::get<I>(src)[i]...);
    ((std::get<O>(dst)[i] = r[O]), ...);
  }
}

template <std::size_t N>
constexpr std::array<int, N> no_reuse() {
  std::array<int, N> r{};
  r.fill(-1);
  return r;
}

/// Runs `f(k, x...)` element-wise over the inputs converted to `dt`, with the constants `k`
/// rounded to `dt`; returns NOut Arrays of `dt`. Output o is written into the buffer of input
/// `reuse[o]` when nobody else can see that buffer (the caller moved a temporary in: see
/// jute::detail::can_reuse); otherwise into a fresh one. Every input is read at an index before
/// any output is written there, so writing in place is safe.
template <std::size_t NOut, std::size_t NIn, std::size_t NK, class F>
std::array<Array, NOut> fused(DType dt, std::array<Array, NIn> in, const std::array<double, NK>& k,
                              const F& f, const std::array<int, NOut>& reuse = no_reuse<NOut>()) {
  bool traced = false;
  for (std::size_t j = 0; j < NIn; ++j) {
    traced = traced || jute::detail::any_traced(in[j]);
    in[j] = in[j].astype(dt);
  }
  if (traced) {
    std::array<Array, NK> kc;
    for (std::size_t j = 0; j < NK; ++j) kc[j] = Array::scalar(k[j], dt);
    return std::apply([&](const auto&... xs) { return f(kc, xs...); }, in);
  }
  return visit_dtype(dt, [&](auto zero) -> std::array<Array, NOut> {
    using T = decltype(zero);
    if constexpr (!std::is_floating_point_v<T>) {
      throw DtypeError("[optim] Optimizer formulas compute in float32 or float64, not " +
                       std::string(name(dt)) + ".");
    } else {
      std::array<T, NK> kt;
      for (std::size_t j = 0; j < NK; ++j) kt[j] = static_cast<T>(k[j]);
      std::array<Array, NOut> out;
      std::array<T*, NOut> dst;
      for (std::size_t o = 0; o < NOut; ++o) {
        const int r = reuse[o];
        const bool own = r >= 0 && jute::detail::can_reuse(in[static_cast<std::size_t>(r)]);
        out[o] = own ? in[static_cast<std::size_t>(r)] : jute::detail::empty(dt, in[0].shape());
        dst[o] = jute::detail::mutable_data<T>(out[o]);
      }
      std::array<const T*, NIn> src;
      for (std::size_t j = 0; j < NIn; ++j) src[j] = in[j].template data<T>();
      run_loop<T>(in[0].size(), src, dst, kt, f, std::make_index_sequence<NIn>{},
                  std::make_index_sequence<NOut>{});
      return out;
    }
  });
}

template <class V>
using Arr = std::array<V, 1>;

/// A one-output formula as the driver wants it.
template <std::size_t NIn, std::size_t NK, class F>
Array fused1(DType dt, std::array<Array, NIn> in, const std::array<double, NK>& k, const F& f,
             int reuse = -1) {
  return fused<1>(
      dt, std::move(in), k,
      [f](const auto& kk, const auto&... xs) {
        using V = std::decay_t<decltype(f(kk, xs...))>;
        return Arr<V>{f(kk, xs...)};
      },
      std::array<int, 1>{reuse})[0];
}

}  // namespace

DType compute_dtype(const Array& a, const Array& b) { return promote_types(a.dtype(), b.dtype()); }

double bias_correction(double decay, std::int64_t count, DType dtype) {
  if (dtype == float64) return 1.0 - std::pow(decay, static_cast<double>(count));
  const float d = static_cast<float>(decay);
  return 1.0f - std::pow(d, static_cast<float>(count));
}

namespace {

// Formulas shared by a transformation and its fused "update and apply" form.

/// `s * g`, constants {s}.
constexpr auto kScale = [](const auto& k, const auto& x) {
  return Arr<std::decay_t<decltype(x)>>{k[0] * x};
};

/// Momentum (Optax's trace), constants {decay, post}: {post * u, new trace}.
constexpr auto kTrace = [](const auto& k, const auto& x, const auto& t) {
  const auto t2 = x + k[0] * t;
  return std::array{k[1] * t2, t2};
};
constexpr auto kNesterovTrace = [](const auto& k, const auto& x, const auto& t) {
  const auto t2 = x + k[0] * t;
  return std::array{k[1] * (x + k[0] * t2), t2};
};

/// `f` with the parameter as a first extra input and `p + u` in place of its update u: rounded
/// as apply_update_leaf rounds the sum when everything has one dtype.
template <class F>
auto applied(F f) {
  return [f](const auto& k, const auto& p, const auto&... xs) {
    auto r = f(k, xs...);
    r[0] = p + r[0];
    return r;
  };
}

bool one_dtype(const Array& a, const Array& b) { return a.dtype() == b.dtype(); }

}  // namespace

Array scale_leaf(Array g, double s) {
  const DType dt = g.dtype();
  return fused<1>(dt, std::array{std::move(g)}, std::array{s}, kScale, std::array{0})[0];
}

Array sgd_apply_leaf(Array p, Array g, double s) {
  if (!one_dtype(p, g)) return apply_update_leaf(std::move(p), scale_leaf(std::move(g), s));
  const DType dt = p.dtype();
  return fused<1>(dt, std::array{std::move(p), std::move(g)}, std::array{s}, applied(kScale),
                  std::array{0})[0];
}

std::array<Array, 2> momentum_apply_leaf(Array p, Array g, Array trace, double decay, bool nesterov,
                                         double s, std::optional<DType> accumulator_dtype) {
  const DType dt = p.dtype();
  if (!one_dtype(p, g) || !one_dtype(p, trace) || (accumulator_dtype && *accumulator_dtype != dt)) {
    auto r = trace_leaf(std::move(g), std::move(trace), decay, nesterov, s);
    if (accumulator_dtype) r[1] = r[1].astype(*accumulator_dtype);
    return {apply_update_leaf(std::move(p), std::move(r[0])), std::move(r[1])};
  }
  std::array in{std::move(p), std::move(g), std::move(trace)};
  const std::array k{decay, s};
  const std::array reuse{0, 2};
  return nesterov ? fused<2>(dt, std::move(in), k, applied(kNesterovTrace), reuse)
                  : fused<2>(dt, std::move(in), k, applied(kTrace), reuse);
}

Array scale_leaf(Array g, const Array& s) {
  if (jute::detail::any_traced(g, s)) return s.astype(g.dtype()) * g;
  return scale_leaf(std::move(g), s.item<double>());
}

Array divide_leaf(Array g, const Array& d) {
  if (jute::detail::any_traced(g, d)) return g / d.astype(g.dtype());
  const DType dt = g.dtype();
  return fused1(
      dt, std::array{std::move(g)}, std::array{d.item<double>()},
      [](const auto& k, const auto& x) { return x / k[0]; }, 0);
}

Array add_scaled_leaf(Array g, Array p, double s, double post) {
  const DType dt = compute_dtype(g, p);
  return fused1(
      dt, std::array{std::move(g), std::move(p)}, std::array{s, post},
      [](const auto& k, const auto& x, const auto& y) { return k[1] * (x + k[0] * y); }, 0);
}

Array apply_update_leaf(Array p, Array u) {
  const DType p_dtype = p.dtype();
  const DType dt = promote_types(p_dtype, u.dtype());
  if (!is_floating(dt)) return add(std::move(p), std::move(u)).astype(p_dtype);
  return fused1(
             dt, std::array{std::move(p), std::move(u)}, std::array<double, 0>{},
             [](const auto&, const auto& x, const auto& y) { return x + y; }, 0)
      .astype(p_dtype);
}

Array incremental_leaf(Array new_value, Array old_value, double step) {
  const DType dt = compute_dtype(new_value, old_value);
  return fused1(
      dt, std::array{std::move(new_value), std::move(old_value)}, std::array{step, 1.0 - step},
      [](const auto& k, const auto& a, const auto& b) { return k[0] * a + k[1] * b; }, 1);
}

std::array<Array, 2> trace_leaf(Array g, Array trace, double decay, bool nesterov, double post) {
  const DType dt = compute_dtype(g, trace);
  std::array in{std::move(g), std::move(trace)};
  const std::array k{decay, post};
  const std::array reuse{0, 1};
  return nesterov ? fused<2>(dt, std::move(in), k, kNesterovTrace, reuse)
                  : fused<2>(dt, std::move(in), k, kTrace, reuse);
}

std::array<Array, 2> ema_leaf(Array g, Array ema, double decay, std::int64_t debias_count) {
  const DType dt = compute_dtype(g, ema);
  if (debias_count > 0) {
    return fused<2>(
        dt, std::array{std::move(g), std::move(ema)},
        std::array{1.0 - decay, decay, bias_correction(decay, debias_count, dt)},
        [](const auto& k, const auto& x, const auto& e) {
          const auto e2 = k[0] * x + k[1] * e;
          return std::array{e2 / k[2], e2};
        },
        std::array{0, 1});
  }
  return fused<2>(
      dt, std::array{std::move(g), std::move(ema)}, std::array{1.0 - decay, decay},
      [](const auto& k, const auto& x, const auto& e) {
        const auto e2 = k[0] * x + k[1] * e;
        return std::array{e2, e2};
      },
      std::array{0, 1});
}

namespace {

/// Adam's formula for `o` at count t in `dt`: calls `run(k, f)` with the constants and the
/// per-element formula `f(k, g, mu, nu) -> {post * u, mu, nu}`.
template <class Run>
auto with_adam_formula(const AdamOptions& o, std::int32_t t, double post, DType dt, Run run) {
  const double bc1 = bias_correction(o.b1, t, dt);
  const double bc2 = bias_correction(o.b2, t, dt);
  if (o.nesterov) {
    // b1 * mu/(1 - b1^(t+1)) + (1 - b1) * g/(1 - b1^t).
    const double bc1_next = bias_correction(o.b1, static_cast<std::int64_t>(t) + 1, dt);
    const std::array k{1.0 - o.b1, o.b1,       1.0 - o.b2, o.b2,     bc1,
                       bc2,        o.eps_root, o.eps,      bc1_next, post};
    return run(k, [](const auto& k, const auto& x, const auto& m, const auto& v) {
      const auto m2 = k[0] * x + k[1] * m;
      const auto v2 = k[2] * (x * x) + k[3] * v;
      const auto m_hat = k[1] * (m2 / k[8]) + k[0] * (x / k[4]);
      const auto u = m_hat / (vsqrt(v2 / k[5] + k[6]) + k[7]);
      return std::array{k[9] * u, m2, v2};
    });
  }
  const std::array k{1.0 - o.b1, o.b1, 1.0 - o.b2, o.b2, bc1, bc2, o.eps_root, o.eps, post};
  return run(k, [](const auto& k, const auto& x, const auto& m, const auto& v) {
    const auto m2 = k[0] * x + k[1] * m;
    const auto v2 = k[2] * (x * x) + k[3] * v;
    const auto u = (m2 / k[4]) / (vsqrt(v2 / k[5] + k[6]) + k[7]);
    return std::array{k[8] * u, m2, v2};
  });
}

}  // namespace

std::array<Array, 3> adam_leaf(Array g, Array mu, Array nu, const AdamOptions& o, std::int32_t t,
                               double post) {
  const DType dt = promote_types(compute_dtype(g, mu), nu.dtype());
  std::array in{std::move(g), std::move(mu), std::move(nu)};
  return with_adam_formula(o, t, post, dt, [&](const auto& k, const auto& f) {
    return fused<3>(dt, std::move(in), k, f, std::array{0, 1, 2});
  });
}

std::array<Array, 3> adam_apply_leaf(Array p, Array g, Array mu, Array nu, const AdamOptions& o,
                                     std::int32_t t, double post) {
  const DType dt = p.dtype();
  if (!one_dtype(p, g) || !one_dtype(p, mu) || !one_dtype(p, nu) ||
      (o.mu_dtype && *o.mu_dtype != dt)) {
    const DType nu_dtype = nu.dtype();
    auto r = adam_leaf(std::move(g), std::move(mu), std::move(nu), o, t, post);
    if (o.mu_dtype) r[1] = r[1].astype(*o.mu_dtype);
    r[2] = r[2].astype(nu_dtype);
    return {apply_update_leaf(std::move(p), std::move(r[0])), std::move(r[1]), std::move(r[2])};
  }
  std::array in{std::move(p), std::move(g), std::move(mu), std::move(nu)};
  return with_adam_formula(o, t, post, dt, [&](const auto& k, const auto& f) {
    return fused<3>(dt, std::move(in), k, applied(f), std::array{0, 2, 3});
  });
}

namespace {

/// RMSprop's scaling of a second-moment estimate: rsqrt(v + eps), eps inside the root (Optax's
/// default), or 1 / (sqrt(v) + eps).
template <bool EpsInSqrt, class V, class K>
V rms_scaling(const V& v, const K& eps, const K& one) {
  if constexpr (EpsInSqrt) {
    return vrsqrt(v + eps);
  } else {
    return one / (vsqrt(v) + eps);
  }
}

/// Calls `f(std::bool_constant<b>{})` for the runtime flag `b`.
template <class F>
auto with_flag(bool b, const F& f) {
  return b ? f(std::true_type{}) : f(std::false_type{});
}

}  // namespace

std::array<Array, 2> rms_leaf(Array g, Array nu, const RmsOptions& o, std::int32_t t, double post) {
  const DType dt = compute_dtype(g, nu);
  // Without bias correction the divisor is 1 (exact, so the formula is unchanged).
  const double bc = o.bias_correction ? bias_correction(o.decay, t, dt) : 1.0;
  const std::array k{1.0 - o.decay, o.decay, bc, o.eps, 1.0, post};
  return with_flag(o.eps_in_sqrt, [&](auto in_sqrt) {
    return fused<2>(
        dt, std::array{std::move(g), std::move(nu)}, k,
        [](const auto& k, const auto& x, const auto& v) {
          const auto v2 = k[0] * (x * x) + k[1] * v;
          return std::array{
              k[5] * (rms_scaling<decltype(in_sqrt)::value>(v2 / k[2], k[3], k[4]) * x), v2};
        },
        std::array{0, 1});
  });
}

std::array<Array, 3> stddev_leaf(Array g, Array mu, Array nu, const RmsOptions& o, std::int32_t t,
                                 double post) {
  const DType dt = promote_types(compute_dtype(g, mu), nu.dtype());
  const double bc = o.bias_correction ? bias_correction(o.decay, t, dt) : 1.0;
  const std::array k{1.0 - o.decay, o.decay, bc, o.eps, 1.0, post};
  return with_flag(o.eps_in_sqrt, [&](auto in_sqrt) {
    return fused<3>(
        dt, std::array{std::move(g), std::move(mu), std::move(nu)}, k,
        [](const auto& k, const auto& x, const auto& m, const auto& v) {
          const auto m2 = k[0] * x + k[1] * m;
          const auto v2 = k[0] * (x * x) + k[1] * v;
          const auto m_hat = m2 / k[2];
          const auto var = v2 / k[2] - m_hat * m_hat;
          return std::array{k[5] * (rms_scaling<decltype(in_sqrt)::value>(var, k[3], k[4]) * x), m2,
                            v2};
        },
        std::array{0, 1, 2});
  });
}

std::array<Array, 2> rss_leaf(Array g, Array sum_of_squares, double eps, double post) {
  const DType dt = compute_dtype(g, sum_of_squares);
  return fused<2>(
      dt, std::array{std::move(g), std::move(sum_of_squares)}, std::array{eps, 0.0, post},
      [](const auto& k, const auto& x, const auto& s) {
        const auto s2 = x * x + s;
        const auto inv = vselect(s2 > k[1], vrsqrt(s2 + k[0]), k[1]);
        return std::array{k[2] * (inv * x), s2};
      },
      std::array{0, 1});
}

std::array<Array, 2> lion_leaf(Array g, Array mu, const LionOptions& o) {
  const DType dt = compute_dtype(g, mu);
  const std::array k{1.0 - o.b1, o.b1, 1.0 - o.b2, o.b2, o.smooth_beta, 1.0};
  switch (o.mode) {
    case LionMode::Smooth:
      return fused<2>(
          dt, std::array{std::move(g), std::move(mu)}, k,
          [](const auto& k, const auto& x, const auto& m) {
            const auto c = k[0] * x + k[1] * m;
            return std::array{vtanh(k[4] * c), k[2] * x + k[3] * m};
          },
          std::array{0, 1});
    case LionMode::Refined:
      return fused<2>(
          dt, std::array{std::move(g), std::move(mu)}, k,
          [](const auto& k, const auto& x, const auto& m) {
            const auto c = k[0] * x + k[1] * m;
            return std::array{vselect(vabs(c) < k[5], c, vsign(c)), k[2] * x + k[3] * m};
          },
          std::array{0, 1});
    case LionMode::Hard:
      break;
  }
  return fused<2>(
      dt, std::array{std::move(g), std::move(mu)}, k,
      [](const auto& k, const auto& x, const auto& m) {
        const auto c = k[0] * x + k[1] * m;
        return std::array{vsign(c), k[2] * x + k[3] * m};
      },
      std::array{0, 1});
}

Array clip_leaf(Array g, double max_delta) {
  const DType dt = g.dtype();
  return fused1(
      dt, std::array{std::move(g)}, std::array{-max_delta, max_delta},
      [](const auto& k, const auto& x) { return vclip(x, k[0], k[1]); }, 0);
}

Array sign_leaf(Array g) {
  const DType dt = g.dtype();
  return fused1(
      dt, std::array{std::move(g)}, std::array<double, 0>{},
      [](const auto&, const auto& x) { return vsign(x); }, 0);
}

Array clip_by_norm_leaf(Array g, const Array& norm, double max_norm) {
  if (jute::detail::any_traced(g, norm)) {
    return (g / norm.astype(g.dtype())) * Array::scalar(max_norm, g.dtype());
  }
  const DType dt = g.dtype();
  return fused1(
      dt, std::array{std::move(g)}, std::array{norm.item<double>(), max_norm},
      [](const auto& k, const auto& x) { return (x / k[0]) * k[1]; }, 0);
}

Array trust_ratio_leaf(const Array& u, const Array& p, double min_norm, double trust_coefficient,
                       double eps) {
  const Array pn2 = sum_of_squares(p);
  const Array un2 = sum_of_squares(u);
  const Array ratio = fused1(compute_dtype(pn2, un2), std::array{pn2, un2},
                             std::array{min_norm, trust_coefficient, eps, 0.0, 1.0},
                             [](const auto& k, const auto& p2, const auto& u2) {
                               const auto pn0 = vsqrt(p2);
                               const auto un0 = vsqrt(u2);
                               const auto pn =
                                   vselect(pn0 <= k[0], k[0], pn0);  // Optax's safe_norm
                               const auto un = vselect(un0 <= k[0], k[0], un0);
                               const auto ratio = k[1] * pn / (un + k[2]);
                               return vselect(pn == k[3], k[4], vselect(un == k[3], k[4], ratio));
                             });
  return scale_leaf(u, ratio);
}

Array param_block_rms_leaf(const Array& u, const Array& p, double min_scale) {
  const Array p2 = sum_of_squares(p);
  const Array rms =
      fused1(p2.dtype(), std::array{p2}, std::array{static_cast<double>(p.size()), min_scale},
             [](const auto& k, const auto& s) {
               const auto r = vsqrt(s / k[0]);
               return vselect(r <= k[1], k[1], r);
             });
  return scale_leaf(u, rms);
}

Array block_rms_clip_leaf(const Array& u, double threshold) {
  const Array u2 = sum_of_squares(u);
  const Array denom =
      fused1(u2.dtype(), std::array{u2}, std::array{static_cast<double>(u.size()), threshold, 1.0},
             [](const auto& k, const auto& s) { return vmaximum(k[2], vsqrt(s / k[0]) / k[1]); });
  return divide_leaf(u, denom);
}

Array sqrt_leaf(const Array& x) {
  return fused1(x.dtype(), std::array{x}, std::array<double, 0>{},
                [](const auto&, const auto& v) { return vsqrt(v); });
}

std::array<Array, 2> factored_v_leaf(Array g, Array v, double beta, double one_minus_beta,
                                     double eps) {
  const DType dt = compute_dtype(g, v);
  return fused<2>(
      dt, std::array{std::move(g), std::move(v)}, std::array{beta, one_minus_beta, eps, 1.0},
      [](const auto& k, const auto& x, const auto& vv) {
        const auto v2 = k[0] * vv + k[1] * (x * x + k[2]);
        return std::array{x * (k[3] / vsqrt(v2)), v2};
      },
      std::array{0, 1});
}

Array accumulate_leaf(Array g, Array acc, std::int32_t mini_step, bool mean) {
  const DType dt = compute_dtype(g, acc);
  if (!mean) {
    return fused1(
        dt, std::array{std::move(g), std::move(acc)}, std::array<double, 0>{},
        [](const auto&, const auto& x, const auto& a) { return x + a; }, 1);
  }
  return fused1(
      dt, std::array{std::move(g), std::move(acc)},
      std::array{static_cast<double>(mini_step) + 1.0},
      [](const auto& k, const auto& x, const auto& a) { return a + (x - a) / k[0]; }, 1);
}

Array sum_of_squares(const Array& x) {
  if (jute::detail::any_traced(x)) return jute::sum(x * x);
  return visit_dtype(x.dtype(), [&](auto zero) -> Array {
    using T = decltype(zero);
    if constexpr (!std::is_floating_point_v<T>) {
      throw DtypeError("[optim] A norm needs float32 or float64 leaves, not " +
                       std::string(name(x.dtype())) + ".");
    } else {
      // Accumulated in double (XLA sums float32 in float32, in an unspecified tree order).
      const T* p = x.data<T>();
      double s = 0.0;
      for (std::int64_t i = 0; i < x.size(); ++i) s += static_cast<double>(p[i]) * p[i];
      return Array::scalar(static_cast<T>(s), x.dtype());
    }
  });
}

Array tree_sum_of_squares(const std::vector<Array>& leaves) {
  std::vector<Array> sums;
  sums.reserve(leaves.size());
  bool traced = false;
  DType dt = float32;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    sums.push_back(sum_of_squares(leaves[i]));
    traced = traced || jute::detail::any_traced(sums.back());
    dt = i == 0 ? leaves[i].dtype() : promote_types(dt, leaves[i].dtype());
  }
  if (traced) {
    Array total = Array::scalar(0.0, dt);
    for (const Array& s : sums) total = total + s;
    return total;
  }
  if (dt == float32) {
    float total = 0.0f;
    for (const Array& s : sums) total += s.item<float>();
    return Array::scalar(total, float32);
  }
  double total = 0.0;
  for (const Array& s : sums) total += s.item<double>();
  return Array::scalar(total, float64);
}

std::int64_t count_not_finite(const Array& x) {
  return visit_dtype(x.dtype(), [&](auto zero) -> std::int64_t {
    using T = decltype(zero);
    if constexpr (!std::is_floating_point_v<T>) {
      return 0;
    } else {
      const T* p = x.data<T>();
      std::int64_t n = 0;
      for (std::int64_t i = 0; i < x.size(); ++i) n += std::isfinite(p[i]) ? 0 : 1;
      return n;
    }
  });
}

}  // namespace jute::optim::detail
