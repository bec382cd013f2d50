// Gradient checking as jax.test_util.check_grads (jax/_src/public_test_util.py): random
// directions, central differences in float64, and the same checks applied recursively to the jvp
// and vjp maps for higher orders. The finite differences are computed on the host in double, so
// they do not depend on the ops under test.
#include "jute/testing/check_grads.hpp"

#include <cmath>
#include <random>
#include <sstream>

#include "autodiff/transforms.hpp"

namespace jute::testing {

namespace {

using detail::MultiFn;
using Values = std::vector<std::vector<double>>;

Values host(const std::vector<Array>& xs) {
  Values out;
  for (const auto& x : xs) out.push_back(x.to_vector<double>());
  return out;
}

std::vector<Array> random_like(const std::vector<Array>& xs, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  std::vector<Array> out;
  for (const auto& x : xs) {
    std::vector<double> v(static_cast<std::size_t>(x.size()));
    for (auto& e : v) e = normal(gen);
    out.push_back(Array::from_vector(v, x.shape(), float64));
  }
  return out;
}

// (f(x + eps·t) - f(x - eps·t)) / (2·eps), with inf - inf = 0 as in JAX's safe_sub.
Values numerical_jvp(const MultiFn& f, const std::vector<Array>& xs, const std::vector<Array>& ts,
                     double eps) {
  auto shifted = [&](double sign) {
    std::vector<Array> out;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      auto x = xs[i].to_vector<double>();
      auto t = ts[i].to_vector<double>();
      for (std::size_t k = 0; k < x.size(); ++k) x[k] += sign * eps * t[k];
      out.push_back(Array::from_vector(x, xs[i].shape(), float64));
    }
    return host(f(out));
  };
  Values pos = shifted(1.0), neg = shifted(-1.0);
  for (std::size_t i = 0; i < pos.size(); ++i)
    for (std::size_t k = 0; k < pos[i].size(); ++k)
      pos[i][k] = (pos[i][k] == neg[i][k] ? 0.0 : pos[i][k] - neg[i][k]) * (0.5 / eps);
  return pos;
}

double inner(const Values& a, const Values& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k) s += a[i][k] * b[i][k];
  return s;
}

std::string index_str(std::size_t flat, const Shape& shape) {
  Shape idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = static_cast<std::int64_t>(flat) % shape[d];
    flat /= static_cast<std::size_t>(shape[d]);
  }
  return detail::shape_str(idx);
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// JAX's check_close: per output, |got - expected| <= n·atol + n·rtol·|expected| (n elements).
// Reports the element that exceeds its bound by the largest factor.
void check_close(const Values& got, const Values& expected, const std::vector<Shape>& shapes,
                 const std::string& what, const CheckGradsOptions& o) {
  for (std::size_t i = 0; i < got.size(); ++i) {
    double n = static_cast<double>(got[i].size());
    double worst = 1.0;
    std::size_t worst_k = got[i].size();
    for (std::size_t k = 0; k < got[i].size(); ++k) {
      double a = got[i][k], e = expected[i][k];
      if (a == e || (std::isnan(a) && std::isnan(e))) continue;
      double bound = n * o.atol + n * o.rtol * std::abs(e);
      double ratio = std::abs(a - e) / bound;
      if (!(ratio <= worst)) {  // NaN counts as the worst
        worst = std::isnan(ratio) ? INFINITY : ratio;
        worst_k = k;
      }
    }
    if (worst_k == got[i].size()) continue;
    double a = got[i][worst_k], e = expected[i][worst_k];
    std::string where = got.size() == 1 && shapes[i].empty()
                            ? std::string()
                            : " at element " + index_str(worst_k, shapes[i]) + " of output " +
                                  std::to_string(i) + " with shape " + detail::shape_str(shapes[i]);
    throw GradientCheckError("[check_grads] " + what + " differs from finite differences" + where +
                             ": expected " + fmt(e) + ", got " + fmt(a) + ", error " +
                             fmt(std::abs(a - e)) + " > tolerance " +
                             fmt(n * o.atol + n * o.rtol * std::abs(e)) + " (atol " + fmt(o.atol) +
                             ", rtol " + fmt(o.rtol) + ", eps " + fmt(o.eps) + ").");
  }
}

std::vector<Shape> shapes_of(const std::vector<Array>& xs) {
  std::vector<Shape> s;
  for (const auto& x : xs) s.push_back(x.shape());
  return s;
}

