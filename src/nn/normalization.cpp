// Normalization layers: flax.linen.normalization's _compute_stats and _normalize, ported.
#include "jute/nn/normalization.hpp"

#include <algorithm>
#include <string>

#include "as_float.hpp"
#include "jute/autodiff.hpp"
#include "jute/ops.hpp"

namespace jute::nn {

namespace {

using detail::as_float;

std::vector<int> resolve(const std::vector<int>& axes, int ndim, const char* op) {
  return Axes(axes).resolve(ndim, op);
}

/// Mean and (biased) variance over `axes`, without keepdims; without `use_mean` the mean is
/// absent and the "variance" is mean(x²) (RMSNorm).
struct Stats {
  std::optional<Array> mean;
  Array var;
};

Stats compute_stats(const Array& x, const std::vector<int>& axes, bool use_mean,
                    bool use_fast_variance) {
  const Array v = as_float(x);
  const Axes ax(axes);
  if (!use_mean) return {std::nullopt, mean(square(v), ax)};
  const Array mu = mean(v, ax);
  if (use_fast_variance) {
    const Array mu2 = mean(square(v), ax);
    return {mu, maximum(mu2 - square(mu), 0.0)};
  }
  return {mu, mean(square(v - expand_dims(mu, ax)), ax)};
}

/// (x − mean)·(rsqrt(var + eps)·scale) + bias, with `mean`/`var` reshaped to x's shape with ones
/// on `reduction_axes` and the params of the shape of `feature_axes`.
struct NormalizeSpec {
  double epsilon;
  bool use_bias;
  bool use_scale;
  const Initializer* bias_init;
  const Initializer* scale_init;
  DType param_dtype;
};

Array normalize(Scope& s, const Array& x, const Stats& stats,
                const std::vector<int>& reduction_axes, const std::vector<int>& feature_axes,
                const NormalizeSpec& spec) {
  const Array v = as_float(x);
  Shape stats_shape = v.shape();
  for (int a : reduction_axes) stats_shape[static_cast<std::size_t>(a)] = 1;
  Shape feature_shape(static_cast<std::size_t>(v.ndim()), 1);
  Shape reduced_feature_shape;
  for (int a : feature_axes) {
    feature_shape[static_cast<std::size_t>(a)] = v.shape(a);
    reduced_feature_shape.push_back(v.shape(a));
  }
  Array y = stats.mean ? v - reshape(*stats.mean, stats_shape) : v;
  const Array var = reshape(stats.var, stats_shape);
  Array mul = rsqrt(var + Array(spec.epsilon));
  if (spec.use_scale)
    mul = mul * reshape(s.param("scale", *spec.scale_init, reduced_feature_shape, spec.param_dtype),
                        feature_shape);
  y = y * mul;
  if (spec.use_bias)
    y = y + reshape(s.param("bias", *spec.bias_init, reduced_feature_shape, spec.param_dtype),
                    feature_shape);
  return y;
}

std::vector<int> all_but(const std::vector<int>& axes, int ndim) {
  std::vector<int> out;
  for (int a = 0; a < ndim; ++a)
    if (std::find(axes.begin(), axes.end(), a) == axes.end()) out.push_back(a);
  return out;
}

}  // namespace

Array BatchNorm::operator()(Scope& s, const Array& x,
                            std::optional<bool> use_running_average_now) const {
  if (use_running_average.has_value() == use_running_average_now.has_value())
    throw ValueError(std::string("[BatchNorm] use_running_average must be given exactly once, ") +
                     "either as the field or at call time (as Flax's merge_param), got " +
                     (use_running_average ? "both" : "neither") + " in \"" + s.path_text() + "\".");
  const bool running = use_running_average ? *use_running_average : *use_running_average_now;
  const std::vector<int> feature_axes = resolve({axis}, x.ndim(), "BatchNorm");
  const std::vector<int> reduction_axes = all_but(feature_axes, x.ndim());
  const Shape feature_shape = {x.shape(feature_axes[0])};

  auto ra_mean = s.variable("batch_stats", "mean", [&] { return zeros(feature_shape, float32); });
  auto ra_var = s.variable("batch_stats", "var", [&] { return ones(feature_shape, float32); });
  Stats stats;
  if (running) {
    stats = {ra_mean.value(), ra_var.value()};
  } else {
    stats = compute_stats(x, reduction_axes, /*use_mean=*/true, use_fast_variance);
    if (!s.is_initializing()) {
      // The running averages keep their dtype and are constants for differentiation.
      const Array old_mean = ra_mean.value();
      const Array old_var = ra_var.value();
      const Array m = Array(momentum);
      const Array rest = Array(1.0 - momentum);
      ra_mean.set(stop_gradient(m * old_mean + rest * stats.mean->astype(old_mean.dtype())));
      ra_var.set(stop_gradient(m * old_var + rest * stats.var.astype(old_var.dtype())));
    }
  }
  return normalize(s, x, stats, reduction_axes, feature_axes,
                   {epsilon, use_bias, use_scale, &bias_init, &scale_init, param_dtype});
}

Array LayerNorm::operator()(Scope& s, const Array& x) const {
  const auto red = resolve(reduction_axes, x.ndim(), "LayerNorm");
  const auto feat = resolve(feature_axes, x.ndim(), "LayerNorm");
  return normalize(s, x, compute_stats(x, red, /*use_mean=*/true, use_fast_variance), red, feat,
                   {epsilon, use_bias, use_scale, &bias_init, &scale_init, param_dtype});
}

Array RMSNorm::operator()(Scope& s, const Array& x) const {
  const auto red = resolve(reduction_axes, x.ndim(), "RMSNorm");
  const auto feat = resolve(feature_axes, x.ndim(), "RMSNorm");
  return normalize(s, x, compute_stats(x, red, /*use_mean=*/false, false), red, feat,
                   {epsilon, false, use_scale, &scale_init, &scale_init, param_dtype});
}

Array GroupNorm::operator()(Scope& s, const Array& x) const {
  if (num_groups.has_value() == group_size.has_value())
    throw ValueError(
        "[GroupNorm] Give exactly one of num_groups and group_size; to use group_size set "
        "num_groups = std::nullopt (its default is 32).");
  if (x.ndim() < 2)
    throw ShapeError("[GroupNorm] The input must be (batch, ..., channels), got shape " +
                     jute::detail::shape_str(x.shape()) + ".");
  const std::int64_t channels = x.shape(-1);
  std::int64_t groups = 0;
  if (group_size) {
    if (*group_size <= 0 || channels % *group_size != 0)
      throw ValueError("[GroupNorm] group_size " + std::to_string(*group_size) +
                       " must be positive and divide the number of channels " +
                       std::to_string(channels) + ".");
    groups = channels / *group_size;
  } else {
    groups = *num_groups;
  }
  if (groups <= 0 || channels % groups != 0)
    throw ValueError("[GroupNorm] The number of groups " + std::to_string(groups) +
                     " must be positive and divide the number of channels " +
                     std::to_string(channels) + " of input " + jute::detail::shape_str(x.shape()) +
                     ".");
  const int nd = x.ndim();
  // Statistics over the spatial axes and the channels of each group, broadcast back per channel.
  Shape group_shape(x.shape().begin(), x.shape().end() - 1);
  group_shape.push_back(groups);
  group_shape.push_back(channels / groups);
  std::vector<int> group_axes;
  for (int a = 1; a < nd - 1; ++a) group_axes.push_back(a);
  group_axes.push_back(nd);  // the within-group axis of the grouped shape
  const Stats g =
      compute_stats(reshape(as_float(x), group_shape), group_axes, true, use_fast_variance);
  Shape stats_group_shape = {x.shape(0), groups, 1};
  Shape per_channel = {x.shape(0), groups, channels / groups};
  auto spread = [&](const Array& a) {
    return reshape(broadcast_to(reshape(a, stats_group_shape), per_channel),
                   {x.shape(0), channels});
  };
  std::vector<int> spatial(group_axes.begin(), group_axes.end() - 1);
  return normalize(s, x, {spread(*g.mean), spread(g.var)}, spatial, {nd - 1},
                   {epsilon, use_bias, use_scale, &bias_init, &scale_init, param_dtype});
}

}  // namespace jute::nn
