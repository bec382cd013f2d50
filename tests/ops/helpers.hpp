// Helpers for the op tests: exact array comparison with a readable failure, and derivative rules
// checked against central differences in float64.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"

/// Checks that `got` has exactly the dtype, shape and elements of `expected` (NaNs match NaNs).
#define CHECK_ARRAY(got, expected)                                              \
  do {                                                                          \
    const ::jute::Array got_ = (got);                                           \
    const ::jute::Array expected_ = (expected);                                 \
    INFO("got " << got_.to_string() << "\nexpected " << expected_.to_string()); \
    CHECK(::jute::array_equal(got_, expected_, /*equal_nan=*/true));            \
  } while (false)

namespace jute::ops_test {

/// Checks vjp(f, xs)(u) against central differences of ⟨u, f(x)⟩ for a fixed, non-uniform
/// cotangent u. The inputs are cast to float64; `f` should compute in its inputs' dtype.
inline void check_vjp(const ArraysFn& f, std::vector<Array> xs, double eps = 1e-6,
                      double tol = 1e-6) {
  for (auto& x : xs) x = x.astype(float64);
  auto [y, vjp_fn] = vjp(f, xs);
  std::vector<double> u(static_cast<std::size_t>(y.size()));
  for (std::size_t k = 0; k < u.size(); ++k) u[k] = 0.5 + 0.25 * static_cast<double>(k % 7);
  const auto cts = vjp_fn(Array::from_vector(u, y.shape(), float64));
  auto project = [&](const Array& v) {
    const auto w = v.astype(float64).to_vector<double>();
    double s = 0;
    for (std::size_t k = 0; k < w.size(); ++k) s += w[k] * u[k];
    return s;
  };
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const auto ct = cts[i].astype(float64).to_vector<double>();
    const auto base = xs[i].to_vector<double>();
    REQUIRE(ct.size() == base.size());
    for (std::size_t k = 0; k < base.size(); ++k) {
      auto shifted = [&](double delta) {
        auto v = base;
        v[k] += delta;
        auto args = xs;
        args[i] = Array::from_vector(v, xs[i].shape(), float64);
        return project(f(args));
      };
      const double numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
      INFO("input " << i << ", element " << k << ": numeric " << numeric << ", autodiff " << ct[k]);
      CHECK(std::abs(numeric - ct[k]) <= tol * (1 + std::abs(numeric)));
    }
  }
}

/// The same for a function of one Array.
inline void check_vjp(const ArrayFn& f, const Array& x, double eps = 1e-6, double tol = 1e-6) {
  check_vjp([&f](const std::vector<Array>& xs) { return f(xs[0]); }, std::vector<Array>{x}, eps,
            tol);
}

/// Checks second derivatives: the vjp of x ↦ grad(sum ∘ f)(x) against central differences.
inline void check_second_order(const ArrayFn& f, const Array& x, double eps = 1e-5,
                               double tol = 1e-5) {
  check_vjp([&f](const Array& v) { return grad([&f](const Array& w) { return sum(f(w)); })(v); }, x,
            eps, tol);
}

}  // namespace jute::ops_test
