// Sequential: Flax's composition and naming (layers_<i>, counting functions too), nesting, and
// the empty-module error.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "jute/nn.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "layers_test_util.hpp"
#include "ops/op_checks.hpp"

using namespace jute;
namespace nn = jute::nn;
namespace jr = jute::random;
using jute_test::message_of;
using layers_test::check_layer_grads;

TEST_SUITE("nn.layers.sequential") {
  TEST_CASE("nn.layers.sequential: layers in order, params at layers_<index>") {
    const nn::Sequential mlp{{nn::Dense{.features = 4}, nn::relu, nn::Dense{.features = 2}}};
    const Array x = jr::normal(jr::key(0), {3, 5});
    auto [y, vars] = nn::init_with_output(mlp, jr::key(1), x);
    CHECK(vars.collection("params").keys() == std::vector<std::string>{"layers_0", "layers_2"});
    CHECK(vars.get("params/layers_0/kernel").shape() == Shape{5, 4});
    CHECK(vars.get("params/layers_2/kernel").shape() == Shape{4, 2});
    const Array h =
        nn::relu(matmul(x, vars.get("params/layers_0/kernel")) + vars.get("params/layers_0/bias"));
    CHECK(allclose(y,
                   matmul(h, vars.get("params/layers_2/kernel")) + vars.get("params/layers_2/bias"),
                   1e-6, 1e-6));
    // The keys are those of children named layers_0 and layers_2.
    CHECK(array_equal(
        vars.get("params/layers_0/kernel"),
        nn::lecun_normal()(jr::fold_in_path(jr::key(1), {"layers_0"}, 1), {5, 4}, float32)));
    check_layer_grads(mlp, vars, x);
  }

  TEST_CASE("nn.layers.sequential: nested in a module, with lambdas and pooling") {
    struct Net {
      static const char* name() { return "Net"; }
      Array operator()(nn::Scope& s, const Array& x) const {
        const nn::Sequential block{{nn::Conv{.features = 2, .kernel_size = {3, 3}},
                                    [](const Array& a) {
                                      return nn::avg_pool(a, {2, 2}, {2, 2});
                                    },
                                    [](const Array& a) {
                                      return reshape(a, {a.shape(0), -1});
                                    },
                                    nn::Dense{.features = 3}}};
        return s.child(nn::Dense{.features = 1}, s.child(block, x));
      }
    };
    auto [y, vars] = nn::init_with_output(Net{}, jr::key(0), ones({2, 4, 4, 1}));
    CHECK(y.shape() == Shape{2, 1});
    CHECK(vars.collection("params").keys() == std::vector<std::string>{"Dense_0", "Sequential_0"});
    CHECK(vars.collection("params").subtree("Sequential_0").keys() ==
          std::vector<std::string>{"layers_0", "layers_3"});
    CHECK(vars.get("params/Sequential_0/layers_3/kernel").shape() == Shape{8, 3});
  }

  TEST_CASE("nn.layers.sequential: an empty Sequential is an error") {
    CHECK(message_of([] { nn::init(nn::Sequential{}, jr::key(0), ones({2})); }) ==
          "[Sequential] at \"/\": the module has no layers; give at least one.");
    CHECK_THROWS_AS(nn::init(nn::Sequential{}, jr::key(0), ones({2})), ValueError);
  }
}
