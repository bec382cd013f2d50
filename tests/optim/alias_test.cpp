// The optimizers on f(x) = sum(x²) from x = [1, 2, 3]: Optax's doctest outputs (printed with
// "%.2E", float32) and longer trajectories against references written out below in double
// precision from the published formulas (not by calling jute).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "jute/ops.hpp"
#include "jute/optim/alias.hpp"
#include "optim/optim_test_util.hpp"

using namespace jute;
using namespace jute::optim;
using namespace jute::optim_test;

namespace {

using Vec = std::vector<double>;

/// f(params) after each of `steps` updates of `tx` on f(x) = sum(x²) (gradient 2x), from
/// x0 = [1, 2, 3] in `dtype`; also returns the final params.
std::vector<Vec> trajectory(const GradientTransformation& tx, DType dtype, int steps) {
  Tree params{{"x", Array::from_vector(std::vector<double>{1, 2, 3}, {3}, dtype)}};
  Tree state = tx.init(params);
  std::vector<Vec> xs;
  for (int i = 0; i < steps; ++i) {
    Tree grads{{"x", params.get("x") * Array::scalar(2.0, dtype)}};
    auto [updates, s] = tx.update(grads, state, params);
    params = apply_updates(params, updates);
    state = s;
    xs.push_back(values(params.get("x")));
  }
  return xs;
}

/// "%.2E" of f(x) = sum(x²) summed in float32, as Optax's doctests print it.
std::string doctest_line(const std::vector<Vec>& xs) {
  std::string out;
  for (const auto& x : xs) {
    float f = 0.0f;
    for (double v : x) f += static_cast<float>(v) * static_cast<float>(v);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2E", static_cast<double>(f));
    if (!out.empty()) out += ' ';
    out += buf;
  }
  return out;
}

// ---- references: one step of each optimizer on one vector, in double ---------------------------

struct Ref {
  std::function<void(Vec& x, const Vec& g, int t)> step;  // t = 1 on the first update
};

double norm(const Vec& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

/// Adam's direction (before the learning rate), updating mu/nu in place.
Vec adam_direction(Vec& mu, Vec& nu, const Vec& g, int t, double b1, double b2, double eps,
                   bool nesterov) {
  Vec u(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    mu[i] = (1 - b1) * g[i] + b1 * mu[i];
    nu[i] = (1 - b2) * g[i] * g[i] + b2 * nu[i];
    double mh = mu[i] / (1 - std::pow(b1, t));
    if (nesterov)
      mh = b1 * (mu[i] / (1 - std::pow(b1, t + 1))) + (1 - b1) * (g[i] / (1 - std::pow(b1, t)));
    u[i] = mh / (std::sqrt(nu[i] / (1 - std::pow(b2, t))) + eps);
  }
  return u;
}

Ref sgd_ref(double lr, double momentum, bool nesterov, bool use_momentum) {
  auto tr = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      double u = g[i];
      if (use_momentum) {
        (*tr)[i] = g[i] + momentum * (*tr)[i];
        u = nesterov ? g[i] + momentum * (*tr)[i] : (*tr)[i];
      }
      x[i] -= lr * u;
    }
  }};
}

Ref adam_ref(double lr, double wd, bool nesterov) {
  auto mu = std::make_shared<Vec>(3, 0.0);
  auto nu = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int t) {
    Vec u = adam_direction(*mu, *nu, g, t, 0.9, 0.999, 1e-8, nesterov);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= lr * (u[i] + wd * x[i]);
  }};
}

Ref lion_ref(double lr, double wd) {
  auto mu = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double c = 0.1 * g[i] + 0.9 * (*mu)[i];
      const double s = c > 0 ? 1.0 : (c < 0 ? -1.0 : 0.0);
      (*mu)[i] = 0.01 * g[i] + 0.99 * (*mu)[i];
      x[i] -= lr * (s + wd * x[i]);
    }
  }};
}

