// Shared helpers of the layer tests (tests/nn/layers_*_test.cpp).
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/testing/check_grads.hpp"
#include "jute/tree.hpp"

namespace layers_test {

/// A root module calling one child layer, so the layer's variables sit at "<Type>_0".
template <class L>
struct Wrap {
  static const char* name() { return "Wrap"; }
  L layer;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    return s.child(layer, x);
  }
};

/// check_grads to second order over the input and every param of `model` (float64).
template <class M>
void check_layer_grads(const M& model, const jute::Variables& vars, const jute::Array& x,
                       int order = 2) {
  using jute::Array;
  using jute::Tree;
  Tree params = jute::tree_map([](const Array& a) { return a.astype(jute::float64); },
                               vars.collection("params"));
  const Tree args = Tree{{"x", x.astype(jute::float64)}, {"params", params}};
  jute::testing::check_grads(
      [&](const Tree& t) {
        const jute::Variables v = vars.with_collection("params", t.subtree("params"));
        return jute::nn::apply(model, v, t.get("x")).output;
      },
      args, order);
}

/// The float32 values of `a` as doubles.
inline std::vector<double> values(const jute::Array& a) { return a.to_vector<double>(); }

}  // namespace layers_test
