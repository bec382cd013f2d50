// Helpers for the op tests: exact array comparison with a readable failure, and derivative rules
// checked against central differences in float64.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "ops/op_checks.hpp"

/// Checks that `got` has exactly the dtype, shape and elements of `expected` (NaNs match NaNs).
#define CHECK_ARRAY(got, expected)                                              \
  do {                                                                          \
    const ::jute::Array got_ = (got);                                           \
    const ::jute::Array expected_ = (expected);                                 \
    INFO("got " << got_.to_string() << "\nexpected " << expected_.to_string()); \
    CHECK(::jute::array_equal(got_, expected_, /*equal_nan=*/true));            \
  } while (false)

namespace jute::ops_test {

/// Checks vjp(f, xs)(u) against central differences (jute_test::check_vjp) with the inputs cast
/// to float64; `f` should compute in its inputs' dtype.
inline void check_vjp(const ArraysFn& f, std::vector<Array> xs, double eps = 1e-6,
                      double tol = 1e-6) {
  for (auto& x : xs) x = x.astype(float64);
  jute_test::check_vjp(f, xs, eps, tol);
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
