// Seed example 5 — a fixed, non-trainable embedding table, the right ways and the wrong way.
//
// Right: keep the table in a collection other than "params" ("constants" here). The optimizer
// only ever sees "params", so the table cannot change.
// Also right: keep it in "params" but read it through stop_gradient — its gradient is zero. (An
// optimizer with weight decay would still shrink it; prefer the separate collection.)
// Wrong: keep it in "params" and read it directly — it is trained like any weight.
#include <iostream>
#include <string>

#include "jute/autodiff.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace fixed_embedding {

enum class Placement { Constants, StopGradient, Params };

struct Lookup {
  static constexpr const char* name = "Lookup";
  jute::Array table;  // (vocab, features)
  Placement placement;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& ids) const {
    jute::Array t;
    auto given = jute::nn::initializers::Initializer(
        [this](const jute::Array&, const jute::Shape&, jute::DType) { return table; });
    switch (placement) {
      case Placement::Constants:
        t = s.variable("constants", "table", [&] { return table; }).value();
        break;
      case Placement::StopGradient:
        t = jute::stop_gradient(s.param("table", given, table.shape()));
        break;
      case Placement::Params:
        t = s.param("table", given, table.shape());
        break;
    }
    jute::Array proj = s.param("proj", jute::nn::initializers::ones_init(), {table.shape(1), 1});
    return jute::matmul(jute::take(t, ids, 0), proj);
  }
};

/// Three SGD steps (learning rate 0.1) towards a target of zeros; returns the final variables.
inline jute::Variables train(Placement placement) {
  const Lookup model{jute::reshape(jute::arange(6).astype(jute::float32), {3, 2}), placement};
  const jute::Array ids({2, 0});
  jute::Variables vars = jute::nn::init(model, jute::random::key(0), ids);
  auto loss_fn = [&](const jute::Tree& params) {
    auto [y, updated] = jute::nn::apply(model, vars.with_collection("params", params), ids);
    return jute::mean(jute::square(y));
  };
  jute::Tree params = vars.collection("params");
  for (int step = 0; step < 3; ++step)
    params = jute::tree_map([](const jute::Array& p, const jute::Array& g) { return p - 0.1f * g; },
                            params, jute::grad(loss_fn)(params));
  return vars.with_collection("params", params);
}

}  // namespace fixed_embedding

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() {
  using fixed_embedding::Placement;
  std::cout << "{\n\"constants\": " << jute::to_json(fixed_embedding::train(Placement::Constants))
            << ",\n\"stop_gradient\": "
            << jute::to_json(fixed_embedding::train(Placement::StopGradient))
            << ",\n\"params (wrong)\": " << jute::to_json(fixed_embedding::train(Placement::Params))
            << "\n}\n";
}
#endif
