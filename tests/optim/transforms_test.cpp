// The building blocks: formulas against values derived by hand in the test, Optax's test vectors
// (optax/_src/transform_test.py, transforms/_adding_test.py, _clipping_test.py,
// _accumulation_test.py), state layouts and errors.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <limits>

#include "jute/ops.hpp"
#include "jute/optim/transforms.hpp"
#include "optim/optim_test_util.hpp"

using namespace jute;
using namespace jute::optim;
using namespace jute::optim_test;

namespace {

/// Runs `tx` on the gradient sequence and returns the updates of every step.
std::vector<Tree> run_updates(const GradientTransformation& tx, const Tree& params,
                              const std::vector<Tree>& grads) {
  Tree state = tx.init(params);
  std::vector<Tree> out;
  for (const auto& g : grads) {
    auto [u, s] = tx.update(g, state, params);
    out.push_back(u);
    state = s;
  }
  return out;
}

void check_near(const std::vector<double>& got, const std::vector<double>& want, double rtol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element ", i, ": got ", got[i], " want ", want[i]);
    CHECK(std::abs(got[i] - want[i]) <= rtol * std::abs(want[i]) + 1e-300);
  }
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.scale and scale_by_learning_rate") {
    Tree g{{"w", f32({1, -2, 4})}};
    auto s = scale(0.5);
    CHECK(s.init(g).empty());
    CHECK(array_equal(s.update(g, Tree()).updates.get("w"), f32({0.5f, -1, 2})));
    auto lr = scale_by_learning_rate(0.25);
    CHECK(array_equal(lr.update(g, lr.init(g)).updates.get("w"), f32({-0.25f, 0.5f, -1})));
    auto up = scale_by_learning_rate(0.25, /*flip_sign=*/false);
    CHECK(array_equal(up.update(g, up.init(g)).updates.get("w"), f32({0.25f, -0.5f, 1})));
    // float64 leaves keep the double hyperparameter exactly; float32 ones round it once.
    Tree g64{{"w", f64({1.0})}};
    CHECK(scale(0.1).update(g64, Tree()).updates.get("w").item<double>() == 0.1);
    CHECK(scale(0.1).update(Tree{{"w", f32({1})}}, Tree()).updates.get("w").item<float>() == 0.1f);
  }

  TEST_CASE("optim.scale_by_schedule: the first update uses schedule(0) and the count increments") {
    auto tx = scale_by_schedule([](std::int64_t c) { return static_cast<double>(c + 1); });
    Tree g{{"w", f32({1, 2})}};
    Tree state = tx.init(g);
    CHECK(state.get("count").dtype() == int32);
    CHECK(state.get("count").item<int>() == 0);
    for (int i = 0; i < 3; ++i) {
      auto [u, s] = tx.update(g, state);
      CHECK(array_equal(u.get("w"), f32({float(i + 1), 2.0f * float(i + 1)})));
      CHECK(s.get("count").item<int>() == i + 1);
      state = s;
    }
    // A learning-rate schedule flips the sign.
    auto lr =
        scale_by_learning_rate([](std::int64_t c) { return 0.5 * static_cast<double>(c + 1); });
    Tree ls = lr.init(g);
    CHECK(ls.get("count").item<int>() == 0);
    CHECK(array_equal(lr.update(g, ls).updates.get("w"), f32({-0.5f, -1})));
  }

  TEST_CASE("optim.scale_by_adam: three steps against the hand-written float64 formula") {
    const AdamOptions o{.b1 = 0.8, .b2 = 0.95, .eps = 1e-3, .eps_root = 1e-4};
    auto tx = scale_by_adam(o);
    Tree params{{"w", f64({1.0, -2.0, 0.5})}};
    std::vector<std::vector<double>> gs{{0.5, -1.0, 2.0}, {-0.25, 3.0, 0.0}, {1.0, 1.0, -4.0}};
    std::vector<Tree> grads;
    for (const auto& g : gs) grads.push_back(Tree{{"w", f64(g)}});
    auto us = run_updates(tx, params, grads);
    std::vector<double> mu(3, 0.0), nu(3, 0.0);
    for (int t = 1; t <= 3; ++t) {
      std::vector<double> want;
      for (int i = 0; i < 3; ++i) {
        const double g = gs[t - 1][i];
        mu[i] = (1 - o.b1) * g + o.b1 * mu[i];
        nu[i] = (1 - o.b2) * g * g + o.b2 * nu[i];
        const double mh = mu[i] / (1 - std::pow(o.b1, t));
        const double nh = nu[i] / (1 - std::pow(o.b2, t));
        want.push_back(mh / (std::sqrt(nh + o.eps_root) + o.eps));
      }
      check_near(values(us[t - 1].get("w")), want, 1e-14);
    }
    // The state: Optax's ScaleByAdamState layout.
    Tree state = tx.init(params);
    CHECK(state.keys() == std::vector<std::string>{"count", "mu", "nu"});
    CHECK(state.get("count").dtype() == int32);
    CHECK(state.get("mu/w").dtype() == float64);
    for (const auto& g : grads) state = tx.update(g, state).state;
    CHECK(state.get("count").item<int>() == 3);
    check_near(values(state.get("mu/w")), mu, 1e-14);
    check_near(values(state.get("nu/w")), nu, 1e-14);
  }

  TEST_CASE("optim.scale_by_adam: float32 results are the float32 formula's, bit for bit") {
    auto tx = scale_by_adam();
    std::vector<float> g{0.3f, -1.7f, 2.5f, 0.0f, 1e-4f, -3e3f, 7.0f, 0.125f, -0.5f};
    Tree grads{{"w", f32(g)}};
    auto [u, s] = tx.update(grads, tx.init(grads));
    const float c1 = static_cast<float>(1 - 0.9), b1 = 0.9f, c2 = static_cast<float>(1 - 0.999),
                b2 = 0.999f, eps = 1e-8f;
    const float bc1 = 1.0f - std::pow(b1, 1.0f), bc2 = 1.0f - std::pow(b2, 1.0f);
    std::vector<float> want;
    for (float x : g) {
      const float m = c1 * x + b1 * 0.0f;
      const float v = c2 * (x * x) + b2 * 0.0f;
      want.push_back((m / bc1) / (std::sqrt(v / bc2 + 0.0f) + eps));
    }
    CHECK(u.get("w").to_vector<float>() == want);
  }

  TEST_CASE("optim.scale_by_adam: nesterov (nadam) uses b1 mu/(1-b1^(t+1)) + (1-b1) g/(1-b1^t)") {
    auto tx = scale_by_adam({.nesterov = true});
    Tree params{{"w", f64({0.0, 0.0})}};
    std::vector<std::vector<double>> gs{{1.0, -2.0}, {0.5, 4.0}};
    std::vector<Tree> grads{Tree{{"w", f64(gs[0])}}, Tree{{"w", f64(gs[1])}}};
    auto us = run_updates(tx, params, grads);
    std::vector<double> mu(2, 0.0), nu(2, 0.0);
    for (int t = 1; t <= 2; ++t) {
      std::vector<double> want;
      for (int i = 0; i < 2; ++i) {
        const double g = gs[t - 1][i];
        mu[i] = 0.1 * g + 0.9 * mu[i];
        nu[i] = (1 - 0.999) * g * g + 0.999 * nu[i];
        const double mh =
            0.9 * (mu[i] / (1 - std::pow(0.9, t + 1))) + 0.1 * (g / (1 - std::pow(0.9, t)));
        want.push_back(mh / (std::sqrt(nu[i] / (1 - std::pow(0.999, t))) + 1e-8));
      }
      check_near(values(us[t - 1].get("w")), want, 1e-14);
    }
  }

  TEST_CASE("optim.scale_by_adam: mu_dtype sets the stored first moment's dtype only") {
    auto tx = scale_by_adam({.mu_dtype = float64});
    Tree p{{"w", f32({1, 2})}};
    Tree s = tx.init(p);
    CHECK(s.get("mu/w").dtype() == float64);
    CHECK(s.get("nu/w").dtype() == float32);
    auto [u, s2] = tx.update(p, s);
    CHECK(s2.get("mu/w").dtype() == float64);
    CHECK(s2.get("nu/w").dtype() == float32);
  }

  TEST_CASE("optim.scale_by_adam: counts saturate at INT32_MAX") {
    auto tx = scale_by_adam();
    Tree g{{"w", f32({1})}};
    Tree s =
        tx.init(g).set("count", Array::scalar(std::numeric_limits<std::int32_t>::max(), int32));
    auto [u, s2] = tx.update(g, s);
    CHECK(s2.get("count").item<std::int64_t>() == std::numeric_limits<std::int32_t>::max());
    CHECK(std::isfinite(u.get("w").item<float>()));
  }

  TEST_CASE("optim.scale_by_rms with bias correction and eps outside tracks scale_by_adam(b1=0)") {
    auto rms = scale_by_rms({.decay = 0.999, .eps_in_sqrt = false, .bias_correction = true});
    auto adam0 = scale_by_adam({.b1 = 0.0, .b2 = 0.999});
    Tree p{{"a", f32({1, -2, 3})}, {"b", f32({0.5f})}};
    std::vector<Tree> grads;
    for (int i = 0; i < 5; ++i) {
      grads.push_back(Tree{{"a", f32({0.1f * float(i + 1), -1.0f, 2.0f - float(i)})},
                           {"b", f32({float(i) - 2.0f})}});
    }
    auto a = run_updates(rms, p, grads);
    auto b = run_updates(adam0, p, grads);
    for (int i = 0; i < 5; ++i) CHECK(allclose(a[i], b[i], 1e-6, 1e-6));
    CHECK(rms.init(p).keys() == std::vector<std::string>{"count", "nu"});
    CHECK(scale_by_rms().init(p).keys() == std::vector<std::string>{"nu"});
  }

  TEST_CASE("optim.scale_by_rms and scale_by_stddev: eps placement, initial scale, centering") {
    Tree p{{"w", f64({0.0, 0.0})}};
    Tree g{{"w", f64({2.0, -1.0})}};
    // nu = 0.1 * g^2 (+ 0.9 * 1.0 with initial_scale 1).
    auto in_sqrt = scale_by_rms({.initial_scale = 1.0})
                       .update(g, scale_by_rms({.initial_scale = 1.0}).init(p));
    check_near(values(in_sqrt.updates.get("w")),
               {2.0 / std::sqrt(0.1 * 4 + 0.9 + 1e-8), -1.0 / std::sqrt(0.1 * 1 + 0.9 + 1e-8)},
               1e-14);
    auto tx = scale_by_rms({.eps = 1e-3, .eps_in_sqrt = false});
    auto out = tx.update(g, tx.init(p));
    check_near(values(out.updates.get("w")),
               {2.0 / (std::sqrt(0.4) + 1e-3), -1.0 / (std::sqrt(0.1) + 1e-3)}, 1e-14);
    check_near(values(out.state.get("nu/w")), {0.4, 0.1}, 1e-15);
    // Centered: nu - mu^2 with mu = 0.1 g.
    auto c = scale_by_stddev();
    auto cu = c.update(g, c.init(p));
    CHECK(cu.state.keys() == std::vector<std::string>{"mu", "nu"});
    check_near(values(cu.updates.get("w")),
               {2.0 / std::sqrt(0.4 - 0.04 + 1e-8), -1.0 / std::sqrt(0.1 - 0.01 + 1e-8)}, 1e-14);
    auto cb = scale_by_stddev({.bias_correction = true});
    CHECK(cb.init(p).keys() == std::vector<std::string>{"count", "mu", "nu"});
    // t = 1: mu_hat = g, nu_hat = g^2, so nu_hat - mu_hat^2 = 0 and u = g / sqrt(eps).
    check_near(values(cb.update(g, cb.init(p)).updates.get("w")),
               {2.0 / std::sqrt(1e-8), -1.0 / std::sqrt(1e-8)}, 1e-6);
  }

  TEST_CASE("optim.scale_by_rss: Adagrad's accumulator, zero where it is empty") {
    auto tx = scale_by_rss();
    Tree p{{"w", f64({0.0, 0.0})}};
    auto r = tx.update(Tree{{"w", f64({1.0, 2.0})}}, tx.init(p));
    CHECK(r.state.keys() == std::vector<std::string>{"sum_of_squares"});
    check_near(values(r.state.get("sum_of_squares/w")), {1.1, 4.1}, 1e-15);
    check_near(values(r.updates.get("w")),
               {1.0 / std::sqrt(1.1 + 1e-7), 2.0 / std::sqrt(4.1 + 1e-7)}, 1e-15);
    auto zero = scale_by_rss(0.0);
    auto z = zero.update(Tree{{"w", f64({0.0, 3.0})}}, zero.init(p));
    CHECK(values(z.updates.get("w"))[0] == 0.0);
    check_near({values(z.updates.get("w"))[1]}, {3.0 / std::sqrt(9.0 + 1e-7)}, 1e-15);
  }

  TEST_CASE("optim.scale_by_lion: sign of the interpolation, then the moment update") {
    auto tx = scale_by_lion();
    Tree p{{"w", f64({0.0, 0.0, 0.0})}};
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"count", "mu"});
    auto r = tx.update(Tree{{"w", f64({1.0, -2.0, 0.0})}}, s);
    CHECK(values(r.updates.get("w")) == std::vector<double>{1.0, -1.0, 0.0});
    check_near(values(r.state.get("mu/w")), {0.01, -0.02, 0.0}, 1e-14);
    // The second step interpolates with the old mu: c = 0.1 g + 0.9 mu.
    auto r2 = tx.update(Tree{{"w", f64({-0.01, 0.1, 0.0})}}, r.state);
    // c = [-0.001 + 0.009, 0.01 - 0.018, 0] = [0.008, -0.008, 0].
    CHECK(values(r2.updates.get("w")) == std::vector<double>{1.0, -1.0, 0.0});
    CHECK(r2.state.get("count").item<int>() == 2);
    auto smooth = scale_by_lion({.mode = LionMode::Smooth, .smooth_beta = 2.0});
    check_near(
        values(smooth.update(Tree{{"w", f64({1.0, -2.0, 0.0})}}, smooth.init(p)).updates.get("w")),
        {std::tanh(0.2), std::tanh(-0.4), 0.0}, 1e-15);
    auto refined = scale_by_lion({.mode = LionMode::Refined});
    check_near(
        values(
            refined.update(Tree{{"w", f64({1.0, -20.0, 0.0})}}, refined.init(p)).updates.get("w")),
        {0.1, -1.0, 0.0}, 1e-15);
  }

  TEST_CASE("optim.scale_by_trust_ratio, scale_by_param_block_rms and clip_by_block_rms") {
    auto tr = scale_by_trust_ratio();
    Tree u{{"a", f64({3.0, 4.0})}, {"z", f64({1.0, 1.0})}};
    Tree p{{"a", f64({6.0, 8.0})}, {"z", f64({0.0, 0.0})}};
    auto r = tr.update(u, tr.init(p), p);
    check_near(values(r.updates.get("a")), {6.0, 8.0}, 1e-15);           // ||p||/||u|| = 2
    CHECK(values(r.updates.get("z")) == std::vector<double>{1.0, 1.0});  // a zero norm: ratio 1
    CHECK_THROWS_WITH_AS(tr.update(u, Tree()), doctest::Contains("needs the params"), ValueError);

    auto pb = scale_by_param_block_rms();
    auto rb = pb.update(u, Tree(), p);
    check_near(values(rb.updates.get("a")), {3.0 * std::sqrt(50.0), 4.0 * std::sqrt(50.0)}, 1e-15);
    check_near(values(rb.updates.get("z")), {1e-3, 1e-3}, 1e-15);

    auto cb = clip_by_block_rms(1.0);
    Tree small{{"a", f64({0.1, -0.1})}};
    CHECK(cb.update(small, Tree()).updates == small);
    check_near(values(cb.update(u, Tree()).updates.get("a")),
               {3.0 / std::sqrt(12.5), 4.0 / std::sqrt(12.5)}, 1e-15);
  }

  TEST_CASE("optim.scale_by_factored_rms: row and column moments for a factored leaf") {
    auto tx = scale_by_factored_rms({.min_dim_size_to_factor = 2});
    Tree p{{"m", Array({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, float64)}, {"v", f64({1.0, 2.0})}};
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"count", "v", "v_col", "v_row"});
    CHECK(s.get("v_row/m").shape() == Shape{2});
    CHECK(s.get("v_col/m").shape() == Shape{3});
    CHECK(s.get("v/m").shape() == Shape{1});
    CHECK(s.get("v/v").shape() == Shape{2});
    CHECK(s.get("v_row/v").shape() == Shape{1});
    const std::vector<std::vector<double>> g{{0.5, -1.0, 2.0}, {1.5, 0.25, -3.0}};
    Tree grads{{"m", Array({{0.5, -1.0, 2.0}, {1.5, 0.25, -3.0}}, float64)},
               {"v", f64({2.0, -4.0})}};
    auto r = tx.update(grads, s, p);
    // Step 0: beta = 1 - 1^-0.8 = 0, so the moments are the means of g^2 + 1e-30.
    std::vector<double> row(2, 0.0), col(3, 0.0);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        row[i] += (g[i][j] * g[i][j] + 1e-30) / 3.0;
        col[j] += (g[i][j] * g[i][j] + 1e-30) / 2.0;
      }
    const double row_mean = (row[0] + row[1]) / 2.0;
    std::vector<double> want;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        want.push_back(g[i][j] / std::sqrt(row[i] / row_mean) / std::sqrt(col[j]));
    check_near(values(r.updates.get("m")), want, 1e-13);
    check_near(values(r.state.get("v_row/m")), row, 1e-14);
    check_near(values(r.state.get("v_col/m")), col, 1e-14);
    check_near(values(r.updates.get("v")), {1.0, -1.0}, 1e-14);  // g / sqrt(g^2 + eps)
    CHECK(r.state.get("count").item<int>() == 1);
    CHECK_THROWS_WITH_AS(tx.update(grads, s), doctest::Contains("needs the params"), ValueError);
  }

  TEST_CASE("optim.trace and ema: momentum, Nesterov and debiasing") {
    Tree p{{"w", f64({0.0})}};
    std::vector<Tree> ones_grads(2, Tree{{"w", f64({1.0})}});
    auto m = run_updates(trace(0.9), p, ones_grads);
    CHECK(values(m[0].get("w"))[0] == 1.0);
    check_near(values(m[1].get("w")), {1.9}, 1e-15);
    auto n = run_updates(trace(0.9, /*nesterov=*/true), p, ones_grads);
    check_near(values(n[0].get("w")), {1.9}, 1e-15);
    check_near(values(n[1].get("w")), {2.71}, 1e-15);
    CHECK(trace(0.9).init(p).keys() == std::vector<std::string>{"trace"});
    CHECK(trace(0.9, false, float64).init(Tree{{"w", f32({1})}}).get("trace/w").dtype() == float64);

    // ema(0.9) on 5 then 7: 0.5 then 1.15 without debiasing; 5 then 1.15 / 0.19 with.
    std::vector<Tree> seq{Tree{{"w", f64({5.0})}}, Tree{{"w", f64({7.0})}}};
    auto e = run_updates(ema(0.9, /*debias=*/false), p, seq);
    check_near(values(e[0].get("w")), {0.5}, 1e-15);
    check_near(values(e[1].get("w")), {1.15}, 1e-14);
    auto d = run_updates(ema(0.9), p, seq);
    check_near(values(d[0].get("w")), {5.0}, 1e-14);
    check_near(values(d[1].get("w")), {1.15 / (1 - 0.81)}, 1e-14);
    CHECK(ema(0.9).init(p).keys() == std::vector<std::string>{"count", "ema"});
  }

  TEST_CASE("optim.add_decayed_weights: Optax's masked test vector") {
    // add_decayed_weights(0.1, mask=(True, {"a": True, "b": False})), zero updates, ones params.
    Tree params{{"0", ones({2})}, {"1", Tree{{"a", ones({2})}, {"b", ones({2})}}}};
    Tree mask{{"0", Array(true)}, {"1", Tree{{"a", Array(true)}, {"b", Array(false)}}}};
    auto tx = add_decayed_weights(0.1, Mask(mask));
    Tree state = tx.init(params);
    CHECK(state.keys() == std::vector<std::string>{"inner_state"});
    CHECK(state.subtree("inner_state").empty());
    auto r = tx.update(zeros_like_tree(params), state, params);
    CHECK(array_equal(r.updates.get("0"), full({2}, 0.1)));
    CHECK(array_equal(r.updates.get("1/a"), full({2}, 0.1)));
    CHECK(array_equal(r.updates.get("1/b"), zeros({2})));
  }

  TEST_CASE("optim.add_decayed_weights: masks by a leaf predicate, schedules, zero and errors") {
    Tree params{{"kernel", ones({2, 2})}, {"bias", ones({2})}};
    Tree g{{"kernel", full({2, 2}, 0.5)}, {"bias", full({2}, 0.5)}};
    auto tx = masked(add_decayed_weights(0.1),
                     [](const std::string&, const Array& leaf) { return leaf.ndim() > 1; });
    auto r = tx.update(g, tx.init(params), params);
    CHECK(array_equal(r.updates.get("kernel"), full({2, 2}, 0.5f + 0.1f)));
    CHECK(r.updates.get("bias").impl() == g.get("bias").impl());  // untouched, not recomputed
    // A schedule is evaluated at the count, from 0.
    auto sched = add_decayed_weights([](std::int64_t c) { return 0.5 * static_cast<double>(c); });
    Tree s = sched.init(params);
    CHECK(s.get("count").item<int>() == 0);
    auto r0 = sched.update(g, s, params);
    CHECK(r0.updates == g);
    auto r1 = sched.update(g, r0.state, params);
    CHECK(array_equal(r1.updates.get("bias"), full({2}, 1.0)));
    CHECK(r1.state.get("count").item<int>() == 2);
    // A constant 0 passes the updates through.
    auto none = add_decayed_weights(0.0);
    CHECK(none.update(g, none.init(params), params).updates.get("bias").impl() ==
          g.get("bias").impl());
    CHECK_THROWS_WITH_AS(
        add_decayed_weights(0.1).update(g, Tree()),
        doctest::Contains("[optim.add_decayed_weights] This transformation needs the params"),
        ValueError);
  }

  TEST_CASE("optim.clip and clip_by_global_norm: Optax's test vectors") {
    Tree u{{"0", f32({500, 5})}, {"1", f32({300, 3})}};
    auto c = clip(1.0);
    auto cu = c.update(u, c.init(u)).updates;
    CHECK(array_equal(cu.get("0"), ones({2})));
    CHECK(array_equal(cu.get("1"), ones({2})));
    CHECK(array_equal(clip(1.0).update(Tree{{"w", f32({-3, 0.5f})}}, Tree()).updates.get("w"),
                      f32({-1, 0.5f})));
    for (int i = 1; i < 5; ++i) {
      auto tx = clip_by_global_norm(1.0 / i);
      auto once = tx.update(u, tx.init(u)).updates;
      CHECK(global_norm(once).item<double>() == doctest::Approx(1.0 / i).epsilon(1e-6));
      auto twice = tx.update(once, Tree()).updates;
      CHECK(allclose(twice, once, 1e-6, 1e-7));
    }
    // Below the maximum: untouched.
    Tree small{{"w", f32({0.3f, 0.4f})}};
    CHECK(clip_by_global_norm(1.0).update(small, Tree()).updates.get("w").impl() ==
          small.get("w").impl());
    // A NaN norm gives NaN updates (the comparison fails, so it rescales).
    Tree nan{{"w", f32({std::numeric_limits<float>::quiet_NaN(), 1})}};
    CHECK(std::isnan(clip_by_global_norm(1.0).update(nan, Tree()).updates.get("w").at<float>({1})));
  }

  TEST_CASE("optim.global_norm: the square root of the sum of all squares") {
    Tree t{{"a", f32({3})}, {"b", Tree{{"c", f32({4})}}}};
    CHECK(global_norm(t).item<float>() == 5.0f);
    CHECK(global_norm(t).dtype() == float32);
    CHECK(global_norm(Tree{{"a", f64({3})}, {"b", f32({4})}}).dtype() == float64);
    CHECK(global_norm(Tree()).item<float>() == 0.0f);
    CHECK_THROWS_AS(global_norm(Tree{{"i", Array({1, 2})}}), DtypeError);
  }

  TEST_CASE("optim.centralize and scale_by_sign") {
    Tree g{{"m", Array({{1.0f, 2.0f}, {3.0f, 4.0f}})}, {"v", f32({1, 2})}};
    auto r = centralize().update(g, Tree()).updates;
    CHECK(array_equal(r.get("m"), Array({{-0.5f, 0.5f}, {-0.5f, 0.5f}})));
    CHECK(r.get("v").impl() == g.get("v").impl());
    CHECK(array_equal(scale_by_sign().update(Tree{{"w", f32({-2, 0, 3})}}, Tree()).updates.get("w"),
                      f32({-1, 0, 1})));
  }

  TEST_CASE("optim.transforms: errors name the transformation, the entry and the path") {
    auto tx = scale_by_adam();
    Tree p{{"a", f32({1, 2})}, {"b", f32({3})}};
    Tree s = tx.init(p);
    CHECK_THROWS_WITH_AS(
        tx.update(p, s.erase("mu")),
        doctest::Contains("[optim.scale_by_adam] The state has no sub-Tree \"mu\""), ValueError);
    CHECK_THROWS_WITH_AS(tx.update(p, s.set("count", f32({1, 2}))),
                         doctest::Contains("a count must be an integer scalar"), ValueError);
    Tree other{{"a", f32({1, 2})}, {"c", f32({3})}};
    const std::string m = message_of([&] { tx.update(other, s); });
    CHECK(m.find("[optim.scale_by_adam]") == 0);
    CHECK(m.find("state's mu") != std::string::npos);
    CHECK(m.find("at b") != std::string::npos);
    Tree wrong{{"a", f32({1, 2, 3})}, {"b", f32({3})}};
    CHECK_THROWS_WITH_AS(tx.update(wrong, s), doctest::Contains("The leaf a has shape (3,)"),
                         ShapeError);
    Tree ints{{"a", Array({1, 2})}, {"b", f32({3})}};
    CHECK_THROWS_WITH_AS(scale(2.0).update(ints, Tree()),
                         doctest::Contains("The leaf a of the updates has dtype int32"),
                         DtypeError);
  }

  TEST_CASE("optim.scale_by_adam: the update is finite and bounded by ~1/(1-b1) per step") {
    CHECK(rc::check("adam's first step is sign(g) where |g| >> eps", [](std::vector<float> v) {
      RC_PRE(!v.empty());
      for (auto& x : v) x = std::isfinite(x) ? std::fmod(x, 1e6f) : 1.0f;
      Tree g{{"w", f32(v)}};
      auto tx = scale_by_adam();
      auto u = tx.update(g, tx.init(g)).updates.get("w").to_vector<float>();
      for (std::size_t i = 0; i < v.size(); ++i) {
        RC_ASSERT(std::isfinite(u[i]));
        if (std::abs(v[i]) > 1e-3f) RC_ASSERT(std::abs(u[i] - (v[i] > 0 ? 1.0f : -1.0f)) < 1e-4f);
      }
    }));
  }

}  // TEST_SUITE
