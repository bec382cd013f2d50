// Schedules: Optax's test vectors (optax/schedules/_schedule_test.py, _join_test.py) and the
// float32 values Optax prints.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "jute/errors.hpp"
#include "jute/optim/schedules.hpp"

using namespace jute;
using namespace jute::optim;

namespace {

std::vector<double> run(const Schedule& s, std::int64_t n) {
  std::vector<double> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(s(i));
  return out;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                 double atol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("index ", i, ": got ", got[i], ", want ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= atol + rtol * std::abs(want[i]));
  }
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.schedules: constant and polynomial") {
    CHECK(constant_schedule(5.0)(0) == 5.0);
    CHECK(constant_schedule(5.0)(100) == 5.0);
    // polynomial_schedule(10., 20., power=1, transition_steps=10) at 0..14.
    check_close(run(polynomial_schedule(10.0, 20.0, 1.0, 10), 15),
                {10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 20, 20, 20, 20}, 0.0, 1e-3);
    // power=2, transition_begin=4: [30]*4 + [10 + 20*(1-n/10)^2] + [10]*...
    std::vector<double> want(4, 30.0);
    for (int n = 0; n < 10; ++n) want.push_back(10.0 + 20.0 * std::pow(1.0 - n / 10.0, 2));
    for (int n = 0; n < 6; ++n) want.push_back(10.0);
    check_close(run(polynomial_schedule(30.0, 10.0, 2.0, 10, 4), 20), want, 0.0, 1e-3);
    // A non-positive transition gives the constant init (unrounded, as Optax's Python value).
    CHECK(polynomial_schedule(0.1, 0.5, 2.0, 0)(7) == 0.1);
    CHECK(polynomial_schedule(0.1, 0.5, 2.0, -3)(7) == 0.1);
    // A negative transition_begin counts as 0.
    CHECK(linear_schedule(1.0, 3.0, 2, -5)(1) == 2.0);
    // The docstring example: count 6 of (1 -> 0.01, T=100, begin 5, power 2) prints 0.9803.
    CHECK(polynomial_schedule(1.0, 0.01, 2.0, 100, 5)(6) == doctest::Approx(0.9803).epsilon(1e-4));
  }

  TEST_CASE("optim.schedules: piecewise constant") {
    check_close(run(piecewise_constant_schedule(0.1, {{3, 2.0}, {6, 0.5}}), 10),
                {.1, .1, .1, .2, .2, .2, .1, .1, .1, .1}, 0.0, 1e-3);
    check_close(run(piecewise_constant_schedule(-0.1, {{3, 2.0}, {6, 0.5}}), 10),
                {-.1, -.1, -.1, -.2, -.2, -.2, -.1, -.1, -.1, -.1}, 0.0, 1e-3);
    // The docstring: 1.0 -> 0.1 -> 0.001 at 100 and 200 (float32 products).
    auto s = piecewise_constant_schedule(1.0, {{100, 0.1}, {200, 0.01}});
    CHECK(s(50) == 1.0);
    CHECK(s(150) == static_cast<double>(0.1f));
    CHECK(s(250) == static_cast<double>(0.1f * 0.01f));
    CHECK_THROWS_WITH_AS(piecewise_constant_schedule(1.0, {{3, -2.0}}),
                         doctest::Contains("[optim.piecewise_constant_schedule]"), ValueError);
  }

