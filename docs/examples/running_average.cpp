// Seed example 1 — a running-average buffer (PyTorch: `register_buffer("running_avg", ...)`).
//
// The buffer lives in the "buffers" collection, not in "params": it is state, not a trainable
// weight. `apply` may change it only when the caller declares "buffers" mutable, and then hands
// the new value back in `updated` — the old Variables stay as they were.
#include <iostream>

#include "jute/array.hpp"
#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace running_average {

struct RunningAverage {
  static constexpr const char* name = "RunningAverage";
  float initial_value = 0.0f;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    auto avg = s.variable("buffers", "running_avg", [&] { return jute::full({}, initial_value); });
    if (!s.is_initializing())  // init only creates the buffer, as Flax's BatchNorm does
      avg.set(0.9f * avg.value() + 0.1f * jute::mean(x));  // legal only if "buffers" is mutable
    return x;
  }
};

/// Three applies on x = arange(10) / 10; returns the final variables.
inline jute::Variables run() {
  const RunningAverage model;
  const jute::Array x = jute::arange(10).astype(jute::float32) / 10.0f;
  jute::Variables vars = jute::nn::init(model, jute::random::key(0), x);  // {"buffers": avg = 0}
  for (int step = 0; step < 3; ++step) {
    auto [y, updated] = jute::nn::apply(model, vars, x, {.mutable_ = {"buffers"}});
    vars = vars.merge(updated);
  }
  return vars;
}

}  // namespace running_average

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() { std::cout << jute::to_json(running_average::run()) << "\n"; }
#endif
