// Combinators: chain, masked, multi_transform, apply_if_finite, MultiSteps, inject_hyperparams —
// state layouts and Optax's test vectors (transforms/_combining_test.py, _masking_test.py,
// _conditionality_test.py, _accumulation_test.py, schedules/_inject_test.py).
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cmath>
#include <limits>

#include "jute/ops.hpp"
#include "jute/optim/alias.hpp"
#include "jute/optim/combine.hpp"
#include "jute/optim/schedules.hpp"
#include "optim/fusion.hpp"
#include "optim/optim_test_util.hpp"

using namespace jute;
using namespace jute::optim;
using namespace jute::optim_test;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

Tree scalar_tree(float v) { return Tree{{"p", f32({v})}}; }
float scalar_of(const Tree& t) { return t.get("p").item<float>(); }

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.chain: states keyed 0, 1, ... and updates passed along in order") {
    Tree p{{"w", f32({1, 2})}};
    auto tx = chain({scale(2.0), scale_by_adam(), scale(-1.0)});
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"0", "1", "2"});
    CHECK(s.subtree("0").empty());
    CHECK(s.subtree("1").keys() == std::vector<std::string>{"count", "mu", "nu"});
    auto [u, s2] = tx.update(p, s);
    // scale by 2, then Adam's first step (sign of 2g), then negate.
    // Adam's first step is sign(g) up to float32 bias corrections (1 - 0.999f is 0.000999987).
    CHECK(allclose(u.get("w"), f32({-1, -1}), 1e-5));
    CHECK(s2.get("1/count").item<int>() == 1);
    // Eleven transformations: keys "0".."10" (looked up by name, not by sorted position).
    std::vector<GradientTransformation> many;
    for (int i = 0; i < 11; ++i) many.push_back(i == 10 ? scale_by_adam() : scale(1.0));
    auto eleven = chain(many);
    Tree s11 = eleven.init(p);
    CHECK(s11.size() == 11);
    CHECK(s11.subtree("10").keys() == std::vector<std::string>{"count", "mu", "nu"});
    CHECK(eleven.update(p, s11).state.get("10/count").item<int>() == 1);
    CHECK_THROWS_WITH_AS(tx.update(p, s.erase("2")),
                         doctest::Contains("[optim.chain] The state has 2 entries but there are 3"),
                         ValueError);
    CHECK(chain({}).init(p).empty());
  }

  TEST_CASE("optim.chain: a fused learning rate gives the bits of the separate passes") {
    // chain runs (adam, lr), (trace, lr), (rms, lr), (decay, lr) ... as one pass per leaf; the
    // results must equal running each transformation on its own.
    Tree p{{"a", f32({0.5f, -1.5f, 2.0f, 0.0f})}, {"b", f64({3.0, -0.25})}};
    Tree g{{"a", f32({0.3f, -2.0f, 1.0f, 0.0f})}, {"b", f64({-0.5, 7.0})}};
    const Schedule sched = cosine_decay_schedule(0.1, 10);
    // The hooks that make chain fuse (src/optim/fusion.hpp).
    CHECK(scale_by_adam().fusion()->update_scaled);
    CHECK(scale_by_learning_rate(0.1).fusion()->factor);
    CHECK(scale_by_learning_rate(sched).fusion()->factor);
    CHECK(scale_by_lion().fusion() == nullptr);
    std::vector<std::vector<GradientTransformation>> parts{
        {scale_by_adam(), scale_by_learning_rate(0.1)},
        {scale_by_adam({.nesterov = true}), scale_by_learning_rate(sched)},
        {trace(0.9, true), scale_by_learning_rate(0.01)},
        {scale_by_rms(), scale_by_learning_rate(0.1)},
        {scale_by_stddev({.bias_correction = true}), scale(-0.3)},
        {scale_by_rss(), scale_by_learning_rate(sched)},
        {scale_by_adam(), add_decayed_weights(1e-2), scale_by_learning_rate(sched)},
        {scale_by_adam(), add_decayed_weights(0.0), scale_by_learning_rate(0.1)},
        {scale_by_lion(), add_decayed_weights(sched), scale_by_learning_rate(0.1)}};
    for (std::size_t c = 0; c < parts.size(); ++c) {
      INFO("chain ", c);
      auto fused = chain(parts[c]);
      Tree fs = fused.init(p);
      std::vector<Tree> ss;
      for (const auto& tx : parts[c]) ss.push_back(tx.init(p));
      for (int step = 0; step < 3; ++step) {
        auto [fu, fs2] = fused.update(g, fs, p);
        Tree u = g;
        for (std::size_t i = 0; i < parts[c].size(); ++i) {
          auto r = parts[c][i].update(u, ss[i], p);
          u = r.updates;
          ss[i] = r.state;
          CHECK(fs2.subtree(std::to_string(i)) == ss[i]);
        }
        CHECK(fu == u);
        fs = fs2;
      }
    }
  }

  TEST_CASE("optim.named_chain: states keyed by name") {
    Tree p{{"w", f32({1, 2})}};
    auto tx = named_chain({{"adam", scale_by_adam()}, {"lr", scale_by_learning_rate(0.1)}});
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"adam", "lr"});
    CHECK(tx.update(p, s).state.get("adam/count").item<int>() == 1);
    CHECK_THROWS_WITH_AS(named_chain({{"a", identity()}, {"a", identity()}}),
                         doctest::Contains("\"a\" is empty or repeated"), ValueError);
  }

  TEST_CASE("optim.masked: masked-out leaves pass through untouched and are not in the state") {
    Tree p{{"a", f32({1, 2})}, {"b", Tree{{"c", f32({3})}, {"d", f32({4})}}}};
    Tree g{{"a", f32({0.5f, 0.5f})}, {"b", Tree{{"c", f32({-1})}, {"d", f32({2})}}}};
    // The mask is a prefix: b as a whole is false.
    Tree mask{{"a", Array(true)}, {"b", Array(false)}};
    auto tx = masked(scale_by_adam(), Mask(mask));
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"inner_state"});
    CHECK(s.get("inner_state/mu/a").shape() == Shape{2});
    // Optax's MaskedNode: an empty Tree where the masked-out part was.
    CHECK(s.subtree("inner_state/mu/b").empty());
    CHECK(s.subtree("inner_state/nu/b").empty());
    auto [u, s2] = tx.update(g, s, p);
    CHECK(allclose(u.get("a"), ones({2}), 1e-5));
    CHECK(u.get("b/c").impl() == g.get("b/c").impl());  // the incoming update, not zero
    CHECK(u.get("b/d").impl() == g.get("b/d").impl());
    CHECK(s2.subtree("inner_state/mu/b").empty());
    CHECK(s2.get("inner_state/count").item<int>() == 1);
  }

  TEST_CASE("optim.masked: a mask function sees the updates; freeze zeroes the masked leaves") {
    Tree g{{"kernel", full({2, 2}, 3.0)}, {"bias", full({2}, 3.0)}};
    auto by_fn = masked(scale(2.0), [](const Tree& t) {
      return tree_map([](const Array& a) { return Array(a.ndim() == 1); }, t);
    });
    auto r = by_fn.update(g, by_fn.init(g));
    CHECK(array_equal(r.updates.get("bias"), full({2}, 6.0)));
    CHECK(array_equal(r.updates.get("kernel"), full({2, 2}, 3.0)));
    auto frozen = freeze([](const std::string& path, const Array&) { return path == "kernel"; });
    auto f = frozen.update(g, frozen.init(g));
    CHECK(array_equal(f.updates.get("kernel"), zeros({2, 2})));
    CHECK(array_equal(f.updates.get("bias"), full({2}, 3.0)));
  }

  TEST_CASE("optim.masked: masks that do not fit the params name the path") {
    Tree p{{"a", f32({1})}, {"b", Tree{{"c", f32({3})}}}};
    auto missing = masked(identity(), Mask(Tree{{"a", Array(true)}}));
    CHECK_THROWS_WITH_AS(
        missing.init(p),
        doctest::Contains("[optim.masked] The params have an entry at b that the mask lacks"),
        ValueError);
    auto extra =
        masked(identity(), Mask(Tree{{"a", Array(true)}, {"b", Array(true)}, {"z", Array(true)}}));
    CHECK_THROWS_WITH_AS(extra.init(p), doctest::Contains("The mask has an entry at z"),
                         ValueError);
    auto not_bool = masked(identity(), Mask(Tree{{"a", f32({1})}, {"b", Array(true)}}));
    CHECK_THROWS_WITH_AS(
        not_bool.init(p),
        doctest::Contains("The mask's leaf at a is f32[1]; mask leaves must be bool"), ValueError);
    auto deeper =
        masked(identity(), Mask(Tree{{"a", Tree{{"x", Array(true)}}}, {"b", Array(true)}}));
    CHECK_THROWS_WITH_AS(deeper.init(p),
                         doctest::Contains("sub-Tree at a where the params have a leaf"),
                         ValueError);
  }

  TEST_CASE("optim.masked: an all-true mask is the inner transformation") {
    CHECK(rc::check("masked(tx, all true) == tx", [](std::vector<float> v) {
      RC_PRE(!v.empty());
      for (auto& x : v) x = std::isfinite(x) ? std::fmod(x, 100.0f) : 0.0f;
      Tree g{{"w", f32(v)}};
      auto inner = scale_by_adam();
      auto m = masked(inner, [](const std::string&, const Array&) { return true; });
      auto a = inner.update(g, inner.init(g));
      auto b = m.update(g, m.init(g));
      RC_ASSERT(a.updates == b.updates);
      RC_ASSERT(a.state == b.state.subtree("inner_state"));
    }));
  }

  TEST_CASE(
      "optim.multi_transform: each label's leaves get their transformation, others untouched") {
    Tree p{{"encoder", Tree{{"kernel", f32({1, 2})}, {"bias", f32({3})}}},
           {"head", Tree{{"kernel", f32({4, 5})}}}};
    Tree g{{"encoder", Tree{{"kernel", f32({0.5f, -0.5f})}, {"bias", f32({1})}}},
           {"head", Tree{{"kernel", f32({2, -2})}}}};
    auto tx = multi_transform({{"adam", adam(0.1)}, {"sgd", sgd(0.01)}, {"frozen", set_to_zero()}},
                              {{"encoder", "adam"}, {"encoder/bias", "frozen"}, {"head", "sgd"}});
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"inner_states"});
    CHECK(s.subtree("inner_states").keys() == std::vector<std::string>{"adam", "frozen", "sgd"});
    CHECK(s.get("inner_states/adam/inner_state/0/mu/encoder/kernel").shape() == Shape{2});
    CHECK(s.subtree("inner_states/adam/inner_state/0/mu/encoder/bias").empty());
    CHECK(s.subtree("inner_states/adam/inner_state/0/mu/head/kernel").empty());
    auto [u, s2] = tx.update(g, s, p);
    // The encoder kernel moves as adam(0.1) alone would move it.
    Tree ek{{"k", g.get("encoder/kernel")}};
    auto alone = adam(0.1);
    CHECK(array_equal(
        u.get("encoder/kernel"),
        alone.update(ek, alone.init(Tree{{"k", p.get("encoder/kernel")}})).updates.get("k")));
    CHECK(array_equal(u.get("encoder/bias"), zeros({1})));
    CHECK(array_equal(u.get("head/kernel"), f32({-0.02f, 0.02f})));
    CHECK(s2.get("inner_states/adam/inner_state/0/count").item<int>() == 1);
    // Labels from a function of the path.
    auto by_fn = multi_transform({{"a", scale(2.0)}, {"b", scale(3.0)}},
                                 [](const std::string& path, const Array&) {
                                   return path.rfind("head", 0) == 0 ? "a" : "b";
                                 });
    auto r = by_fn.update(g, by_fn.init(p));
    CHECK(array_equal(r.updates.get("head/kernel"), f32({4, -4})));
    CHECK(array_equal(r.updates.get("encoder/bias"), f32({3})));
  }

  TEST_CASE("optim.multi_transform: a label without a transformation is an error") {
    Tree p{{"a", f32({1})}, {"b", f32({2})}};
    auto tx = multi_transform({{"x", identity()}}, {{"a", "x"}, {"b", "y"}});
    CHECK_THROWS_WITH_AS(tx.init(p),
                         doctest::Contains("The parameter b has the label \"y\", which has no "
                                           "transformation (transformations: \"x\")"),
                         ValueError);
    auto unlabelled = multi_transform({{"x", identity()}}, {{"a", "x"}});
    CHECK_THROWS_WITH_AS(unlabelled.init(p), doctest::Contains("The parameter b has no label"),
                         ValueError);
  }

  TEST_CASE("optim.apply_if_finite: Optax's NaN sequence") {
    // apply_if_finite(sgd(1.0), 2) with p = 0 and the gradient of p*x, i.e. x.
    auto tx = apply_if_finite(sgd(1.0), 2);
    Tree p = scalar_tree(0.0f);
    Tree s = tx.init(p);
    CHECK(s.keys() == std::vector<std::string>{"inner_state", "last_finite", "notfinite_count",
                                               "total_notfinite"});
    auto step = [&](float x) {
      auto [u, s2] = tx.update(scalar_tree(x), s, p);
      p = apply_updates(p, u);
      s = s2;
    };
    step(1.0f);
    CHECK(scalar_of(p) == -1.0f);
    step(kNaN);
    CHECK(s.get("notfinite_count").item<int>() == 1);
    CHECK_FALSE(s.get("last_finite").item<bool>());
    step(kNaN);
    CHECK(s.get("notfinite_count").item<int>() == 2);
    CHECK(scalar_of(p) == -1.0f);
    step(1.0f);
    CHECK(scalar_of(p) == -2.0f);
    CHECK(s.get("notfinite_count").item<int>() == 0);
    CHECK(s.get("last_finite").item<bool>());
    step(kNaN);
    step(kNaN);
    CHECK(scalar_of(p) == -2.0f);
    step(kNaN);  // the third in a row is let through
    CHECK(std::isnan(scalar_of(p)));
    CHECK(s.get("total_notfinite").item<int>() == 5);
  }

  TEST_CASE("optim.MultiSteps: the mean of k gradients every k-th call, zeros in between") {
    MultiSteps ms(scale(1.0), 4);
    Tree p = scalar_tree(0.0f);
    Tree s = ms.init(p);
    CHECK(s.keys() == std::vector<std::string>{"acc_grads", "gradient_step", "inner_opt_state",
                                               "mini_step", "skip_state"});
    CHECK(s.get("acc_grads/p").dtype() == float32);
    CHECK(s.subtree("skip_state").empty());
    for (int i = 1; i <= 4; ++i) {
      auto [u, s2] = ms.update(scalar_tree(float(i)), s, p);
      s = s2;
      if (i < 4) {
        CHECK(scalar_of(u) == 0.0f);
        CHECK_FALSE(ms.has_updated(s));
      } else {
        CHECK(scalar_of(u) == 2.5f);
        CHECK(ms.has_updated(s));
      }
    }
    CHECK(s.get("gradient_step").item<int>() == 1);
    CHECK(s.get("mini_step").item<int>() == 0);
    CHECK(s.get("acc_grads/p").item<float>() == 0.0f);
    // The sum instead of the mean.
    MultiSteps sum(scale(1.0), 2, /*use_grad_mean=*/false);
    Tree ss = sum.init(p);
    ss = sum.update(scalar_tree(3), ss, p).state;
    CHECK(scalar_of(sum.update(scalar_tree(4), ss, p).updates) == 7.0f);
    CHECK_THROWS_AS(MultiSteps(scale(1.0), 0), ValueError);
  }

  TEST_CASE("optim.MultiSteps: skipping non-finite gradients") {
    MultiSteps ms(sgd(1.0), 2, true, skip_not_finite);
    auto tx = ms.gradient_transformation();
    Tree p = scalar_tree(0.0f);
    Tree s = tx.init(p);
    CHECK(s.subtree("skip_state").keys() ==
          std::vector<std::string>{"num_not_finite", "should_skip"});
    auto step = [&](float g) {
      auto [u, s2] = tx.update(scalar_tree(g), s, p);
      p = apply_updates(p, u);
      s = s2;
    };
    step(1.0f);
    step(1.0f);
    CHECK(scalar_of(p) == -1.0f);
    step(kInf);
    CHECK(s.get("mini_step").item<int>() == 0);
    CHECK(s.get("skip_state/should_skip").item<bool>());
    CHECK(s.get("skip_state/num_not_finite").item<int>() == 1);
    step(kNaN);
    CHECK(s.get("mini_step").item<int>() == 0);
    CHECK(scalar_of(p) == -1.0f);
    step(1.0f);
    step(1.0f);
    CHECK(scalar_of(p) == -2.0f);
    CHECK_FALSE(s.get("skip_state/should_skip").item<bool>());
  }

  TEST_CASE("optim.MultiSteps: a schedule of k and skip_large_updates") {
    MultiSteps ms(sgd(1e-4), [](std::int64_t step) -> std::int64_t { return step < 2 ? 1 : 3; });
    Tree p = scalar_tree(0.0f);
    Tree s = ms.init(p);
    std::vector<bool> updated;
    for (int i = 0; i < 8; ++i) {
      s = ms.update(scalar_tree(1.0f), s, p).state;
      updated.push_back(ms.has_updated(s));
    }
    CHECK(updated == std::vector<bool>{true, true, false, false, true, false, false, true});

    auto skip = skip_large_updates(100.0);
    auto [yes, ys] = skip(Tree{{"0", f32({11.0f})}, {"1", f32({0.0f})}}, 0, std::nullopt);
    CHECK(yes);
    CHECK(ys.get("should_skip").item<bool>());
    CHECK(ys.get("norm_squared").item<float>() == 121.0f);
    auto [no, ns] = skip(Tree{{"0", f32({0.0f})}}, 0, std::nullopt);
    CHECK_FALSE(no);
    CHECK(ns.get("norm_squared").item<float>() == 0.0f);
  }

  TEST_CASE("optim.inject_hyperparams: a schedule is evaluated at the current count") {
    // inject_hyperparams(scale)(step_size=piecewise_constant_schedule(3., {1: 5, 7: 2, 12: 1.5})).
    auto tx = inject_hyperparams(
        [](const Hyperparams& h) { return scale(h.at("step_size")); },
        {{"step_size", piecewise_constant_schedule(3.0, {{1, 5.0}, {7, 2.0}, {12, 1.5}})}});
    Tree g = scalar_tree(1.0f);
    Tree s = tx.init(g);
    CHECK(s.keys() ==
          std::vector<std::string>{"count", "hyperparams", "hyperparams_states", "inner_state"});
    CHECK(s.get("hyperparams_states/step_size/count").item<int>() == 0);
    std::vector<float> got;
    for (int i = 0; i < 15; ++i) {
      auto [u, s2] = tx.update(g, s);
      got.push_back(scalar_of(u));
      s = s2;
    }
    std::vector<float> want{3};
    want.insert(want.end(), 6, 15.0f);
    want.insert(want.end(), 5, 30.0f);
    want.insert(want.end(), 3, 45.0f);
    CHECK(got == want);
    CHECK(s.get("count").item<int>() == 15);

    // inject_hyperparams(scale)(lambda count: count): the first update is scaled by 0.
    auto by_count =
        inject_hyperparams([](const Hyperparams& h) { return scale(h.at("step_size")); },
                           {{"step_size", [](std::int64_t c) { return double(c); }}});
    Tree v{{"w", f32({-1, 0, 1})}};
    CHECK(array_equal(by_count.update(v, by_count.init(v)).updates.get("w"), zeros({3})));
  }

  TEST_CASE(
      "optim.inject_hyperparams: the stored value lags one step; numbers can be overwritten") {
    // inject_hyperparams(trace)(decay=piecewise_constant(.8, {3: .5, 9: 1.25}), nesterov=True).
    auto tx =
        inject_hyperparams([](const Hyperparams& h) { return trace(h.at("decay"), true); },
                           {{"decay", piecewise_constant_schedule(0.8, {{3, 0.5}, {9, 1.25}})}});
    Tree g = scalar_tree(1.0f);
    Tree s = tx.init(g);
    std::vector<double> before;
    for (int i = 0; i < 12; ++i) {
      before.push_back(s.get("hyperparams/decay").item<double>());
      s = tx.update(g, s).state;
    }
    std::vector<double> want(4, double(0.8f));
    want.insert(want.end(), 6, double(0.8f * 0.5f));
    want.insert(want.end(), 2, double(0.8f * 0.5f * 1.25f));
    CHECK(before == want);

    // inject_hyperparams(clip_by_global_norm)(0.1), then max_norm set by hand.
    auto clip = inject_hyperparams(
        [](const Hyperparams& h) { return clip_by_global_norm(h.at("max_norm")); },
        {{"max_norm", 0.1}});
    Tree big{{"a", f32({30, 40})}};
    Tree cs = clip.init(big);
    CHECK(cs.get("hyperparams/max_norm").item<float>() == 0.1f);
    CHECK(cs.subtree("hyperparams_states").empty());
    for (int i = 1; i < 5; ++i) {
      cs = cs.set("hyperparams/max_norm", Array::scalar(i, float32));
      auto [u, s2] = clip.update(big, cs);
      CHECK(global_norm(u).item<float>() == doctest::Approx(i).epsilon(1e-6));
      CHECK(s2.get("hyperparams/max_norm").item<float>() == float(i));
      cs = s2;
    }
  }

  TEST_CASE("optim.inject_hyperparams: the current learning rate is in the state") {
    auto sched = linear_schedule(1.0, 0.0, 10);
    auto tx = inject_hyperparams([](const Hyperparams& h) { return adam(h.at("learning_rate")); },
                                 {{"learning_rate", sched}});
    Tree p{{"w", f64({1.0})}};
    Tree s = tx.init(p);
    CHECK(s.get("hyperparams/learning_rate").dtype() == float64);  // the params' widest float
    for (int n = 1; n <= 4; ++n) {
      s = tx.update(p, s, p).state;
      CHECK(s.get("hyperparams/learning_rate").item<double>() == sched(n - 1));
    }
    CHECK(s.get("inner_state/0/count").item<int>() == 4);
    // An explicit dtype wins; a non-float one is an error.
    auto f32tx = inject_hyperparams([](const Hyperparams& h) { return scale(h.at("s")); },
                                    {{"s", 0.1}}, float32);
    CHECK(f32tx.init(p).get("hyperparams/s").dtype() == float32);
    CHECK_THROWS_AS(inject_hyperparams([](const Hyperparams&) { return identity(); }, {}, int32),
                    DtypeError);
  }

}  // TEST_SUITE
