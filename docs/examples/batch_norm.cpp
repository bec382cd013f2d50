// Seed example — batch normalisation with running statistics (PyTorch: `nn.BatchNorm1d`, whose
// `running_mean`/`running_var` are buffers updated in place in `model.train()` mode).
//
// jute's BatchNorm keeps them in the "batch_stats" collection. Train mode normalises with the
// batch's statistics and writes the running ones, so the apply must declare "batch_stats"
// mutable and merge the `updated` collection back; eval mode reads them and writes nothing.
// Forgetting `mutable_` in train mode is a typed error naming the variable and its module path.
#include <iostream>
#include <string>

#include "jute/array.hpp"
#include "jute/nn/errors.hpp"
#include "jute/nn/module.hpp"
#include "jute/nn/normalization.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"
#include "jute/tree.hpp"

namespace batch_norm {

/// One BatchNorm over 2 features; `train` picks the mode (Flax: use_running_average=not train).
struct Net {
  static constexpr const char* name = "Net";
  bool train = true;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
    return s.child(jute::nn::BatchNorm{.use_running_average = !train, .momentum = 0.9}, x);
  }
};

struct Result {
  jute::Variables variables;    // after three train steps
  jute::Array eval_output;      // eval mode on the first batch
  std::string immutable_error;  // train mode without mutable batch_stats
};

/// The batch of step k: [[0, 1], [2, 3], [4, 5], [6, 7]] + k (column means 3 + k and 4 + k,
/// biased variances 5).
inline jute::Array batch(int k) {
  return jute::reshape(jute::arange(8).astype(jute::float32), {4, 2}) + static_cast<float>(k);
}

inline Result run() {
  const Net train{.train = true};
  const Net eval{.train = false};
  // init creates params/BatchNorm_0/{scale, bias} and batch_stats/BatchNorm_0/{mean, var}
  // (zeros and ones) without updating the statistics.
  jute::Variables vars = jute::nn::init(train, jute::random::key(0), batch(0));
  for (int k = 0; k < 3; ++k) {
    auto [y, updated] = jute::nn::apply(train, vars, batch(k), {.mutable_ = {"batch_stats"}});
    vars = vars.merge(updated);  // updated holds exactly the batch_stats collection
  }
  auto [y_eval, nothing] = jute::nn::apply(eval, vars, batch(0));  // reads the averages only
  std::string error;
  try {
    jute::nn::apply(train, vars, batch(0));  // train mode, batch_stats immutable
  } catch (const jute::nn::ModifyScopeVariableError& e) {
    error = e.what();
  }
  return {vars, y_eval, error};
}

}  // namespace batch_norm

#ifndef JUTE_EXAMPLE_NO_MAIN
int main() {
  const batch_norm::Result r = batch_norm::run();
  std::cout << jute::to_json(r.variables) << "\n";
  std::cerr << r.immutable_error << "\n";
}
#endif
