// Test helpers for the shape, indexing and matmul suites: exact value checks, float64 inputs from
// a fixed pseudo-random sequence, and a check of a function's vjp against central differences.
// The arithmetic is done on raw values so the check depends on nothing but the op under test.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"

namespace jute_test {

/// A float64 array of `shape` with values in [-1, 1) from a small LCG seeded by `seed`.
inline jute::Array rand_f64(const jute::Shape& shape, std::uint32_t seed) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<double> v(static_cast<std::size_t>(n));
  std::uint32_t s = seed * 2654435761u + 12345u;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = static_cast<double>(s >> 8) / static_cast<double>(1u << 23) - 1.0;
  }
  return jute::Array::from_vector(v, shape, jute::float64);
}

/// Small whole numbers in [-8, 8) of `dtype` (exact in every dtype, so products compare exactly).
inline jute::Array rand_small(const jute::Shape& shape, std::uint32_t seed, jute::DType dtype) {
  std::vector<double> v = rand_f64(shape, seed).to_vector<double>();
  for (auto& x : v) x = std::floor(x * 8);
  return jute::Array::from_vector(v, shape, dtype);
}

/// Checks vjp(f, xs) against central differences of <u, f(x)> for a fixed random cotangent u:
/// each input element is moved by ±eps and the change of <u, f> compared with the cotangent.
inline void check_vjp(const jute::ArraysFn& f, const std::vector<jute::Array>& xs,
                      double eps = 1e-6, double tol = 1e-6) {
  auto [y, vjp_fn] = jute::vjp(f, xs);
  const jute::Array u = rand_f64(y.shape(), 7);
  const std::vector<jute::Array> cts = vjp_fn(u);
  REQUIRE(cts.size() == xs.size());
  const std::vector<double> uv = u.to_vector<double>();
  auto inner = [&](const std::vector<jute::Array>& args) {
    const std::vector<double> fv = f(args).astype(jute::float64).to_vector<double>();
    double s = 0;
    for (std::size_t i = 0; i < fv.size(); ++i) s += uv[i] * fv[i];
    return s;
  };
  for (std::size_t k = 0; k < xs.size(); ++k) {
    REQUIRE(cts[k].shape() == xs[k].shape());
    const std::vector<double> got = cts[k].astype(jute::float64).to_vector<double>();
    std::vector<double> base = xs[k].to_vector<double>();
    for (std::size_t i = 0; i < base.size(); ++i) {
      std::vector<jute::Array> args = xs;
      std::vector<double> moved = base;
      moved[i] = base[i] + eps;
      args[k] = jute::Array::from_vector(moved, xs[k].shape(), jute::float64);
      const double up = inner(args);
      moved[i] = base[i] - eps;
      args[k] = jute::Array::from_vector(moved, xs[k].shape(), jute::float64);
      const double down = inner(args);
      const double fd = (up - down) / (2 * eps);
      INFO("input ", k, " element ", i, ": vjp ", got[i], " vs finite difference ", fd);
      CHECK(std::abs(got[i] - fd) <= tol * (1.0 + std::abs(fd)));
    }
  }
}

/// check_vjp for a function of one Array.
inline void check_vjp1(const jute::ArrayFn& f, const jute::Array& x, double eps = 1e-6,
                       double tol = 1e-6) {
  check_vjp([&f](const std::vector<jute::Array>& xs) { return f(xs[0]); }, {x}, eps, tol);
}

/// The function x ↦ vjp(f, x)(u): its own vjp is a second derivative of f.
inline jute::ArrayFn vjp_of(jute::ArrayFn f, jute::Array u) {
  return [f = std::move(f), u = std::move(u)](const jute::Array& x) {
    return jute::vjp(f, x).second(u);
  };
}

/// The message of the exception `f` throws ("" when it throws none), to compare error texts.
inline std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

/// Checks dtype, shape and every value of `a` exactly (the expected values come from NumPy).
inline void check_array(const jute::Array& a, jute::DType dtype, const jute::Shape& shape,
                        const std::vector<double>& expected) {
  CHECK(a.dtype() == dtype);
  CHECK(a.shape() == shape);
  CHECK(a.to_vector<double>() == expected);
}

}  // namespace jute_test