Ref rmsprop_ref(double lr, bool centered, double momentum) {
  auto mu = std::make_shared<Vec>(3, 0.0);
  auto nu = std::make_shared<Vec>(3, 0.0);
  auto tr = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      (*mu)[i] = 0.1 * g[i] + 0.9 * (*mu)[i];
      (*nu)[i] = 0.1 * g[i] * g[i] + 0.9 * (*nu)[i];
      const double var = centered ? (*nu)[i] - (*mu)[i] * (*mu)[i] : (*nu)[i];
      const double u = -lr * (g[i] / std::sqrt(var + 1e-8));
      (*tr)[i] = u + momentum * (*tr)[i];  // momentum after the learning rate
      x[i] += (*tr)[i];
    }
  }};
}

Ref adagrad_ref(double lr) {
  auto s = std::make_shared<Vec>(3, 0.1);
  return {[=](Vec& x, const Vec& g, int) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      (*s)[i] += g[i] * g[i];
      x[i] -= lr * g[i] / std::sqrt((*s)[i] + 1e-7);
    }
  }};
}

Ref lamb_ref(double lr) {
  auto mu = std::make_shared<Vec>(3, 0.0);
  auto nu = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int t) {
    Vec u = adam_direction(*mu, *nu, g, t, 0.9, 0.999, 1e-6, false);
    const double ratio = norm(x) / norm(u);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] -= lr * ratio * u[i];
  }};
}

Ref adafactor_ref(double lr) {
  auto v = std::make_shared<Vec>(3, 0.0);
  return {[=](Vec& x, const Vec& g, int t) {
    // Optax forms beta_t = 1 - t^-0.8 in float32.
    const auto beta = static_cast<double>(1.0f - std::pow(static_cast<float>(t), -0.8f));
    const auto one_minus_beta = static_cast<double>(1.0f - static_cast<float>(beta));
    Vec u(3);
    double su = 0, sp = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      (*v)[i] = beta * (*v)[i] + one_minus_beta * (g[i] * g[i] + 1e-30);
      u[i] = g[i] * (1.0 / std::sqrt((*v)[i]));
      su += u[i] * u[i];
      sp += x[i] * x[i];
    }
    const double clip = std::max(1.0, std::sqrt(su / 3.0) / 1.0);
    const double scale = std::max(std::sqrt(sp / 3.0), 1e-3);
    for (std::size_t i = 0; i < 3; ++i) x[i] -= scale * (lr * (u[i] / clip));
  }};
}

std::vector<Vec> ref_trajectory(Ref r, int steps) {
  Vec x{1, 2, 3};
  std::vector<Vec> xs;
  for (int t = 1; t <= steps; ++t) {
    Vec g{2 * x[0], 2 * x[1], 2 * x[2]};
    r.step(x, g, t);
    xs.push_back(x);
  }
  return xs;
}

