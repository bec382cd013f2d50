// Seed example 3 — two buffers of different dtypes, both updated on every call: an int32 call
// counter and a float32 running sum of the inputs' columns.
#include <iostream>

#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace two_buffers {

struct Tracker {
  static constexpr const char* name = "Tracker";
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    auto count = s.variable("buffers", "count", [] { return jute::zeros({}, jute::int32); });
    auto stats = s.variable("buffers", "stats", [&] { return jute::zeros({x.shape(-1)}); });
    if (!s.is_initializing()) {
      count.set(count.value() + 1);  // stays int32 (the 1 is weakly typed)
      stats.set(stats.value() + jute::sum(x, 0));
    }
    return x;
  }
};

/// Three calls with x = k · arange(6).reshape(2, 3), k = 1, 2, 3.
inline jute::Variables run() {
  const Tracker model;
  const jute::Array base = jute::reshape(jute::arange(6).astype(jute::float32), {2, 3});
  jute::Variables vars = jute::nn::init(model, jute::random::key(0), base);
  for (int k = 1; k <= 3; ++k) {
    auto [y, updated] =
        jute::nn::apply(model, vars, base * static_cast<float>(k), {.mutable_ = {"buffers"}});
    vars = vars.merge(updated);
  }
  return vars;
}

}  // namespace two_buffers

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() { std::cout << jute::to_json(two_buffers::run()) << "\n"; }
#endif
