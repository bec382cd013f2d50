// Seed example 6 — a stateful layer whose internal state accumulates across calls.
//
// StreamingNormalizer centres its inputs with the running mean of every row it has seen so far
// (Welford's update). The count and the mean live in the "state" collection; each apply with
// mutable = {"state"} returns the next state, which the caller threads into the next call.
#include <iostream>

#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace stateful_layer {

struct StreamingNormalizer {
  static constexpr const char* name = "StreamingNormalizer";
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    auto count = s.variable("state", "count", [] { return jute::zeros({}); });
    auto mean = s.variable("state", "mean", [&] { return jute::zeros({x.shape(-1)}); });
    if (s.is_initializing()) return x;
    const float rows = static_cast<float>(x.shape(0));
    jute::Array n = count.value() + rows;
    jute::Array m = mean.value() + (jute::sum(x, 0) - rows * mean.value()) / n;
    count.set(n);
    mean.set(m);
    return x - m;
  }
};

struct Result {
  jute::Variables variables;
  jute::Array last_output;
};

/// Three batches of 2, 1 and 3 rows (the twelve numbers 1..12 in pairs).
inline Result run() {
  const StreamingNormalizer model;
  const jute::Array batches[] = {jute::Array({{1.f, 2.f}, {3.f, 4.f}}), jute::Array({{5.f, 6.f}}),
                                 jute::Array({{7.f, 8.f}, {9.f, 10.f}, {11.f, 12.f}})};
  jute::Variables vars = jute::nn::init(model, jute::random::key(0), batches[0]);
  jute::Array y;
  for (const auto& batch : batches) {
    auto [out, updated] = jute::nn::apply(model, vars, batch, {.mutable_ = {"state"}});
    vars = vars.merge(updated);
    y = out;
  }
  return {vars, y};
}

}  // namespace stateful_layer

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() { std::cout << jute::to_json(stateful_layer::run().variables) << "\n"; }
#endif