void check_trajectory(const std::vector<Vec>& got, const std::vector<Vec>& want, double rtol,
                      double atol = 0.0) {
  REQUIRE(got.size() == want.size());
  for (std::size_t s = 0; s < got.size(); ++s) {
    for (std::size_t i = 0; i < got[s].size(); ++i) {
      INFO("step ", s + 1, " element ", i, ": got ", got[s][i], " want ", want[s][i]);
      CHECK(std::abs(got[s][i] - want[s][i]) <= rtol * std::abs(want[s][i]) + atol);
    }
  }
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.alias: Optax's doctest outputs on sum(x^2)") {
    CHECK(doctest_line(trajectory(sgd(0.003), float32, 5)) ==
          "1.38E+01 1.37E+01 1.35E+01 1.33E+01 1.32E+01");
    CHECK(doctest_line(trajectory(adam(0.003), float32, 5)) ==
          "1.40E+01 1.39E+01 1.39E+01 1.39E+01 1.38E+01");
    CHECK(doctest_line(trajectory(adamw(0.003), float32, 5)) ==
          "1.40E+01 1.39E+01 1.39E+01 1.39E+01 1.38E+01");
    CHECK(doctest_line(trajectory(lion(0.003), float32, 5)) ==
          "1.40E+01 1.39E+01 1.39E+01 1.39E+01 1.38E+01");
    CHECK(doctest_line(trajectory(nadam(0.003), float32, 5)) ==
          "1.39E+01 1.39E+01 1.39E+01 1.38E+01 1.38E+01");
    CHECK(doctest_line(trajectory(rmsprop(0.003), float32, 5)) ==
          "1.39E+01 1.38E+01 1.37E+01 1.37E+01 1.36E+01");
    CHECK(doctest_line(trajectory(adagrad(1.0), float32, 5)) ==
          "5.01E+00 2.40E+00 1.25E+00 6.86E-01 3.85E-01");
    CHECK(doctest_line(trajectory(lamb(0.003), float32, 5)) ==
          "1.39E+01 1.38E+01 1.38E+01 1.37E+01 1.36E+01");
    CHECK(doctest_line(trajectory(adafactor(0.003), float32, 5)) ==
          "1.39E+01 1.38E+01 1.38E+01 1.37E+01 1.36E+01");
  }

  TEST_CASE("optim.alias: float64 trajectories match the double-precision references") {
    const int n = 20;
    check_trajectory(trajectory(sgd(0.01), float64, n),
                     ref_trajectory(sgd_ref(0.01, 0, false, false), n), 1e-13);
    check_trajectory(trajectory(sgd(0.01, {.momentum = 0.9}), float64, n),
                     ref_trajectory(sgd_ref(0.01, 0.9, false, true), n), 1e-12);
    check_trajectory(trajectory(sgd(0.01, {.momentum = 0.9, .nesterov = true}), float64, n),
                     ref_trajectory(sgd_ref(0.01, 0.9, true, true), n), 1e-12);
    check_trajectory(trajectory(adam(0.1), float64, n), ref_trajectory(adam_ref(0.1, 0, false), n),
                     1e-12);
    check_trajectory(trajectory(adamw(0.1, {.weight_decay = 0.01}), float64, n),
                     ref_trajectory(adam_ref(0.1, 0.01, false), n), 1e-12);
    check_trajectory(trajectory(nadam(0.1), float64, n), ref_trajectory(adam_ref(0.1, 0, true), n),
                     1e-12);
    check_trajectory(trajectory(lion(0.1), float64, n), ref_trajectory(lion_ref(0.1, 1e-3), n),
                     1e-12);
    check_trajectory(trajectory(rmsprop(0.01), float64, n),
                     ref_trajectory(rmsprop_ref(0.01, false, 0.0), n), 1e-12);
    check_trajectory(trajectory(rmsprop(0.01, {.centered = true, .momentum = 0.5}), float64, n),
                     ref_trajectory(rmsprop_ref(0.01, true, 0.5), n), 1e-11);
    check_trajectory(trajectory(adagrad(0.5), float64, n), ref_trajectory(adagrad_ref(0.5), n),
                     1e-12);
    check_trajectory(trajectory(lamb(0.05), float64, n), ref_trajectory(lamb_ref(0.05), n), 1e-12);
    check_trajectory(trajectory(adafactor(0.05), float64, n),
                     ref_trajectory(adafactor_ref(0.05), n), 1e-12);
  }

  TEST_CASE("optim.alias: float32 trajectories follow the references to float32 accuracy") {
    // Relative and absolute tolerances: Adam's iterate crosses zero, where float32 rounding of
    // the bias corrections is large relative to x.
    const int n = 20;
    check_trajectory(trajectory(adam(0.1), float32, n), ref_trajectory(adam_ref(0.1, 0, false), n),
                     1e-4, 1e-5);
    check_trajectory(trajectory(sgd(0.01, {.momentum = 0.9}), float32, n),
                     ref_trajectory(sgd_ref(0.01, 0.9, false, true), n), 1e-5, 1e-5);
    check_trajectory(trajectory(rmsprop(0.01), float32, n),
                     ref_trajectory(rmsprop_ref(0.01, false, 0.0), n), 1e-5, 1e-5);
    check_trajectory(trajectory(adagrad(0.5), float32, n), ref_trajectory(adagrad_ref(0.5), n),
                     1e-5, 1e-5);
    check_trajectory(trajectory(lamb(0.05), float32, n), ref_trajectory(lamb_ref(0.05), n), 1e-4,
                     1e-5);
  }

  TEST_CASE("optim.alias: state layouts are Optax's") {
    Tree p{{"x", f32({1, 2, 3})}};
    auto keys = [&](const GradientTransformation& tx, const std::string& path) {
      return tx.init(p).subtree(path).keys();
    };
    using K = std::vector<std::string>;
    CHECK(sgd(0.1).init(p).keys() == K{"0", "1"});
    CHECK(sgd(0.1).init(p).subtree("0").empty());
    CHECK(keys(sgd(0.1, {.momentum = 0.0}), "0") == K{"trace"});  // momentum 0 still traces
    CHECK(keys(adam(0.1), "0") == K{"count", "mu", "nu"});
    CHECK(adam(0.1).init(p).subtree("1").empty());
    CHECK(keys(adam(linear_schedule(0.1, 0.0, 10)), "1") == K{"count"});
    CHECK(adamw(0.1).init(p).keys() == K{"0", "1", "2"});
    CHECK(keys(adamw(0.1, {.mask = Tree{{"x", Array(true)}}}), "1") == K{"inner_state"});
    CHECK(rmsprop(0.1).init(p).keys() == K{"0", "1", "2"});
    CHECK(keys(rmsprop(0.1), "0") == K{"nu"});
    CHECK(keys(rmsprop(0.1, {.centered = true}), "0") == K{"mu", "nu"});
    CHECK(keys(adagrad(0.1), "0") == K{"sum_of_squares"});
    CHECK(lamb(0.1).init(p).keys() == K{"0", "1", "2", "3"});
    CHECK(keys(lion(0.1), "0") == K{"count", "mu"});
    CHECK(adafactor(0.1).init(p).keys() == K{"0", "1", "2", "3", "4"});
    CHECK(keys(adafactor(0.1), "0") == K{"count", "v", "v_col", "v_row"});
  }

  TEST_CASE("optim.alias: adamw's mask gates only the decay; schedules drive the learning rate") {
    Tree p{{"kernel", full({2}, 2.0, float64)}, {"bias", full({2}, 2.0, float64)}};
    Tree zero_grads{{"kernel", zeros({2}, float64)}, {"bias", zeros({2}, float64)}};
    auto tx = adamw(0.5, {.weight_decay = 0.1, .mask = [](const std::string& path, const Array&) {
                            return path == "kernel";
                          }});
    auto [u, s] = tx.update(zero_grads, tx.init(p), p);
    // Adam's direction is 0 for zero gradients; only the kernel decays: -0.5 * 0.1 * 2.
    CHECK(values(u.get("kernel")) == Vec{-0.1, -0.1});
    CHECK(values(u.get("bias")) == Vec{0.0, 0.0});
    // sgd with a schedule: step i uses schedule(i).
    auto sched = sgd([](std::int64_t c) { return 0.1 * static_cast<double>(c + 1); });
    Tree g{{"kernel", ones({2}, float64)}, {"bias", ones({2}, float64)}};
    Tree st = sched.init(p);
    for (int i = 0; i < 3; ++i) {
      auto r = sched.update(g, st, p);
      CHECK(r.updates.get("bias").at<double>({0}) ==
            doctest::Approx(-0.1 * (i + 1)).epsilon(1e-15));
      st = r.state;
    }
    CHECK(st.get("1/count").item<int>() == 3);
  }

}  // TEST_SUITE
