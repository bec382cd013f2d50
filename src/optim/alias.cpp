// The optimizers as chains of building blocks, exactly as Optax's alias.py builds them.
#include "jute/optim/alias.hpp"

namespace jute::optim {

GradientTransformation sgd(ScalarOrSchedule learning_rate, const SgdOptions& o) {
  return chain({o.momentum ? trace(*o.momentum, o.nesterov, o.accumulator_dtype) : identity(),
                scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation adam(ScalarOrSchedule learning_rate, const AdamOptions& o) {
  return chain({scale_by_adam(o), scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation nadam(ScalarOrSchedule learning_rate, AdamOptions o) {
  o.nesterov = true;
  return adam(std::move(learning_rate), o);
}

GradientTransformation adamw(ScalarOrSchedule learning_rate, const AdamWOptions& o) {
  return chain({scale_by_adam({.b1 = o.b1,
                               .b2 = o.b2,
                               .eps = o.eps,
                               .eps_root = o.eps_root,
                               .mu_dtype = o.mu_dtype,
                               .nesterov = o.nesterov}),
                add_decayed_weights(o.weight_decay, o.mask),
                scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation nadamw(ScalarOrSchedule learning_rate, AdamWOptions o) {
  o.nesterov = true;
  return adamw(std::move(learning_rate), o);
}

GradientTransformation rmsprop(ScalarOrSchedule learning_rate, const RmspropOptions& o) {
  const RmsOptions rms{.decay = o.decay,
                       .eps = o.eps,
                       .initial_scale = o.initial_scale,
                       .eps_in_sqrt = o.eps_in_sqrt,
                       .bias_correction = o.bias_correction};
  return chain({o.centered ? scale_by_stddev(rms) : scale_by_rms(rms),
                scale_by_learning_rate(std::move(learning_rate)),
                o.momentum ? trace(*o.momentum, o.nesterov) : identity()});
}

GradientTransformation adagrad(ScalarOrSchedule learning_rate, const AdagradOptions& o) {
  return chain({scale_by_rss(o.initial_accumulator_value, o.eps),
                scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation lamb(ScalarOrSchedule learning_rate, const LambOptions& o) {
  AdamOptions adam_options;
  adam_options.b1 = o.b1;
  adam_options.b2 = o.b2;
  adam_options.eps = o.eps;
  adam_options.eps_root = o.eps_root;
  return chain({scale_by_adam(adam_options), add_decayed_weights(o.weight_decay, o.mask),
                scale_by_trust_ratio(), scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation lion(ScalarOrSchedule learning_rate, const LionAliasOptions& o) {
  LionOptions lion_options;
  lion_options.b1 = o.b1;
  lion_options.b2 = o.b2;
  lion_options.mu_dtype = o.mu_dtype;
  return chain({scale_by_lion(lion_options), add_decayed_weights(o.weight_decay, o.mask),
                scale_by_learning_rate(std::move(learning_rate))});
}

GradientTransformation adafactor(std::optional<ScalarOrSchedule> learning_rate,
                                 const AdafactorOptions& o) {
  std::vector<GradientTransformation> txs{
      scale_by_factored_rms({.factored = o.factored,
                             .decay_rate = o.decay_rate,
                             .step_offset = o.decay_offset,
                             .min_dim_size_to_factor = o.min_dim_size_to_factor,
                             .epsilon = o.eps})};
  if (o.clipping_threshold) txs.push_back(clip_by_block_rms(*o.clipping_threshold));
  if (learning_rate) txs.push_back(scale_by_learning_rate(*learning_rate, /*flip_sign=*/false));
  if (o.multiply_by_parameter_scale) txs.push_back(scale_by_param_block_rms());
  if (o.momentum) txs.push_back(ema(*o.momentum, /*debias=*/false, o.dtype_momentum));
  if (o.weight_decay_rate)
    txs.push_back(add_decayed_weights(*o.weight_decay_rate, o.weight_decay_mask));
  txs.push_back(scale(-1.0));
  return chain(std::move(txs));
}

}  // namespace jute::optim
