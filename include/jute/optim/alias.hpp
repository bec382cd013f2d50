// jute/optim/alias.hpp — the optimizers, as Optax's aliases: each is a chain of building blocks
// with Optax's defaults, so its state has Optax's layout.
//
//   auto tx = optim::adamw(optim::warmup_cosine_decay_schedule(0, 1e-3, 100, 10000),
//                          {.weight_decay = 1e-2});
//
// Defaults follow Optax, which differs from PyTorch in places (docs/optim.md lists them): adamw's
// weight decay is 1e-4 (PyTorch 1e-2), rmsprop adds eps inside the square root, adagrad starts
// its accumulator at 0.1, lion decays weights by 1e-3 by default.
#pragma once

#include <optional>

#include "jute/optim/base.hpp"
#include "jute/optim/combine.hpp"
#include "jute/optim/schedules.hpp"
#include "jute/optim/transforms.hpp"

namespace jute::optim {

struct SgdOptions {
  std::optional<double> momentum =
      std::nullopt;  // none: plain SGD (state {}); 0 still keeps a trace
  bool nesterov = false;
  std::optional<DType> accumulator_dtype = std::nullopt;
};
/// chain(trace(momentum, nesterov) or identity, scale_by_learning_rate(lr)).
GradientTransformation sgd(ScalarOrSchedule learning_rate, const SgdOptions& options = {});

/// chain(scale_by_adam(options), scale_by_learning_rate(lr)).
GradientTransformation adam(ScalarOrSchedule learning_rate, const AdamOptions& options = {});
/// adam with nesterov = true.
GradientTransformation nadam(ScalarOrSchedule learning_rate, AdamOptions options = {});

struct AdamWOptions {
  double b1 = 0.9;
  double b2 = 0.999;
  double eps = 1e-8;
  double eps_root = 0.0;
  std::optional<DType> mu_dtype = std::nullopt;
  ScalarOrSchedule weight_decay = 1e-4;     // Optax's default (PyTorch's is 1e-2)
  std::optional<Mask> mask = std::nullopt;  // which leaves are decayed (Adam applies to all)
  bool nesterov = false;
};
/// chain(scale_by_adam, add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr)):
/// the decay is multiplied by the (scheduled) learning rate, as PyTorch's AdamW.
GradientTransformation adamw(ScalarOrSchedule learning_rate, const AdamWOptions& options = {});
/// adamw with nesterov = true.
GradientTransformation nadamw(ScalarOrSchedule learning_rate, AdamWOptions options = {});

struct RmspropOptions {
  double decay = 0.9;
  double eps = 1e-8;
  double initial_scale = 0.0;
  bool eps_in_sqrt = true;  // Optax's default; PyTorch adds eps outside the root (false)
  bool centered = false;
  std::optional<double> momentum = std::nullopt;
  bool nesterov = false;
  bool bias_correction = false;
};
/// chain(scale_by_rms or scale_by_stddev (centered), scale_by_learning_rate(lr),
/// trace(momentum, nesterov) or identity) — the momentum accumulates lr-scaled updates.
GradientTransformation rmsprop(ScalarOrSchedule learning_rate, const RmspropOptions& options = {});

struct AdagradOptions {
  double initial_accumulator_value = 0.1;
  double eps = 1e-7;
};
/// chain(scale_by_rss, scale_by_learning_rate(lr)).
GradientTransformation adagrad(ScalarOrSchedule learning_rate, const AdagradOptions& options = {});

struct LambOptions {
  double b1 = 0.9;
  double b2 = 0.999;
  double eps = 1e-6;
  double eps_root = 0.0;
  ScalarOrSchedule weight_decay = 0.0;
  std::optional<Mask> mask = std::nullopt;
};
/// chain(scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate(lr)).
GradientTransformation lamb(ScalarOrSchedule learning_rate, const LambOptions& options = {});

struct LionAliasOptions {
  double b1 = 0.9;
  double b2 = 0.99;
  std::optional<DType> mu_dtype = std::nullopt;
  ScalarOrSchedule weight_decay = 1e-3;  // Optax's default
  std::optional<Mask> mask = std::nullopt;
};
/// chain(scale_by_lion, add_decayed_weights, scale_by_learning_rate(lr)).
GradientTransformation lion(ScalarOrSchedule learning_rate, const LionAliasOptions& options = {});

struct AdafactorOptions {
  std::int64_t min_dim_size_to_factor = 128;
  double decay_rate = 0.8;
  std::int64_t decay_offset = 0;
  bool multiply_by_parameter_scale = true;
  std::optional<double> clipping_threshold = 1.0;
  std::optional<double> momentum = std::nullopt;
  DType dtype_momentum = float32;
  std::optional<ScalarOrSchedule> weight_decay_rate = std::nullopt;
  double eps = 1e-30;
  bool factored = true;
  std::optional<Mask> weight_decay_mask = std::nullopt;
};
/// chain(scale_by_factored_rms, clip_by_block_rms (if a threshold), scale_by_learning_rate(lr,
/// no sign flip) (if a learning rate), scale_by_param_block_rms (if parameter scaling),
/// ema(momentum, no debias) (if momentum), add_decayed_weights (if a rate), scale(-1)).
GradientTransformation adafactor(std::optional<ScalarOrSchedule> learning_rate = std::nullopt,
                                 const AdafactorOptions& options = {});

}  // namespace jute::optim