struct Checker {
  CheckGradsOptions options;
  bool fwd = false, rev = false;

  void check_jvp(const MultiFn& f, const std::vector<Array>& args, const std::string& name) {
    auto tangents = random_like(args, options.seed);
    auto [outs, out_tangents] = detail::jvp_multi(f, args, tangents, "check_grads");
    check_close(host(outs), host(f(args)), shapes_of(outs), name + " primal", options);
    check_close(host(out_tangents), numerical_jvp(f, args, tangents, options.eps), shapes_of(outs),
                name + " tangent", options);
  }

  void check_vjp(const MultiFn& f, const std::vector<Array>& args, const std::string& name) {
    auto [outs, vjp_fn] = detail::vjp_multi(f, args, "check_grads");
    check_close(host(outs), host(f(args)), shapes_of(outs), name + " primal", options);
    std::mt19937_64 seeds(options.seed);
    auto tangents = random_like(args, seeds());
    auto cotangents = random_like(outs, seeds());
    double got = inner(host(tangents), host(vjp_fn(cotangents)));
    double expected = inner(numerical_jvp(f, args, tangents, options.eps), host(cotangents));
    check_close({{got}}, {{expected}}, {Shape{}}, name + " cotangent projection", options);
  }

  void check(const MultiFn& f, const std::vector<Array>& args, int order, const std::string& of) {
    if (fwd) {
      std::string name = "JVP" + of;
      check_jvp(f, args, name);
      if (order > 1) {
        // (primals, tangents) ↦ (outputs, output tangents), checked at (args, args).
        MultiFn jvp_fn = [f](const std::vector<Array>& pt) {
          auto half = static_cast<std::ptrdiff_t>(pt.size() / 2);
          auto [outs, ts] = detail::jvp_multi(f, {pt.begin(), pt.begin() + half},
                                              {pt.begin() + half, pt.end()}, "check_grads");
          outs.insert(outs.end(), ts.begin(), ts.end());
          return outs;
        };
        std::vector<Array> doubled = args;
        doubled.insert(doubled.end(), args.begin(), args.end());
        check(jvp_fn, doubled, order - 1, " of " + name);
      }
    }
    if (rev) {
      std::string name = "VJP" + of;
      check_vjp(f, args, name);
      if (order > 1) {
        // args ↦ vjp_fn(f(args)): the outputs themselves as cotangents, as JAX does.
        MultiFn vjp_fn = [f](const std::vector<Array>& xs) {
          auto [outs, fn] = detail::vjp_multi(f, xs, "check_grads");
          return fn(outs);
        };
        check(vjp_fn, args, order - 1, " of " + name);
      }
    }
  }
};

}  // namespace

void check_grads(const ArraysFn& f, const std::vector<Array>& args, int order,
                 const std::vector<std::string>& modes, const CheckGradsOptions& options) {
  if (order < 1)
    throw ValueError("[check_grads] The order must be at least 1, got " + std::to_string(order) +
                     ".");
  Checker checker{options};
  for (const auto& m : modes) {
    if (m == "fwd")
      checker.fwd = true;
    else if (m == "rev")
      checker.rev = true;
    else
      throw ValueError("[check_grads] Unknown mode '" + m + "'; use \"fwd\" and/or \"rev\".");
  }
  std::vector<Array> args64;
  for (std::size_t i = 0; i < args.size(); ++i) {
    detail::check_differentiable(args[i], "argument " + std::to_string(i), "check_grads");
    args64.push_back(args[i].astype(float64));
  }
  checker.check([f](const std::vector<Array>& xs) { return std::vector<Array>{f(xs)}; }, args64,
                order, "");
}

void check_grads(const ArrayFn& f, const Array& x, int order, const std::vector<std::string>& modes,
                 const CheckGradsOptions& options) {
  check_grads([f](const std::vector<Array>& xs) { return f(xs[0]); }, std::vector<Array>{x}, order,
              modes, options);
}

void check_grads(const TreeFn& f, const Tree& params, int order,
                 const std::vector<std::string>& modes, const CheckGradsOptions& options) {
  for (const auto& [path, leaf] : flatten(params))
    detail::check_differentiable(leaf, "the leaf " + path, "check_grads");
  check_grads([f, params](const std::vector<Array>& ls) { return f(with_leaves(params, ls)); },
              leaves(params), order, modes, options);
}

}  // namespace jute::testing