  TEST_CASE("optim.schedules: exponential decay") {
    check_close(run(exponential_decay(32.0, 1, 0.5), 5), {32, 16, 8, 4, 2}, 0.0, 1e-3);
    // transition_steps <= 0 or a zero rate: constant init.
    CHECK(exponential_decay(0.3, 0, 0.5)(10) == 0.3);
    CHECK(exponential_decay(0.3, 5, 0.0)(10) == 0.3);
    // Optax's test_exponential: init 1, T=2, rate 2, with/without staircase and begin.
    for (bool staircase : {false, true}) {
      for (std::int64_t begin : {0, 5}) {
        std::vector<double> want(static_cast<std::size_t>(begin), 1.0);
        for (int c = 0; c < 15; ++c) {
          double p = c / 2.0;
          if (staircase) p = std::floor(p);
          want.push_back(std::pow(2.0, p));
        }
        check_close(run(exponential_decay(1.0, 2, 2.0, begin, staircase), 15 + begin), want, 0.0,
                    1e-3);
      }
    }
    // end_value bounds the decay: below for a rate < 1, above for a rate > 1.
    for (auto [rate, end] : std::vector<std::pair<double, double>>{{0.2, 0.1}, {2.0, 3.0}}) {
      for (bool staircase : {false, true}) {
        std::vector<double> want(3, 1.0);
        for (int c = 0; c < 11; ++c) {
          double p = c / 2.0;
          if (staircase) p = std::floor(p);
          double v = static_cast<float>(std::pow(rate, p));
          want.push_back(rate < 1.0 ? std::max(v, end) : std::min(v, end));
        }
        check_close(run(exponential_decay(1.0, 2, rate, 3, staircase, end), 14), want, 0.0, 1e-3);
      }
    }
  }

  TEST_CASE("optim.schedules: cosine decay") {
    // exponent 2: [0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0] at rtol 1e-6.
    auto s = cosine_decay_schedule(0.1, 100, 0.0, 2.0);
    check_close({s(0), s(10), s(50), s(75), s(100)},
                {0.1, 0.09516553580760956, 0.025, 0.0021446612663567066, 0.0}, 1e-6, 1e-8);
    // Giant step counts work (float arithmetic, no int32 overflow).
    CHECK(cosine_decay_schedule(1000.0, 10'000'000'000)(1'000'000'000) ==
          doctest::Approx(975.52826).epsilon(1e-7));
    // alpha 0.1: 0.1 * (0.9 * (0.5 + 0.5 cos(pi min(c,5)/5)) + 0.1) at 0..11.
    std::vector<double> want;
    for (int c = 0; c < 12; ++c) {
      want.push_back(0.1 *
                     (0.9 * (0.5 + 0.5 * std::cos(std::numbers::pi * std::min(c, 5) / 5.0)) + 0.1));
    }
    check_close(run(cosine_decay_schedule(0.1, 5, 0.1), 12), want, 0.0, 1e-3);
    check_close(run(cosine_decay_schedule(0.1, 5, 0.1), 12), want, 1e-6, 1e-8);
    CHECK_THROWS_WITH_AS(cosine_decay_schedule(0.1, 0), doctest::Contains("decay_steps is 0"),
                         ValueError);
    CHECK_THROWS_AS(cosine_decay_schedule(0.1, -3), ValueError);
  }

  TEST_CASE("optim.schedules: warmup cosine decay gives Optax's float32 values") {
    auto s = warmup_cosine_decay_schedule(0.2, 1.21, 50, 100, -3.0, 2.0);
    // What Optax prints (float32): 0.20000004768371582, 0.4020000100135803, 1.2100000381469727,
    // -1.947500228881836, -3.000000238418579.
    CHECK(s(0) == 0.20000004768371582);
    CHECK(s(10) == 0.4020000100135803);
    CHECK(s(50) == 1.2100000381469727);
    CHECK(s(75) == doctest::Approx(-1.947500228881836).epsilon(1e-6));
    CHECK(s(100) == -3.000000238418579);
    check_close({s(0), s(10), s(50), s(75), s(100)}, {0.2, 0.402, 1.21, -1.9475, -3.0}, 1e-6, 1e-8);
    // A zero peak: alpha is 0 instead of end/peak.
    auto z = warmup_cosine_decay_schedule(0.2, 0.0, 50, 100, -3.0, 2.0);
    check_close({z(0), z(10), z(50), z(75), z(100)}, {0.2, 0.16, 0.0, 0.0, 0.0}, 1e-6, 1e-8);
    // The limits: init at 0, peak at the end of the warmup, end at decay_steps.
    for (auto [init, peak, end] :
         std::vector<std::array<double, 3>>{{0.2, 3.0, 0.0}, {0.2, 3.0, -1.0}, {1.0, 2.0, 0.5}}) {
      auto w = warmup_cosine_decay_schedule(init, peak, 100, 1000, end);
      CHECK(w(0) == doctest::Approx(init).epsilon(1e-7));
      CHECK(w(100) == doctest::Approx(peak).epsilon(1e-7));
      CHECK(w(1000) == doctest::Approx(end).epsilon(1e-3));
    }
    CHECK_THROWS_WITH_AS(warmup_cosine_decay_schedule(0.0, 1.0, 100, 100),
                         doctest::Contains("decay_steps (100) must exceed warmup_steps (100)"),
                         ValueError);
  }

