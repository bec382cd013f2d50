#include <doctest/doctest.h>

#include <cmath>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "jute/testing.hpp"

using namespace jute;
using jute::testing::check_grads;
using jute::testing::GradientCheckError;

namespace {
Array f64(std::vector<double> v, Shape s) { return Array::from_vector(v, s, float64); }

// x², with a rule that is wrong by `factor` at element `bad` (to see the checker catch it).
Array square_with_bad_rule(const Array& x, double factor, std::int64_t bad) {
  Array out = detail::detach(x) * detail::detach(x);
  if (!detail::any_traced(x)) return out;
  return detail::record("bad_square", out, {x},
                        [factor, bad](const Array& g, const std::vector<Array>& in, const Array&) {
                          std::vector<double> scale(static_cast<std::size_t>(in[0].size()), 2.0);
                          if (bad >= 0) scale[static_cast<std::size_t>(bad)] *= factor;
                          return std::vector<Array>{
                              g * in[0] * Array::from_vector(scale, in[0].shape(), in[0].dtype())};
                        });
}

// x², whose rule is right but treats x as a constant: first derivatives pass, second fail.
Array square_first_order_only(const Array& x) {
  Array out = detail::detach(x) * detail::detach(x);
  if (!detail::any_traced(x)) return out;
  return detail::record("square1", out, {x},
                        [](const Array& g, const std::vector<Array>& in, const Array&) {
                          return std::vector<Array>{g * stop_gradient(in[0]) * 2.0};
                        });
}
}  // namespace

TEST_SUITE("testing") {
  TEST_CASE("check_grads: correct derivatives pass to third order in both modes") {
    Array x = f64({0.3, -1.2, 2.0}, {3});
    check_grads([](const Array& a) { return sin(a) * exp(a) + a * a * a; }, x, 3);
    check_grads([](const std::vector<Array>& p) { return sum(p[0] * p[1]) / (p[1] * p[1] + 1.0); },
                {x, Array({0.5f})}, 2, {"rev"});
    check_grads([](const Array& a) { return tanh(a); }, Array({0.1f, 0.9f}), 2, {"fwd"});
    check_grads([](const Array& a) { return square_with_bad_rule(a, 1.0, -1); }, x, 1);
  }

  TEST_CASE("check_grads: a wrong rule is caught in both modes and the worst element reported") {
    Array x = f64({0.3, -1.2, 2.0, 0.7}, {2, 2});
    ArrayFn bad = [](const Array& a) { return square_with_bad_rule(a, 1.5, 2); };
    CHECK_THROWS_WITH_AS(check_grads(bad, x, 1, {"fwd"}),
                         doctest::Contains("[check_grads] JVP tangent differs from finite "
                                           "differences at element (1,0) of output 0 with shape "
                                           "(2,2): expected "),
                         GradientCheckError);
    CHECK_THROWS_WITH_AS(check_grads(bad, x, 1, {"rev"}),
                         doctest::Contains("[check_grads] VJP cotangent projection differs"),
                         GradientCheckError);
  }

  TEST_CASE("check_grads: a rule that is not differentiable itself fails at order 2 only") {
    ArrayFn sq = [](const Array& a) { return square_first_order_only(a); };
    Array x = f64({0.5, 1.5}, {2});
    check_grads(sq, x, 1);
    CHECK_THROWS_WITH_AS(check_grads(sq, x, 2, {"fwd"}), doctest::Contains("of JVP"),
                         GradientCheckError);
    CHECK_THROWS_WITH_AS(check_grads(sq, x, 2, {"rev"}),
                         doctest::Contains("[check_grads] VJP of VJP"), GradientCheckError);
  }

  TEST_CASE("check_grads: tolerances and step are options") {
    // A rule off by 0.1% passes with a loose tolerance and fails with the default one.
    ArrayFn slightly_off = [](const Array& a) { return square_with_bad_rule(a, 1.001, 0); };
    Array x = f64({1.0}, {1});
    CHECK_THROWS_AS(check_grads(slightly_off, x, 1), GradientCheckError);
    check_grads(slightly_off, x, 1, {"fwd", "rev"}, {.atol = 1e-2, .rtol = 1e-2});
  }

  TEST_CASE("check_grads: argument errors") {
    ArrayFn id = [](const Array& a) { return a; };
    CHECK_THROWS_WITH_AS(check_grads(id, f64({1}, {1}), 0),
                         "[check_grads] The order must be at "
                         "least 1, got 0.",
                         ValueError);
    CHECK_THROWS_WITH_AS(check_grads(id, f64({1}, {1}), 1, {"fwd", "backward"}),
                         "[check_grads] Unknown mode 'backward'; use \"fwd\" and/or \"rev\".",
                         ValueError);
    CHECK_THROWS_WITH_AS(check_grads(id, Array({1, 2}), 1),
                         doctest::Contains("[check_grads] Cannot differentiate with respect to "
                                           "argument 0 of dtype int32"),
                         DtypeError);
  }

}  // TEST_SUITE
