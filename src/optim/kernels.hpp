// Internal: the per-leaf formulas of the transformations, each one fused pass over the leaf.
//
// Every function takes leaves of one shape (callers check shapes and float dtypes with paths),
// computes in the promotion of its inputs' dtypes, and returns Arrays of that dtype. Leaves are
// taken by value: a leaf nobody else holds (a moved-in temporary, or the leaf of a state the
// caller gave up) has its buffer reused for the matching output — the update into the gradient's,
// each new moment into the old one's — otherwise outputs are fresh. When no input is
// being differentiated the formula runs as one loop over raw float/double buffers — one pass
// that reads each input once and writes each output once, instead of ~10 op calls each
// allocating and filling a temporary. When an input is traced (an optimizer step inside grad)
// the same formula runs on jute ops, so the step is differentiable. Hyperparameters arrive as
// doubles and are rounded once to the compute dtype.
//
// Formulas whose update may be followed by a scaling (the learning rate) take `post`: the update
// they return is `post * u`, rounded as a separate scale pass would round it. `post = 1` gives u
// itself bit for bit, so the unfused path is the same code (see fusion.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "jute/array.hpp"
#include "jute/optim/transforms.hpp"

namespace jute::optim::detail {

/// The promotion of the dtypes of `a` and `b` (float leaves).
DType compute_dtype(const Array& a, const Array& b);

/// `1 - decay^count` computed in `dtype`'s arithmetic (float32 or float64).
double bias_correction(double decay, std::int64_t count, DType dtype);

/// `s * g`.
Array scale_leaf(Array g, double s);
/// `s * g` for a scalar Array `s` (kept as an Array so a traced factor stays differentiable).
Array scale_leaf(Array g, const Array& s);
/// `g / d` for a scalar Array `d`.
Array divide_leaf(Array g, const Array& d);
/// `g + s * p` (decoupled weight decay).
Array add_scaled_leaf(Array g, Array p, double s, double post = 1.0);
/// `p + u` in the promoted dtype, cast back to p's dtype.
Array apply_update_leaf(Array p, Array u);
/// `step * new_value + (1 - step) * old_value`.
Array incremental_leaf(Array new_value, Array old_value, double step);

/// Momentum: {u, trace}.
std::array<Array, 2> trace_leaf(Array g, Array trace, double decay, bool nesterov,
                                double post = 1.0);

// SGD's step applied in the same pass: the bits of `apply_update_leaf(p, u)` after the update u
// of the formula above them, without writing u. One loop when p, g (and the trace) share a dtype;
// otherwise the two steps as they are.

/// `p + s * g`.
Array sgd_apply_leaf(Array p, Array g, double s);
/// `p + u` and the new trace, u and the trace as trace_leaf's with `post = s` (the trace cast to
/// `accumulator_dtype` when given).
std::array<Array, 2> momentum_apply_leaf(Array p, Array g, Array trace, double decay, bool nesterov,
                                         double s, std::optional<DType> accumulator_dtype);
/// Moving average: {u, ema}; `debias_count` > 0 divides u by 1 - decay^debias_count.
std::array<Array, 2> ema_leaf(Array g, Array ema, double decay, std::int64_t debias_count);
/// Adam at count `t` (after incrementing): {u, mu, nu} in the compute dtype.
std::array<Array, 3> adam_leaf(Array g, Array mu, Array nu, const AdamOptions& o, std::int32_t t,
                               double post = 1.0);
/// `p + u` and the new moments, as adam_leaf's with the moments cast as scale_by_adam casts them
/// (mu to `o.mu_dtype` when given, nu to its own dtype); one loop when all four share a dtype.
std::array<Array, 3> adam_apply_leaf(Array p, Array g, Array mu, Array nu, const AdamOptions& o,
                                     std::int32_t t, double post);
/// RMSprop: {u, nu}; `t` is used only with bias correction.
std::array<Array, 2> rms_leaf(Array g, Array nu, const RmsOptions& o, std::int32_t t,
                              double post = 1.0);
/// Centered RMSprop: {u, mu, nu}.
std::array<Array, 3> stddev_leaf(Array g, Array mu, Array nu, const RmsOptions& o, std::int32_t t,
                                 double post = 1.0);
/// Adagrad: {u, sum_of_squares}.
std::array<Array, 2> rss_leaf(Array g, Array sum_of_squares, double eps, double post = 1.0);
/// Lion: {u, mu}.
std::array<Array, 2> lion_leaf(Array g, Array mu, const LionOptions& o);
/// Element-wise clip to [-max_delta, max_delta].
Array clip_leaf(Array g, double max_delta);
/// sign(g).
Array sign_leaf(Array g);
/// `(g / norm) * max_norm` with `norm` a scalar Array.
Array clip_by_norm_leaf(Array g, const Array& norm, double max_norm);
/// LAMB's trust ratio applied to one leaf: `u * tc ||p|| / (||u|| + eps)` with norms floored at
/// `min_norm` and a ratio of 1 where either norm is 0.
Array trust_ratio_leaf(const Array& u, const Array& p, double min_norm, double trust_coefficient,
                       double eps);
/// `u * max-floored rms(p)` (`rms <= min_scale` gives min_scale).
Array param_block_rms_leaf(const Array& u, const Array& p, double min_scale);
/// `u / maximum(1, rms(u) / threshold)`.
Array block_rms_clip_leaf(const Array& u, double threshold);
/// The square root of a (scalar) Array.
Array sqrt_leaf(const Array& x);
/// Adafactor's unfactored second moment: {u, v} with `v = beta v + one_minus_beta (g² + eps)`,
/// `u = g / sqrt(v)` (beta and 1-beta float32 values, as Optax forms them).
std::array<Array, 2> factored_v_leaf(Array g, Array v, double beta, double one_minus_beta,
                                     double eps);
/// MultiSteps' accumulator: `acc + (g - acc) / (mini_step + 1)` (mean) or `g + acc`.
Array accumulate_leaf(Array g, Array acc, std::int32_t mini_step, bool mean);

/// sum(x²) as a scalar of x's dtype (accumulated in double when not traced).
Array sum_of_squares(const Array& x);
/// The sum over all leaves of sum(x²) (Optax's squared tree norm): `0 + s0 + s1 + ...` in the
/// promoted dtype (float32 for no leaves). DtypeError for a non-float leaf.
Array tree_sum_of_squares(const std::vector<Array>& leaves);
/// The number of NaN or infinite elements (0 for integer and bool arrays).
std::int64_t count_not_finite(const Array& x);

}  // namespace jute::optim::detail
