// jute/optim/transforms.hpp — the building blocks optimizers are chained from (Optax's
// transform.py, transforms/_adding.py, _clipping.py, _accumulation.py, factorized.py).
//
// Notation: g is the incoming update, p the parameter, t the count after incrementing (1 on the
// first update). Counts are int32 scalars that saturate at INT32_MAX. Hyperparameters are
// doubles rounded once to each leaf's dtype (as Python floats are weakly typed in JAX); bias
// corrections `1 - decay^t` are formed in the leaf's dtype.
//
// Every update runs one fused pass over each leaf (src/optim/kernels.cpp) when its inputs are
// not being differentiated; when they are (an optimizer step inside grad, for meta-learning),
// the same formula runs on jute ops, so the step is differentiable. Leaves must be float32 or
// float64 (DtypeError naming the path otherwise).
#pragma once

#include <optional>

#include "jute/optim/base.hpp"
#include "jute/optim/combine.hpp"
#include "jute/optim/schedules.hpp"

namespace jute::optim {

// ---- scaling ---------------------------------------------------------------------------------

/// `u = step_size * g`; state {}.
GradientTransformation scale(double step_size);
/// `u = schedule(count) * g`, the first update using schedule(0); state {"count": i32}.
GradientTransformation scale_by_schedule(Schedule step_size_fn);
/// `u = -learning_rate * g` (`+` when `flip_sign` is false): scale for a number (state {}),
/// scale_by_schedule for a schedule (state {"count"}).
GradientTransformation scale_by_learning_rate(ScalarOrSchedule learning_rate,
                                              bool flip_sign = true);

struct AdamOptions {
  double b1 = 0.9;
  double b2 = 0.999;
  double eps = 1e-8;      // added outside the square root
  double eps_root = 0.0;  // added inside it (> 0 to differentiate through the update)
  std::optional<DType> mu_dtype =
      std::nullopt;       // dtype of the stored first moment (default: the param's)
  bool nesterov = false;  // Nadam
};
/// Adam's scaling (Kingma & Ba, Algorithm 1, as PyTorch):
/// `mu = (1-b1) g + b1 mu; nu = (1-b2) g² + b2 nu; u = mu/(1-b1^t) / (sqrt(nu/(1-b2^t) + eps_root)
/// + eps)`; state {"count": i32, "mu", "nu"}. With nesterov the first moment estimate is
/// `b1 mu/(1-b1^(t+1)) + (1-b1) g/(1-b1^t)`.
GradientTransformation scale_by_adam(const AdamOptions& options = {});

struct RmsOptions {
  double decay = 0.9;
  double eps = 1e-8;
  double initial_scale = 0.0;  // nu's initial value (PyTorch 0, TF1 1)
  bool eps_in_sqrt = true;     // rsqrt(nu + eps) (Optax's default) or 1/(sqrt(nu) + eps) (PyTorch)
  bool bias_correction = false;
};
/// `nu = (1-decay) g² + decay nu; u = g * rsqrt(nu + eps)` (or `g / (sqrt(nu) + eps)`), nu bias
/// corrected when asked; state {"nu"} or, with bias_correction, {"count", "nu"}.
GradientTransformation scale_by_rms(const RmsOptions& options = {});
/// Centered RMS: also tracks `mu = (1-decay) g + decay mu` and uses `nu - mu²`; state
/// {"mu", "nu"} or {"count", "mu", "nu"}.
GradientTransformation scale_by_stddev(const RmsOptions& options = {});

/// Adagrad's scaling: `s = g² + s` (s starts at `initial_accumulator_value`),
/// `u = g * rsqrt(s + eps)` where s > 0 and 0 elsewhere; state {"sum_of_squares"}.
GradientTransformation scale_by_rss(double initial_accumulator_value = 0.1, double eps = 1e-7);

enum class LionMode { Hard, Smooth, Refined };
struct LionOptions {
  double b1 = 0.9;
  double b2 = 0.99;
  std::optional<DType> mu_dtype = std::nullopt;
  LionMode mode = LionMode::Hard;  // sign(c), tanh(smooth_beta c), or c where |c| < 1 else sign
  double smooth_beta = 1.0;
};
/// Lion: `c = (1-b1) g + b1 mu; u = sign(c); mu = (1-b2) g + b2 mu` (the old mu in c);
/// state {"count", "mu"}.
GradientTransformation scale_by_lion(const LionOptions& options = {});

/// LAMB/LARS's per-leaf trust ratio: `u *= trust_coefficient * ||p|| / (||u|| + eps)` with the
/// norms floored at `min_norm`, and a ratio of 1 where either norm is 0. Needs params; state {}.
GradientTransformation scale_by_trust_ratio(double min_norm = 0.0, double trust_coefficient = 1.0,
                                            double eps = 0.0);

/// `u *= max(rms(p), min_scale)` per leaf (Adafactor's parameter scaling). Needs params; state {}.
GradientTransformation scale_by_param_block_rms(double min_scale = 1e-3);

struct FactoredRmsOptions {
  bool factored = true;
  double decay_rate = 0.8;
  std::int64_t step_offset = 0;
  std::int64_t min_dim_size_to_factor = 128;
  double epsilon = 1e-30;
};
/// Adafactor's scaling: `beta = 1 - (t - offset)^-decay_rate` and `g2 = g² + epsilon`. A leaf
/// whose two largest dimensions are both >= min_dim_size_to_factor keeps the row and column means
/// of g2 (`u = g * (v_row/mean(v_row))^-1/2 * v_col^-1/2`); any other keeps
/// `v = beta v + (1-beta) g2` and `u = g * v^-1/2`. Needs params; state
/// {"count", "v_row", "v_col", "v"} (size-1 zero placeholders where unused, as Optax).
GradientTransformation scale_by_factored_rms(const FactoredRmsOptions& options = {});

/// `u = sign(g)`; state {}.
GradientTransformation scale_by_sign();

// ---- momentum --------------------------------------------------------------------------------

/// Momentum: `trace = g + decay * trace; u = trace` (nesterov: `u = g + decay * trace`), as
/// PyTorch SGD with dampening 0; state {"trace"} stored as `accumulator_dtype` when given.
GradientTransformation trace(double decay, bool nesterov = false,
                             std::optional<DType> accumulator_dtype = std::nullopt);
/// Exponential moving average: `ema = (1-decay) g + decay ema; u = ema` (divided by
/// `1 - decay^t` when `debias`); state {"count", "ema"}.
GradientTransformation ema(double decay, bool debias = true,
                           std::optional<DType> accumulator_dtype = std::nullopt);

// ---- adding and clipping ---------------------------------------------------------------------

/// Decoupled weight decay: `u = g + weight_decay * p` (a schedule is evaluated at the count,
/// from 0). A constant 0 passes updates through unchanged. Needs params. State {} for a number,
/// {"count"} for a schedule; with a mask the transformation is masked(..., mask).
GradientTransformation add_decayed_weights(ScalarOrSchedule weight_decay = 0.0,
                                           std::optional<Mask> mask = std::nullopt);

/// Element-wise clipping to [-max_delta, max_delta]; state {}.
GradientTransformation clip(double max_delta);
/// Rescales the updates so their global L2 norm (over all leaves) is at most `max_norm`:
/// unchanged when the norm is below it, `(g / norm) * max_norm` otherwise; state {}.
GradientTransformation clip_by_global_norm(double max_norm);
/// Per leaf: `u / max(1, rms(u) / threshold)`; state {}.
GradientTransformation clip_by_block_rms(double threshold);

/// Subtracts from every leaf of rank > 1 its mean over all axes but the first (gradient
/// centralization); state {}.
GradientTransformation centralize();

/// The global L2 norm of a Tree: sqrt of the sum over leaves of the sum of squares.
Array global_norm(const Tree& tree);

}  // namespace jute::optim
