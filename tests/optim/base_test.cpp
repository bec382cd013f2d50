// GradientTransformation, identity/set_to_zero/stateless, apply_updates
// (optax/_src/base_test.py, update_test.py) and update_and_apply (jute's one-call step).
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/optim/alias.hpp"
#include "jute/optim/base.hpp"
#include "jute/optim/combine.hpp"
#include "jute/optim/transforms.hpp"
#include "optim/optim_test_util.hpp"

using namespace jute;
using namespace jute::optim;
using namespace jute::optim_test;

namespace {

/// A leaf of `n` values k/37 for k in [-1000, 1000] (inexact in binary, so rounding matters).
Array random_leaf(std::size_t n, bool f64_leaf) {
  const auto k = *rc::gen::container<std::vector<int>>(n, rc::gen::inRange(-1000, 1001));
  std::vector<double> v(k.begin(), k.end());
  for (auto& x : v) x /= 37.0;
  return Array::from_vector(v, {static_cast<std::int64_t>(n)}, f64_leaf ? float64 : float32);
}

/// `steps` steps of tx both ways from the same params: update_and_apply (with moved or kept
/// inputs) against update then apply_updates; the params and states must agree bit for bit.
void check_update_and_apply(const GradientTransformation& tx, const Tree& params,
                            const std::vector<Tree>& grads, bool move_inputs) {
  Tree p_ref = params, s_ref = tx.init(params);
  Tree p = deep_copy(params), s = tx.init(params);
  for (const Tree& g : grads) {
    auto [u, s2] = tx.update(g, s_ref, p_ref);
    p_ref = apply_updates(p_ref, u);
    s_ref = std::move(s2);
    if (move_inputs) {
      auto [p2, s3] = update_and_apply(tx, g, std::move(s), std::move(p));
      p = std::move(p2);
      s = std::move(s3);
    } else {
      const Tree p_before = deep_copy(p), s_before = deep_copy(s);
      auto [p2, s3] = update_and_apply(tx, g, s, p);
      RC_ASSERT(p == p_before);  // kept inputs are not modified
      RC_ASSERT(s == s_before);
      p = std::move(p2);
      s = std::move(s3);
    }
    RC_ASSERT(p == p_ref);
    RC_ASSERT(s == s_ref);
  }
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("optim.apply_updates: adds leaf by leaf and casts back to the params' dtype") {
    Tree params{{"a", ones({3})}, {"b", Tree{{"c", ones({2, 2}, float64)}}}};
    Tree updates{{"a", full({3}, 2.0)}, {"b", Tree{{"c", full({2, 2}, 2.0, float64)}}}};
    Tree out = apply_updates(params, updates);
    CHECK(array_equal(out.get("a"), full({3}, 3.0)));
    CHECK(array_equal(out.get("b/c"), full({2, 2}, 3.0, float64)));
    // float32 params + float64 updates: the sum is formed in float64, then cast to float32.
    Tree p32{{"w", f32({1.0f})}};
    Tree u64{{"w", f64({1e-9})}};
    CHECK(apply_updates(p32, u64).get("w").dtype() == float32);
    CHECK(apply_updates(p32, u64).get("w").item<float>() == 1.0f);
    // float64 params + float32 updates stay float64.
    Tree p64{{"w", f64({1.0})}};
    Tree u32{{"w", f32({0.5f})}};
    CHECK(apply_updates(p64, u32).get("w").dtype() == float64);
    CHECK(apply_updates(p64, u32).get("w").item<double>() == 1.5);
    // The inputs are unchanged.
    CHECK(array_equal(params.get("a"), ones({3})));
  }

  TEST_CASE("optim.apply_updates: errors name the differing path") {
    Tree params{{"Dense_0", Tree{{"kernel", ones({2, 2})}, {"bias", ones({2})}}}};
    Tree missing{{"Dense_0", Tree{{"kernel", ones({2, 2})}}}};
    const std::string m = message_of([&] { apply_updates(params, missing); });
    CHECK(m.find("[optim.apply_updates]") == 0);
    CHECK(m.find("Dense_0/bias") != std::string::npos);
    CHECK_THROWS_AS(apply_updates(params, missing), ValueError);
    Tree wrong_shape{{"Dense_0", Tree{{"kernel", ones({2, 2})}, {"bias", ones({3})}}}};
    const std::string s = message_of([&] { apply_updates(params, wrong_shape); });
    CHECK(s.find("Dense_0/bias") != std::string::npos);
    CHECK(s.find("(2,)") != std::string::npos);
    CHECK(s.find("(3,)") != std::string::npos);
    CHECK_THROWS_AS(apply_updates(params, wrong_shape), ShapeError);
  }

  TEST_CASE("optim.update: a gradient Tree of another structure names the first differing path") {
    auto tx = identity();
    Tree params{{"a", ones({2})}, {"b", Tree{{"c", ones({2})}}}};
    Tree grads{{"a", ones({2})}, {"b", Tree{{"d", ones({2})}}}};
    const std::string m = message_of([&] { tx.update(grads, tx.init(params), params); });
    CHECK(m.find("[optim.update]") == 0);
    CHECK(m.find("b/c") != std::string::npos);
    CHECK_THROWS_AS(tx.update(grads, tx.init(params), params), ValueError);
    // Without params there is nothing to compare with.
    CHECK(tx.update(grads, Tree()).updates == grads);
  }

  TEST_CASE("optim.base: identity, set_to_zero and stateless") {
    Tree params{{"w", f32({1, -2, 3})}};
    Tree g{{"w", f32({0.5f, 0.25f, -1})}};
    auto id = identity();
    CHECK(id.init(params).empty());
    auto [u, s] = id.update(g, id.init(params), params);
    CHECK(u == g);
    CHECK(s.empty());
    auto zero = set_to_zero();
    CHECK(array_equal(zero.update(g, zero.init(params)).updates.get("w"), zeros({3})));
    auto plus_params = stateless([](const Tree& updates, const std::optional<Tree>& p) {
      return tree_map([](const Array& a, const Array& b) { return a + b; }, updates, *p);
    });
    CHECK(array_equal(plus_params.update(g, Tree(), params).updates.get("w"),
                      f32({1.5f, -1.75f, 2})));
    CHECK_THROWS_AS(GradientTransformation(nullptr, nullptr), ValueError);
    CHECK_THROWS_AS(stateless(nullptr), ValueError);
  }

  TEST_CASE("optim.base: incremental and periodic updates") {
    Tree x{{"w", f32({1, 2})}};
    Tree x2{{"w", f32({2, 4})}};
    CHECK(array_equal(incremental_update(x2, x, 0.5).get("w"), f32({1.5f, 3})));
    CHECK(periodic_update(x2, x, 6, 3) == x2);
    CHECK(periodic_update(x2, x, 7, 3) == x);
    CHECK_THROWS_AS(periodic_update(x2, x, 7, 0), ValueError);
  }

  TEST_CASE("optim.apply_updates: adding zeros gives the params back") {
    CHECK(rc::check("params + 0 == params", [](std::vector<float> v) {
      RC_PRE(!v.empty());
      for (auto& x : v)
        if (!std::isfinite(x) || x == 0.0f) x = 0.0f;  // -0 + 0 is +0
      Tree p{{"w", f32(v)}};
      Tree z{{"w", zeros({static_cast<std::int64_t>(v.size())})}};
      RC_ASSERT(apply_updates(p, z) == p);
    }));
  }

}  // TEST_SUITE

TEST_SUITE("optim") {
  TEST_CASE("optim.update: a state given up with std::move is updated in its own buffers") {
    auto tx = adam(0.1);
    Tree p{{"a", f32({1, 2, 3})}, {"b", Tree{{"c", f32({-1})}}}};
    Tree g{{"a", f32({0.5f, -1, 2})}, {"b", Tree{{"c", f32({3})}}}};
    Tree kept = tx.update(g, tx.init(p), p).state;  // nonzero moments
    const Tree kept_copy = kept;                    // to check nothing changes it
    const Tree snapshot = deep_copy(kept);
    // Kept: fresh buffers, the old state unchanged.
    auto [u1, s1] = tx.update(g, kept, p);
    CHECK(s1.get("0/mu/a").raw_data() != kept.get("0/mu/a").raw_data());
    CHECK(kept == snapshot);
    // Given up (the only holder): the same values, in the old buffers.
    Tree owned = tx.update(g, tx.init(p), p).state;
    const void* mu_a = owned.get("0/mu/a").raw_data();
    const void* nu_c = owned.get("0/nu/b/c").raw_data();
    auto [u2, s2] = tx.update(g, std::move(owned), p);
    CHECK(s2.get("0/mu/a").raw_data() == mu_a);
    CHECK(s2.get("0/nu/b/c").raw_data() == nu_c);
    CHECK(s2 == s1);
    CHECK(u2 == u1);
    // A state still held elsewhere is not reused even when moved.
    Tree shared = kept_copy;
    auto [u3, s3] = tx.update(g, std::move(shared), p);
    CHECK(s3.get("0/mu/a").raw_data() != kept_copy.get("0/mu/a").raw_data());
    CHECK(kept_copy == snapshot);
    CHECK(s3 == s1);
  }

  TEST_CASE("optim.apply_updates: params given up with std::move are updated in place") {
    Tree p{{"w", f32({1, 2, 3})}};
    Tree u{{"w", f32({0.5f, 0.5f, 0.5f})}};
    Tree kept = p;
    Tree fresh = apply_updates(kept, u);
    CHECK(fresh.get("w").raw_data() != kept.get("w").raw_data());
    CHECK(array_equal(kept.get("w"), f32({1, 2, 3})));
    Tree owned{{"w", f32({1, 2, 3})}};
    const void* buf = owned.get("w").raw_data();
    Tree moved = apply_updates(std::move(owned), u);
    CHECK(moved.get("w").raw_data() == buf);
    CHECK(moved == fresh);
    // A float64 update on float32 params: the sum is formed in float64, so no reuse, same result.
    Tree p32{{"w", f32({1})}};
    CHECK(apply_updates(std::move(p32), Tree{{"w", f64({0.25})}}).get("w").item<float>() == 1.25f);
  }

  TEST_CASE("optim.update_and_apply: the bits of update then apply_updates, for random Trees") {
    CHECK(rc::check("sgd, with and without momentum, fused", [] {
      const auto leaves_n = *rc::gen::inRange<std::size_t>(1, 5);
      const bool grads_f64 = *rc::gen::arbitrary<bool>();
      std::vector<std::pair<std::string, TreeValue>> items;
      std::vector<std::size_t> sizes;
      for (std::size_t i = 0; i < leaves_n; ++i) {
        sizes.push_back(*rc::gen::inRange<std::size_t>(1, 300));
        items.emplace_back("w" + std::to_string(i),
                           random_leaf(sizes.back(), *rc::gen::arbitrary<bool>()));
      }
      const Tree params = Tree::from_entries(std::move(items));
      std::vector<Tree> grads;
      for (int step = 0; step < 3; ++step) {
        std::vector<Array> g;
        for (std::size_t n : sizes) g.push_back(random_leaf(n, grads_f64));
        grads.push_back(with_leaves(params, g));
      }
      const double lr = *rc::gen::inRange(1, 200) / 1000.0;
      const ScalarOrSchedule rate =
          *rc::gen::arbitrary<bool>()
              ? ScalarOrSchedule(lr)
              : ScalarOrSchedule([lr](std::int64_t c) { return lr / static_cast<double>(c + 1); });
      SgdOptions o;
      if (*rc::gen::arbitrary<bool>()) o.momentum = *rc::gen::inRange(0, 100) / 100.0;
      o.nesterov = *rc::gen::arbitrary<bool>();
      const int acc = *rc::gen::inRange(0, 3);
      if (acc > 0) o.accumulator_dtype = acc == 1 ? float32 : float64;
      check_update_and_apply(sgd(rate, o), params, grads, *rc::gen::arbitrary<bool>());
    }));
    CHECK(rc::check("adam and nadam fused, adamw and rmsprop by the two calls", [] {
      const auto n = *rc::gen::inRange<std::size_t>(1, 300);
      const Tree params{{"w", random_leaf(n, *rc::gen::arbitrary<bool>())},
                        {"b", random_leaf(7, *rc::gen::arbitrary<bool>())}};
      const bool grads_f64 = *rc::gen::arbitrary<bool>();
      std::vector<Tree> grads;
      for (int step = 0; step < 3; ++step)
        grads.push_back(Tree{{"w", random_leaf(n, grads_f64)}, {"b", random_leaf(7, grads_f64)}});
      AdamOptions o;
      if (*rc::gen::arbitrary<bool>()) o.mu_dtype = *rc::gen::arbitrary<bool>() ? float32 : float64;
      const bool move_inputs = *rc::gen::arbitrary<bool>();
      check_update_and_apply(adam(0.01, o), params, grads, move_inputs);
      check_update_and_apply(nadam(0.01, o), params, grads, move_inputs);
      check_update_and_apply(adamw(0.01), params, grads, move_inputs);
      check_update_and_apply(rmsprop(0.01), params, grads, move_inputs);
    }));
    CHECK(rc::check("a chain of momentum and a schedule, written by hand", [] {
      const auto n = *rc::gen::inRange<std::size_t>(1, 300);
      const Tree params{{"w", random_leaf(n, false)}};
      const std::vector<Tree> grads{Tree{{"w", random_leaf(n, false)}},
                                    Tree{{"w", random_leaf(n, false)}}};
      const auto tx = chain({trace(0.9, *rc::gen::arbitrary<bool>()),
                             scale_by_schedule([](std::int64_t c) { return -0.1 / (1.0 + c); })});
      check_update_and_apply(tx, params, grads, *rc::gen::arbitrary<bool>());
    }));
  }

  TEST_CASE("optim.update_and_apply: integer params, errors") {
    // An integer parameter: the sum is cast back to int32, as apply_updates does.
    const Tree params{{"n", Array::from_vector(std::vector<std::int32_t>{1, 2}, {2})},
                      {"w", f32({1.0f, 2.0f})}};
    const Tree grads{{"n", f32({-10.0f, 20.0f})}, {"w", f32({1.0f, -1.0f})}};
    auto [p, s] = update_and_apply(sgd(0.1), grads, sgd(0.1).init(params), params);
    CHECK(array_equal(p.get("n"), Array::from_vector(std::vector<std::int32_t>{2, 0}, {2})));
    CHECK(array_equal(p.get("w"), f32({0.9f, 2.1f})));
    CHECK(s == sgd(0.1).init(params));
    const Tree missing{{"w", f32({1.0f, -1.0f})}};
    const std::string m =
        message_of([&] { update_and_apply(sgd(0.1), missing, sgd(0.1).init(params), params); });
    CHECK(m.find("[optim.update_and_apply]") == 0);
    CHECK(m.find("n") != std::string::npos);
  }

  TEST_CASE("optim.update_and_apply: differentiable, with the gradients of the two calls") {
    // d/dp of sum(new_params²) after one step whose gradients depend on p (a meta-gradient).
    const Tree p0{{"w", f32({0.5f, -1.5f, 2.0f})}, {"b", f32({0.25f})}};
    for (const auto& tx : {sgd(0.1, {.momentum = 0.9, .nesterov = true}), adam(0.1)}) {
      const Tree state = tx.init(p0);
      const auto grads_of = [](const Tree& p) {
        return tree_map([](const Array& x) { return x * x; }, p);
      };
      const auto loss = [](const Tree& p) {
        Array total = Array::scalar(0.0, float32);
        for (const Array& x : leaves(p)) total = total + sum(x * x);
        return total;
      };
      const Tree fused = grad(TreeFn([&](const Tree& p) {
        return loss(update_and_apply(tx, grads_of(p), state, p).params);
      }))(p0);
      const Tree two_calls = grad(TreeFn([&](const Tree& p) {
        return loss(apply_updates(p, tx.update(grads_of(p), state, p).updates));
      }))(p0);
      CHECK(fused == two_calls);
      CHECK(!(fused == zeros_like_tree(p0)));
    }
  }
}