  TEST_CASE("optim.schedules: warmup cosine is monotone and a larger exponent decays faster") {
    auto regular = warmup_cosine_decay_schedule(0.0, 1.0, 10, 100, 0.1, 1.0);
    auto steep = warmup_cosine_decay_schedule(0.0, 1.0, 10, 100, 0.1, 2.0);
    for (int t = 0; t < 10; ++t) CHECK(regular(t) < regular(t + 1));
    CHECK(regular(10) == doctest::Approx(1.0).epsilon(1e-6));
    for (int t = 10; t < 100; ++t) CHECK(regular(t) >= regular(t + 1));
    CHECK(regular(100) == doctest::Approx(0.1).epsilon(1e-6));
    for (int t = 10; t < 101; ++t) CHECK(steep(t) <= regular(t) + 1e-12);
  }

  TEST_CASE("optim.schedules: join, warmup constant and warmup exponential") {
    // join(const 1, const 2, const 1; boundaries [3, 6]) at 0..6.
    auto j = join_schedules(
        {constant_schedule(1.0), constant_schedule(2.0), constant_schedule(1.0)}, {3, 6});
    CHECK(run(j, 7) == std::vector<double>{1, 1, 1, 2, 2, 2, 1});
    // Each schedule is fed the step relative to its boundary.
    auto rel =
        join_schedules({constant_schedule(0.0), [](std::int64_t c) { return double(c); }}, {4});
    CHECK(run(rel, 7) == std::vector<double>{0, 0, 0, 0, 0, 1, 2});
    CHECK_THROWS_WITH_AS(
        join_schedules({constant_schedule(1.0)}, {3}),
        doctest::Contains("[optim.join_schedules] Got 1 schedules and 1 boundaries"), ValueError);
    CHECK_THROWS_AS(join_schedules({}, {}), ValueError);
    CHECK_THROWS_AS(join_schedules({constant_schedule(1.0), Schedule()}, {2}), ValueError);

    check_close(run(warmup_constant_schedule(0.0, 1.0, 4), 7), {0, .25, .5, .75, 1, 1, 1}, 0, 1e-7);
    auto we = warmup_exponential_decay_schedule(0.0, 1.0, 2, 1, 0.5);
    check_close(run(we, 6), {0, .5, 1, .5, .25, .125}, 0, 1e-7);
  }

