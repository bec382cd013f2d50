// TrainState, the pure train_step pattern of docs/optim.md, and differentiating through an
// optimizer step (the op path the formulas take when their inputs are traced).
#include <doctest/doctest.h>

#include <cmath>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/optim.hpp"
#include "jute/testing.hpp"
#include "optim/optim_test_util.hpp"

using namespace jute;
using namespace jute::optim;
using namespace jute::optim_test;

namespace {

struct Batch {
  Array x;  // (n, 2)
  Array y;  // (n,)
};

struct StepOutput {
  TrainState state;
  Tree metrics;
};

/// The pattern of docs/optim.md: a pure function of the state and the batch. The model is
/// y = x·w + b, and "batch_stats" keeps a running mean of the inputs (a collection that is
/// updated by the forward pass, not by gradients).
StepOutput train_step(const TrainState& state, const Batch& batch) {
  auto loss_fn = [&](const Tree& params) {
    Array pred = matmul(batch.x, params.get("w")) + params.get("b");
    Array running = state.collections().get("batch_stats/mean");
    Tree updated{{"batch_stats", Tree{{"mean", running * 0.9 + mean(batch.x, 0) * 0.1}}}};
    return std::pair{mean(square(pred - batch.y)), updated};
  };
  auto [loss, updated, grads] = value_and_grad_with_aux(loss_fn)(state.params());
  return {state.apply_gradients(grads, updated), Tree{{"loss", loss}}};
}

Batch regression_batch() {
  // y = 2 x0 - 3 x1 + 0.5
  Array x({{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}, {2.0f, -1.0f}, {-1.0f, 0.5f}});
  Array y = matmul(x, f32({2, -3})) + 0.5f;
  return {x, y};
}

TrainState initial_state() {
  Tree params{{"w", zeros({2})}, {"b", zeros({})}};
  return TrainState::create(params, adam(0.1), Tree{{"batch_stats", Tree{{"mean", zeros({2})}}}});
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.TrainState: create, apply_gradients and the collections") {
    TrainState s = initial_state();
    CHECK(s.step().dtype() == int32);
    CHECK(s.step().item<int>() == 0);
    CHECK(s.opt_state() == s.tx().init(s.params()));
    CHECK(s.variables().collections() == std::vector<std::string>{"batch_stats", "params"});
    Tree grads{{"w", f32({1, -1})}, {"b", Array::scalar(0.5, float32)}};
    TrainState s1 = s.apply_gradients(grads);
    CHECK(s1.step().item<int>() == 1);
    auto [u, opt] = s.tx().update(grads, s.opt_state(), s.params());
    CHECK(s1.params() == apply_updates(s.params(), u));
    CHECK(s1.opt_state() == opt);
    CHECK(s.step().item<int>() == 0);  // the old state is unchanged
    CHECK(s.params().get("w").to_vector<float>() == std::vector<float>{0, 0});
    Tree new_stats{{"batch_stats", Tree{{"mean", ones({2})}}}};
    TrainState s2 = s.apply_gradients(grads, new_stats);
    CHECK(s2.collections().get("batch_stats/mean").to_vector<float>() == std::vector<float>{1, 1});
    CHECK(s2.params() == s1.params());
    CHECK_THROWS_WITH_AS(s.apply_gradients(grads, Tree{{"params", Tree()}}),
                         doctest::Contains("hold \"params\""), ValueError);
    CHECK_THROWS_AS(TrainState::create(Tree(), adam(0.1), Tree{{"step", zeros({})}}), ValueError);
    Tree bad{{"w", f32({1, -1})}};
    const std::string m = message_of([&] { s.apply_gradients(bad); });
    CHECK(m.find("[optim.update]") == 0);
    CHECK(m.find("at b") != std::string::npos);
  }

  TEST_CASE("optim.TrainState: to_tree is Flax's layout and from_tree restores it") {
    TrainState s = initial_state().apply_gradients(
        Tree{{"w", f32({1, -1})}, {"b", Array::scalar(0.5, float32)}});
    Tree t = s.to_tree();
    CHECK(t.keys() == std::vector<std::string>{"batch_stats", "opt_state", "params", "step"});
    CHECK(t.subtree("opt_state").keys() == std::vector<std::string>{"0", "1"});
    CHECK(t.get("opt_state/0/count").item<int>() == 1);
    TrainState r = TrainState::from_tree(t, adam(0.1));
    CHECK(r.to_tree() == t);
    // A restored state continues exactly as the original.
    Tree g{{"w", f32({0.5f, 0.25f})}, {"b", Array::scalar(-1.0, float32)}};
    CHECK(r.apply_gradients(g).to_tree() == s.apply_gradients(g).to_tree());
    CHECK_THROWS_WITH_AS(TrainState::from_tree(t.erase("opt_state"), adam(0.1)),
                         doctest::Contains("no \"opt_state\" entry"), KeyError);
    const std::string m =
        message_of([&] { TrainState::from_tree(t, sgd(0.1, {.momentum = 0.9})); });
    CHECK(m.find("[optim.TrainState.from_tree]") == 0);
    CHECK(m.find("at 0/count") != std::string::npos);
    CHECK_THROWS_AS(TrainState::from_tree(t.set("step", f32({1})), adam(0.1)), ValueError);
  }

