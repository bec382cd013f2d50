// jax.nn.initializers (jax/_src/nn/initializers.py), with JAX's float rounding: fans and the
// variance in double (Python floats), the variance rounded once to the dtype, then sqrt, the
// truncation correction and the scaling in the dtype.
#include "jute/nn/initializers.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "core/array_impl.hpp"
#include "jute/random.hpp"

namespace jute::nn::initializers {

namespace {

// The standard deviation of a standard normal truncated to (-2, 2).
constexpr double kTruncatedStddev = .87962566103423978;

/// `a * s` elementwise in a's float dtype, written into a's buffer: `a` is a sampler's fresh
/// result that nobody else has seen.
Array scale_in_place(Array a, double s) {
  if (a.dtype() == float32) {
    auto* d = jute::detail::mutable_data<float>(a);
    const auto f = static_cast<float>(s);
    for (std::int64_t i = 0; i < a.size(); ++i) d[i] = d[i] * f;
  } else {
    auto* d = jute::detail::mutable_data<double>(a);
    for (std::int64_t i = 0; i < a.size(); ++i) d[i] = d[i] * s;
  }
  return a;
}

void check_float(DType dtype, const char* op) {
  if (!is_floating(dtype))
    throw DtypeError(std::string("[") + op + "] dtype must be float32 or float64, got " +
                     std::string(name(dtype)) + ".");
}

std::int64_t axes_size(const Shape& shape, const std::vector<int>& axes, const char* role) {
  const auto rank = static_cast<int>(shape.size());
  std::int64_t size = 1;
  for (int a : axes) {
    if (a < -rank || a >= rank)
      throw ShapeError(std::string("[variance_scaling] ") + role + " " + std::to_string(a) +
                       " is out of range for a weight of shape " + jute::detail::shape_str(shape) +
                       "; pass axes in [" + std::to_string(-rank) + ", " +
                       std::to_string(rank - 1) + "].");
    size *= shape[static_cast<std::size_t>(a < 0 ? a + rank : a)];
  }
  return size;
}

}  // namespace

Array zeros(const Array&, const Shape& shape, DType dtype) { return jute::zeros(shape, dtype); }
Array ones(const Array&, const Shape& shape, DType dtype) { return jute::ones(shape, dtype); }
Initializer zeros_init() { return zeros; }
Initializer ones_init() { return ones; }

Initializer constant(double value) {
  return [value](const Array&, const Shape& shape, DType dtype) {
    return jute::full(shape, value, dtype);
  };
}

Initializer uniform(double scale) {
  return [scale](const Array& key, const Shape& shape, DType dtype) {
    check_float(dtype, "initializers.uniform");
    return scale_in_place(random::uniform(key, shape, dtype), scale);
  };
}

Initializer normal(double stddev) {
  return [stddev](const Array& key, const Shape& shape, DType dtype) {
    check_float(dtype, "initializers.normal");
    return scale_in_place(random::normal(key, shape, dtype), stddev);
  };
}

Initializer truncated_normal(double stddev, double lower, double upper) {
  return [=](const Array& key, const Shape& shape, DType dtype) {
    check_float(dtype, "initializers.truncated_normal");
    return scale_in_place(random::truncated_normal(key, lower, upper, shape, dtype), stddev);
  };
}

Fans compute_fans(const Shape& shape, const std::vector<int>& in_axis,
                  const std::vector<int>& out_axis, const std::vector<int>& batch_axis) {
  if (in_axis == std::vector<int>{-2} && shape.size() <= 1)
    throw ValueError("[variance_scaling] Cannot compute the fans of a weight of shape " +
                     jute::detail::shape_str(shape) +
                     " with the default in_axis; it needs at least 2 dimensions, or pass in_axis.");
  const std::int64_t in_size = axes_size(shape, in_axis, "in_axis");
  const std::int64_t out_size = axes_size(shape, out_axis, "out_axis");
  const std::int64_t batch_size = axes_size(shape, batch_axis, "batch_axis");
  std::int64_t total = 1;
  for (auto d : shape) total *= d;
  // Python: math.prod(shape) / in_size / out_size / batch_size, left to right, in float.
  const double receptive = static_cast<double>(total) / static_cast<double>(in_size) /
                           static_cast<double>(out_size) / static_cast<double>(batch_size);
  return {static_cast<double>(in_size) * receptive, static_cast<double>(out_size) * receptive};
}

Initializer variance_scaling(double scale, FanMode mode, Distribution distribution,
                             std::vector<int> in_axis, std::vector<int> out_axis,
                             std::vector<int> batch_axis) {
  return [=](const Array& key, const Shape& shape, DType dtype) -> Array {
    check_float(dtype, "variance_scaling");
    for (auto d : shape)
      if (d < 0)
        throw ShapeError("[variance_scaling] Shape " + jute::detail::shape_str(shape) +
                         " has a negative dimension; every dimension must be >= 0.");
    const Fans fans = compute_fans(shape, in_axis, out_axis, batch_axis);
    std::int64_t total = 1;
    for (auto d : shape) total *= d;
    if (total == 0) return jute::zeros(shape, dtype);  // nothing to sample (the fans divide by 0)
    double den = 0;
    switch (mode) {
      case FanMode::fan_in:
        den = fans.fan_in;
        break;
      case FanMode::fan_out:
        den = fans.fan_out;
        break;
      case FanMode::fan_avg:
        den = (fans.fan_in + fans.fan_out) / 2;
        break;
      case FanMode::fan_geo_avg:
        den = std::pow(fans.fan_in * fans.fan_out, 0.5);
        break;
    }
    const double variance64 = scale / den;
    if (dtype == float32) {
      const auto variance = static_cast<float>(variance64);
      switch (distribution) {
        case Distribution::truncated_normal:
          return scale_in_place(random::truncated_normal(key, -2.0, 2.0, shape, dtype),
                                std::sqrt(variance) / static_cast<float>(kTruncatedStddev));
        case Distribution::normal:
          return scale_in_place(random::normal(key, shape, dtype), std::sqrt(variance));
        case Distribution::uniform:
          return scale_in_place(random::uniform(key, shape, dtype, -1.0, 1.0),
                                std::sqrt(3.0f * variance));
      }
    }
    switch (distribution) {
      case Distribution::truncated_normal:
        return scale_in_place(random::truncated_normal(key, -2.0, 2.0, shape, dtype),
                              std::sqrt(variance64) / kTruncatedStddev);
      case Distribution::normal:
        return scale_in_place(random::normal(key, shape, dtype), std::sqrt(variance64));
      case Distribution::uniform:
        return scale_in_place(random::uniform(key, shape, dtype, -1.0, 1.0),
                              std::sqrt(3.0 * variance64));
    }
    throw ValueError(
        "[variance_scaling] Unknown distribution; use truncated_normal, normal or "
        "uniform.");
  };
}

Initializer variance_scaling(double scale, std::string_view mode, std::string_view distribution,
                             std::vector<int> in_axis, std::vector<int> out_axis,
                             std::vector<int> batch_axis) {
  FanMode m{};
  if (mode == "fan_in")
    m = FanMode::fan_in;
  else if (mode == "fan_out")
    m = FanMode::fan_out;
  else if (mode == "fan_avg")
    m = FanMode::fan_avg;
  else if (mode == "fan_geo_avg")
    m = FanMode::fan_geo_avg;
  else
    throw ValueError("[variance_scaling] Invalid mode \"" + std::string(mode) +
                     "\"; use fan_in, fan_out, fan_avg or fan_geo_avg.");
  Distribution d{};
  if (distribution == "truncated_normal")
    d = Distribution::truncated_normal;
  else if (distribution == "normal")
    d = Distribution::normal;
  else if (distribution == "uniform")
    d = Distribution::uniform;
  else
    throw ValueError("[variance_scaling] Invalid distribution \"" + std::string(distribution) +
                     "\"; use truncated_normal, normal or uniform.");
  return variance_scaling(scale, m, d, std::move(in_axis), std::move(out_axis),
                          std::move(batch_axis));
}

Initializer glorot_uniform(std::vector<int> in_axis, std::vector<int> out_axis,
                           std::vector<int> batch_axis) {
  return variance_scaling(1.0, FanMode::fan_avg, Distribution::uniform, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer glorot_normal(std::vector<int> in_axis, std::vector<int> out_axis,
                          std::vector<int> batch_axis) {
  return variance_scaling(1.0, FanMode::fan_avg, Distribution::truncated_normal, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer lecun_uniform(std::vector<int> in_axis, std::vector<int> out_axis,
                          std::vector<int> batch_axis) {
  return variance_scaling(1.0, FanMode::fan_in, Distribution::uniform, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer lecun_normal(std::vector<int> in_axis, std::vector<int> out_axis,
                         std::vector<int> batch_axis) {
  return variance_scaling(1.0, FanMode::fan_in, Distribution::truncated_normal, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer he_uniform(std::vector<int> in_axis, std::vector<int> out_axis,
                       std::vector<int> batch_axis) {
  return variance_scaling(2.0, FanMode::fan_in, Distribution::uniform, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer he_normal(std::vector<int> in_axis, std::vector<int> out_axis,
                      std::vector<int> batch_axis) {
  return variance_scaling(2.0, FanMode::fan_in, Distribution::truncated_normal, std::move(in_axis),
                          std::move(out_axis), std::move(batch_axis));
}
Initializer xavier_uniform(std::vector<int> in_axis, std::vector<int> out_axis,
                           std::vector<int> batch_axis) {
  return glorot_uniform(std::move(in_axis), std::move(out_axis), std::move(batch_axis));
}
Initializer xavier_normal(std::vector<int> in_axis, std::vector<int> out_axis,
                          std::vector<int> batch_axis) {
  return glorot_normal(std::move(in_axis), std::move(out_axis), std::move(batch_axis));
}
Initializer kaiming_uniform(std::vector<int> in_axis, std::vector<int> out_axis,
                            std::vector<int> batch_axis) {
  return he_uniform(std::move(in_axis), std::move(out_axis), std::move(batch_axis));
}
Initializer kaiming_normal(std::vector<int> in_axis, std::vector<int> out_axis,
                           std::vector<int> batch_axis) {
  return he_normal(std::move(in_axis), std::move(out_axis), std::move(batch_axis));
}

}  // namespace jute::nn::initializers
