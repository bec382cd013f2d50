// nn::init_shapes: the Variables tree init would build, as shape-only arrays, without running
// initializers or the module's arithmetic.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "jute/nn/initializers.hpp"
#include "jute/nn/linear.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

using namespace jute;
using jute::nn::Scope;

namespace {

// A conv layer, a running mean in batch_stats, a Dropout-like mask and a Dense head.
struct SmallCnn {
  static constexpr const char* name = "SmallCnn";
  Array operator()(Scope& s, const Array& x) const {
    Array k = s.param("kernel", nn::initializers::lecun_normal(), {3, 3, x.shape(-1), 4});
    Array h = maximum(conv_general_dilated(x, k, {1, 1}, Padding::same()), 0.0);
    h = reduce_window(h, ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}) * 0.25;
    auto running = s.variable("batch_stats", "mean", [] { return zeros({4}); });
    if (running.is_mutable()) running.set(0.9 * running.value() + 0.1 * mean(h, Axes{0, 1, 2}));
    Array keep = random::bernoulli(s.make_rng("dropout"), 0.9, h.shape());
    h = where(keep, h / 0.9, 0.0);
    h = reshape(h, {h.shape(0), -1});
    return s.child(nn::Dense{10}, h);
  }
};

std::vector<std::string> described(const Tree& t) {
  std::vector<std::string> out;
  for (const auto& [path, leaf] : flatten(t))
    out.push_back(path + " " + leaf.type_string() + (leaf.is_abstract() ? " shape-only" : ""));
  return out;
}

}  // namespace

TEST_SUITE("nn.init_shapes") {
  TEST_CASE("init_shapes gives init's paths, shapes and dtypes as shape-only leaves") {
    const nn::Rngs rngs{{"params", random::key(0)}, {"dropout", random::key(1)}};
    const Array x = ones({2, 8, 8, 3});
    const Variables real = nn::init(SmallCnn{}, rngs, x);
    const Variables shapes = nn::init_shapes(SmallCnn{}, rngs, abstract_array({2, 8, 8, 3}));
    CHECK(same_structure(real, shapes));
    std::vector<std::string> want = described(real);
    for (auto& w : want) w += " shape-only";
    CHECK(described(shapes) == want);
    CHECK(described(shapes) ==
          std::vector<std::string>{"batch_stats/mean f32[4] shape-only",
                                   "params/Dense_0/bias f32[10] shape-only",
                                   "params/Dense_0/kernel f32[64,10] shape-only",
                                   "params/kernel f32[3,3,3,4] shape-only"});
    CHECK(num_params(shapes) == num_params(real));
    // Real inputs work too.
    CHECK(same_structure(nn::init_shapes(SmallCnn{}, rngs, x), real));
  }

  TEST_CASE("a model too large to initialize is sized instantly") {
    struct Huge {
      static const char* name() { return "Huge"; }
      Array operator()(Scope& s, const Array& x) const {
        return s.child(nn::Dense{1}, s.child(nn::Dense{100000}, s.child(nn::Dense{100000}, x)));
      }
    };
    // 10^10 parameters in the middle layer: 40 GB as float32.
    const Variables v = nn::init_shapes(Huge{}, random::key(0), abstract_array({1, 100000}));
    CHECK(num_params(v) == 100000LL * 100000 * 2 + 100000 * 2 + 100001);
    CHECK(v.find("params/Dense_1/kernel")->array().type_string() == "f32[100000,100000]");
  }

  TEST_CASE("shape-only variables restore into apply's shape checks") {
    // The shapes tree can stand in for params when checking a checkpoint's structure: a real
    // apply on real params of those shapes works.
    const Variables shapes = nn::init_shapes(nn::Dense{3}, random::key(0), abstract_array({1, 2}));
    const Variables real = nn::init(nn::Dense{3}, random::key(0), ones({1, 2}));
    CHECK(same_structure(shapes, real));
    auto [y, updated] = nn::apply(nn::Dense{3}, real, ones({1, 2}));
    CHECK(y.type_string() == "f32[1,3]");
    // Applying the shape-only tree gives a shape-only output.
    auto [ys, u2] = nn::apply(nn::Dense{3}, shapes, ones({1, 2}));
    CHECK(ys.is_abstract());
    CHECK(ys.type_string() == "f32[1,3]");
  }
}