  TEST_CASE("optim.TrainState: the pure train_step pattern learns and is deterministic") {
    const Batch batch = regression_batch();
    TrainState state = initial_state();
    const Tree start = state.to_tree();
    double first_loss = 0;
    double last_loss = 0;
    for (int i = 0; i < 300; ++i) {
      auto [next, metrics] = train_step(state, batch);
      if (i == 0) first_loss = metrics.get("loss").item<double>();
      last_loss = metrics.get("loss").item<double>();
      state = next;
    }
    CHECK(last_loss < 1e-3 * first_loss);
    CHECK(state.step().item<int>() == 300);
    CHECK(state.params().get("w").at<float>({0}) == doctest::Approx(2.0).epsilon(1e-2));
    CHECK(state.collections().get("batch_stats/mean").at<float>({0}) ==
          doctest::Approx(0.6).epsilon(1e-3));
    // An rvalue step (buffers reused) equals the copying one.
    TrainState copy = TrainState::from_tree(deep_copy(state.to_tree()), adam(0.1));
    Tree g{{"w", f32({0.1f, -0.2f})}, {"b", Array::scalar(0.3, float32)}};
    const void* w_buf = copy.params().get("w").raw_data();
    TrainState via_copy = state.apply_gradients(g);
    TrainState via_move = std::move(copy).apply_gradients(g);
    CHECK(via_move.to_tree() == via_copy.to_tree());
    CHECK(via_move.params().get("w").raw_data() == w_buf);
    // Pure: the same state and batch give the same bits, and the inputs are untouched.
    TrainState again = TrainState::from_tree(start, adam(0.1));
    auto a = train_step(again, batch);
    auto b = train_step(again, batch);
    CHECK(a.state.to_tree() == b.state.to_tree());
    CHECK(again.to_tree() == start);
  }

  TEST_CASE("optim.traced: differentiating through an optimizer step") {
    // Meta-learning: the loss after one step of clip + AdamW (+ LAMB's trust ratio), as a function
    // of the params the step starts from. With eps_root > 0 the derivative is finite.
    auto tx = chain({clip_by_global_norm(5.0), adamw(0.1, {.eps_root = 1e-8, .weight_decay = 0.01}),
                     scale_by_trust_ratio()});
    Tree p0{{"w", f64({0.5, -1.0, 2.0})}};
    Tree state = tx.init(p0);
    for (double c : {1.0, -0.5}) {
      state = tx.update(Tree{{"w", f64({c, 2 * c, -c})}}, state, p0).state;
    }
    auto after_step = [&](const Array& p) {
      Tree params{{"w", p}};
      Tree grads{{"w", p * 2.0}};
      auto [u, s] = tx.update(grads, state, params);
      return sum(square(apply_updates(params, u).get("w")));
    };
    const Array x = f64({0.5, -1.0, 2.0});
    testing::check_grads(after_step, x, 1, {"rev"}, {.atol = 1e-6, .rtol = 1e-6, .eps = 1e-6});
    // The traced (op) path computes the same value as the fused loops.
    auto [value, grad] = value_and_grad(ArrayFn(after_step))(x);
    CHECK(value.item<double>() == doctest::Approx(after_step(x).item<double>()).epsilon(1e-14));
    for (double g : values(grad)) CHECK(std::isfinite(g));
  }

  TEST_CASE("optim.traced: every fused formula agrees with its op path") {
    // Each optimizer's update with traced gradients (inside vjp) equals the fused update.
    Tree p{{"a", f64({0.5, -1.0, 2.0, 0.0})}, {"b", f64({3.0})}};
    std::vector<GradientTransformation> txs{
        sgd(0.1, {.momentum = 0.9, .nesterov = true}),
        adam(0.1, {.eps_root = 1e-12}),
        nadam(0.1),
        adamw(0.1),
        rmsprop(0.1, {.centered = true, .momentum = 0.5}),
        rmsprop(0.1, {.eps_in_sqrt = false, .bias_correction = true}),
        adagrad(0.1),
        lamb(0.1),
        lion(0.1),
        adafactor(0.1),
        chain({clip(0.5), clip_by_global_norm(0.1), clip_by_block_rms(0.1)}),
        chain({ema(0.9), trace(0.5), scale_by_sign()}),
        scale_by_lion({.mode = LionMode::Refined}),
        scale_by_lion({.mode = LionMode::Smooth})};
    Tree g{{"a", f64({0.25, -2.0, 1.0, 0.0})}, {"b", f64({-0.5})}};
    for (std::size_t i = 0; i < txs.size(); ++i) {
      INFO("transformation ", i);
      const auto& tx = txs[i];
      Tree state = tx.update(g, tx.init(p), p).state;  // nonzero moments
      const Tree fused = tx.update(g, state, p).updates;
      auto traced = [&](const Tree& grads) {
        Tree u = tx.update(grads, state, p).updates;
        Array total = Array::scalar(0.0, float64);
        for (const auto& [path, leaf] : flatten(u)) total = total + sum(leaf * fused.get(path));
        return total;
      };
      auto [value, vjp_fn] = vjp(TreeFn(traced), g);
      double want = 0;
      for (const Array& leaf : leaves(fused))
        for (double v : values(leaf)) want += v * v;
      CHECK(value.item<double>() == doctest::Approx(want).epsilon(1e-13));
    }
  }

}  // TEST_SUITE