  TEST_CASE("optim.schedules: piecewise interpolate and one-cycle") {
    check_close(
        run(piecewise_interpolate_schedule(Interpolation::Linear, 200.0, {{5, 1.5}, {10, 0.25}}),
            13),
        {200, 220, 240, 260, 280, 300, 255, 210, 165, 120, 75, 75, 75}, 0.0, 1e-3);
    check_close(run(piecewise_interpolate_schedule(Interpolation::Cosine, 400.0,
                                                   {{5, 1.2}, {3, 0.6}, {7, 1.0}}),
                    9),
                {400, 360, 280, 240, 264, 288, 288, 288, 288}, 0.0, 1e-3);
    check_close(run(piecewise_interpolate_schedule(Interpolation::Linear, 13.0), 5),
                {13, 13, 13, 13, 13}, 0.0, 1e-3);
    // A zero-length first interval stays finite: 13*2 at 0, 26*3 at 5.
    auto zero = piecewise_interpolate_schedule(Interpolation::Linear, 13.0, {{0, 2.0}, {5, 3.0}});
    for (int i = 0; i < 6; ++i) CHECK(std::isfinite(zero(i)));
    CHECK(zero(0) == doctest::Approx(26.0));
    CHECK(zero(5) == doctest::Approx(78.0));
    CHECK_THROWS_AS(piecewise_interpolate_schedule(Interpolation::Linear, 13.0, {{5, -3.0}}),
                    ValueError);

    check_close(run(linear_onecycle_schedule(10, 1000.0, 0.3, 0.7, 10.0, 100.0), 12),
                {100, 400, 700, 1000, 775, 550, 325, 100, 67, 34, 1, 1}, 0.0, 1e-3);
    check_close(run(cosine_onecycle_schedule(5, 1000.0, 0.4, 10.0, 100.0), 7),
                {100, 550, 1000, 750.25, 250.75, 1, 1}, 0.0, 1e-3);
    CHECK_THROWS_WITH_AS(cosine_onecycle_schedule(0, 5.0), doctest::Contains("cosine_onecycle"),
                         ValueError);
    CHECK_THROWS_WITH_AS(linear_onecycle_schedule(0, 5.0), doctest::Contains("linear_onecycle"),
                         ValueError);
  }

  TEST_CASE("optim.schedules: sgdr restarts each cycle") {
    auto s = sgdr_schedule(
        {{0.0, 1.0, 100, 1000, 0.0}, {0.0, 2.0, 100, 2000, 0.0}, {0.0, 3.0, 100, 3000, 0.0}});
    CHECK(s(100) == doctest::Approx(1.0).epsilon(1e-6));
    CHECK(s(1100) == doctest::Approx(2.0).epsilon(1e-6));
    CHECK(s(3100) == doctest::Approx(3.0).epsilon(1e-6));
    CHECK(s(1000) == doctest::Approx(0.0));
    CHECK_THROWS_AS(sgdr_schedule({}), ValueError);
  }

  TEST_CASE("optim.schedules: ScalarOrSchedule") {
    ScalarOrSchedule c = 0.5;
    CHECK_FALSE(c.is_schedule());
    CHECK(c(10) == 0.5);
    CHECK(c.value() == 0.5);
    CHECK_THROWS_AS(c.schedule(), ValueError);
    ScalarOrSchedule s = [](std::int64_t count) { return 2.0 * static_cast<double>(count); };
    CHECK(s.is_schedule());
    CHECK(s(3) == 6.0);
    CHECK_THROWS_AS(s.value(), ValueError);
    CHECK_THROWS_AS(ScalarOrSchedule{Schedule{}}, ValueError);
  }

  TEST_CASE("optim.schedules: linear schedules stay between their end points") {
    CHECK(rc::check("linear values lie between init and end", [](int a, int b, unsigned t) {
      const double init = a % 1000;
      const double end = b % 1000;
      const auto steps = static_cast<std::int64_t>(t % 50 + 1);
      auto s = linear_schedule(init, end, steps);
      for (std::int64_t c = 0; c <= steps + 2; ++c) {
        const double v = s(c);
        RC_ASSERT(v >= std::min(init, end) - 1e-3 * (1 + std::abs(init) + std::abs(end)));
        RC_ASSERT(v <= std::max(init, end) + 1e-3 * (1 + std::abs(init) + std::abs(end)));
      }
      RC_ASSERT(s(steps + 1) == static_cast<double>(static_cast<float>(end)));
    }));
  }

}  // TEST_SUITE
