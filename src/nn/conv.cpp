// Conv and ConvTranspose (flax/linen/linear.py), over conv_general_dilated.
#include "jute/nn/conv.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "jute/ops.hpp"
#include "layer_util.hpp"

namespace jute::nn {

using detail::cast;
using detail::layer_error;
using Pads = std::vector<std::pair<std::int64_t, std::int64_t>>;

ConvPadding::ConvPadding(const char* name) : ConvPadding(std::string(name)) {}

ConvPadding::ConvPadding(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "SAME")
    kind_ = Kind::Same;
  else if (upper == "VALID")
    kind_ = Kind::Valid;
  else if (upper == "CIRCULAR")
    kind_ = Kind::Circular;
  else if (upper == "REFLECT")
    kind_ = Kind::Reflect;
  else if (upper == "CAUSAL")
    kind_ = Kind::Causal;
  else
    throw ValueError(
        "[ConvPadding] Unknown padding \"" + name +
        "\"; use \"SAME\", \"VALID\", \"CIRCULAR\", \"REFLECT\", \"CAUSAL\", an int or "
        "(low, high) pairs per spatial axis.");
}

ConvPadding::ConvPadding(int pad) : kind_(Kind::Symmetric), pads_{{pad, pad}} {}

ConvPadding::ConvPadding(std::vector<std::pair<std::int64_t, std::int64_t>> explicit_pads)
    : kind_(Kind::Explicit), pads_(std::move(explicit_pads)) {}

std::string ConvPadding::to_string() const {
  switch (kind_) {
    case Kind::Same:
      return "SAME";
    case Kind::Valid:
      return "VALID";
    case Kind::Circular:
      return "CIRCULAR";
    case Kind::Reflect:
      return "REFLECT";
    case Kind::Causal:
      return "CAUSAL";
    case Kind::Symmetric:
      return std::to_string(pads_[0].first);
    case Kind::Explicit:
      break;
  }
  std::string s = "[";
  for (std::size_t i = 0; i < pads_.size(); ++i)
    s += (i ? ", (" : "(") + std::to_string(pads_[i].first) + ", " +
         std::to_string(pads_[i].second) + ")";
  return s + "]";
}

namespace {

/// The input with its batch axes flattened into one (added when absent), and what undoes it.
struct BatchFlat {
  Array x;
  Shape batch_shape;
  bool reshaped = false;

  Array restore(const Array& y) const {
    if (!reshaped) return y;
    Shape out = batch_shape;
    out.insert(out.end(), y.shape().begin() + 1, y.shape().end());
    return reshape(y, out);
  }
};

BatchFlat flatten_batch(const char* layer, const Scope& s, const Array& x, std::size_t nsp) {
  if (nsp == 0) layer_error(layer, s, "kernel_size must have at least one entry.", true);
  const int num_batch = x.ndim() - static_cast<int>(nsp + 1);
  if (num_batch < 0)
    layer_error(layer, s,
                "a kernel_size of " + std::to_string(nsp) +
                    " spatial axes needs an input (batch..., " + std::to_string(nsp) +
                    " spatial axes, features) of rank at least " + std::to_string(nsp + 1) +
                    "; got " + jute::detail::shape_str(x.shape()) + ".");
  BatchFlat f;
  if (num_batch == 1) {
    f.x = x;
    return f;
  }
  f.reshaped = true;
  f.batch_shape.assign(x.shape().begin(), x.shape().begin() + num_batch);
  Shape flat{detail::product(f.batch_shape)};
  flat.insert(flat.end(), x.shape().begin() + num_batch, x.shape().end());
  f.x = reshape(x, flat);
  return f;
}

/// The explicit pairs of an int or pair-list padding, checked against the spatial rank.
Pads explicit_pads(const char* layer, const Scope& s, const ConvPadding& p, std::size_t nsp) {
  if (p.kind() == ConvPadding::Kind::Symmetric) return Pads(nsp, p.pads()[0]);
  if (p.pads().size() != nsp)
    layer_error(layer, s,
                "padding " + p.to_string() + " needs one (low, high) pair per spatial axis (" +
                    std::to_string(nsp) + ").",
                true);
  return p.pads();
}

void check_mask(const char* layer, const Scope& s, const Array& mask, const Shape& kernel_shape) {
  if (mask.valid() && mask.shape() != kernel_shape)
    layer_error(layer, s,
                "the mask needs the kernel's shape " + jute::detail::shape_str(kernel_shape) +
                    "; got " + jute::detail::shape_str(mask.shape()) + ".",
                true);
}

Array add_bias(const Array& y, const Array& bias, DType dt) {
  return bias.valid() ? y + cast(bias, dt) : y;
}

}  // namespace

Array Conv::operator()(Scope& s, const Array& input) const {
  const std::size_t nsp = kernel_size.size();
  BatchFlat flat = flatten_batch("Conv", s, input, nsp);
  Array x = flat.x;
  const Shape st = detail::broadcast_setting(strides, nsp, "Conv", s, "strides");
  const Shape in_dil = detail::broadcast_setting(input_dilation, nsp, "Conv", s, "input_dilation");
  const Shape k_dil = detail::broadcast_setting(kernel_dilation, nsp, "Conv", s, "kernel_dilation");

  Padding lax_padding = Padding::valid();
  switch (padding.kind()) {
    case ConvPadding::Kind::Same:
      lax_padding = Padding::same();
      break;
    case ConvPadding::Kind::Valid:
      break;
    case ConvPadding::Kind::Circular:
    case ConvPadding::Kind::Reflect: {
      Pads pads{{0, 0}};
      for (std::size_t i = 0; i < nsp; ++i) {
        const std::int64_t kd = (kernel_size[i] - 1) * k_dil[i] + 1;
        pads.emplace_back((kd - 1) / 2, kd / 2);
      }
      pads.emplace_back(0, 0);
      x = pad(x, pads,
              padding.kind() == ConvPadding::Kind::Circular ? PadMode::Wrap : PadMode::Reflect);
      break;
    }
    case ConvPadding::Kind::Causal: {
      if (nsp != 1)
        layer_error("Conv", s, "CAUSAL padding is only implemented for 1-D convolutions.", true);
      x = pad(x, {{0, 0}, {k_dil[0] * (kernel_size[0] - 1), 0}, {0, 0}});
      break;
    }
    case ConvPadding::Kind::Explicit:
    case ConvPadding::Kind::Symmetric:
      lax_padding = Padding(explicit_pads("Conv", s, padding, nsp));
      break;
  }

  const std::int64_t in_features = x.shape(-1);
  const std::int64_t groups = feature_group_count;
  if (groups < 1 || in_features % groups != 0 || features % groups != 0)
    layer_error("Conv", s,
                "feature_group_count " + std::to_string(groups) +
                    " must divide the input features (" + std::to_string(in_features) +
                    ") and the output features (" + std::to_string(features) + ").");
  Shape kernel_shape = kernel_size;
  kernel_shape.push_back(in_features / groups);
  kernel_shape.push_back(features);
  check_mask("Conv", s, mask, kernel_shape);
  Array kernel = s.param("kernel", kernel_init, kernel_shape, param_dtype);
  if (mask.valid()) kernel = kernel * mask;
  const Array bias = use_bias ? s.param("bias", bias_init, {features}, param_dtype) : Array();
  const DType dt = detail::compute_dtype(dtype, {x.dtype(), kernel.dtype()});
  if (bias.valid())
    return flat.restore(conv_general_dilated_bias(cast(x, dt), cast(kernel, dt), cast(bias, dt), st,
                                                  lax_padding, in_dil, k_dil, groups));
  return flat.restore(
      conv_general_dilated(cast(x, dt), cast(kernel, dt), st, lax_padding, in_dil, k_dil, groups));
}

Array ConvTranspose::operator()(Scope& s, const Array& input) const {
  const std::size_t nsp = kernel_size.size();
  const BatchFlat flat = flatten_batch("ConvTranspose", s, input, nsp);
  const Array& x = flat.x;
  const Shape st = detail::broadcast_setting(strides, nsp, "ConvTranspose", s, "strides");
  const Shape k_dil =
      detail::broadcast_setting(kernel_dilation, nsp, "ConvTranspose", s, "kernel_dilation");

  const std::int64_t in_features = x.shape(-1);
  Shape kernel_shape = kernel_size;
  kernel_shape.push_back(transpose_kernel ? features : in_features);
  kernel_shape.push_back(transpose_kernel ? in_features : features);
  check_mask("ConvTranspose", s, mask, kernel_shape);
  Array kernel = s.param("kernel", kernel_init, kernel_shape, param_dtype);
  if (mask.valid()) kernel = kernel * mask;

  // lax.conv_transpose's padding of the dilated input.
  Pads pads;
  switch (padding.kind()) {
    case ConvPadding::Kind::Same:
    case ConvPadding::Kind::Valid:
    case ConvPadding::Kind::Circular:
      for (std::size_t i = 0; i < nsp; ++i) {
        const std::int64_t k = (kernel_size[i] - 1) * k_dil[i] + 1, s_i = st[i];
        std::int64_t pad_len = 0, pad_a = 0;
        if (padding.kind() == ConvPadding::Kind::Same) {
          pad_len = k + s_i - 2;
          pad_a = s_i > k - 1 ? k - 1 : (pad_len + 1) / 2;  // ceil(pad_len / 2)
        } else {
          pad_len = k + s_i - 2 + std::max<std::int64_t>(k - s_i, 0);
          pad_a = k - 1;
        }
        pads.emplace_back(pad_a, pad_len - pad_a);
      }
      break;
    case ConvPadding::Kind::Explicit:
    case ConvPadding::Kind::Symmetric:
      pads = explicit_pads("ConvTranspose", s, padding, nsp);
      break;
    case ConvPadding::Kind::Reflect:
    case ConvPadding::Kind::Causal:
      layer_error("ConvTranspose", s,
                  "padding " + padding.to_string() +
                      " is not supported; use SAME, VALID, CIRCULAR or explicit pairs.",
                  true);
  }
  const Array bias = use_bias ? s.param("bias", bias_init, {features}, param_dtype) : Array();

  const DType dt = detail::compute_dtype(dtype, {x.dtype(), kernel.dtype()});
  Array rhs = cast(kernel, dt);
  if (transpose_kernel) {
    std::vector<int> spatial(nsp);
    for (std::size_t i = 0; i < nsp; ++i) spatial[i] = static_cast<int>(i);
    rhs = swapaxes(flip(rhs, Axes(spatial)), -1, -2);
  }
  Array y = conv_general_dilated(cast(x, dt), rhs, Shape(nsp, 1), Padding(pads), st, k_dil);

  if (padding.kind() == ConvPadding::Kind::Circular) {
    // Flax: pad each spatial axis to an odd number of periods (period = in · stride), the data
    // starting at a whole number of periods, then fold the periods onto one by summing.
    Pads total{{0, 0}};
    Shape period(nsp);
    for (std::size_t i = 0; i < nsp; ++i) {
      period[i] = x.shape(static_cast<int>(i + 1)) * st[i];
      const std::int64_t y_dim = y.shape(static_cast<int>(i + 1));
      const std::int64_t m = 2 * period[i];
      const std::int64_t diff = ((-(y_dim - period[i])) % m + m) % m;
      total.emplace_back(transpose_kernel ? std::make_pair(diff / 2, (diff + 1) / 2)
                                          : std::make_pair((diff + 1) / 2, diff / 2));
    }
    total.emplace_back(0, 0);
    y = pad(y, total);
    for (std::size_t i = 0; i < nsp; ++i) {
      const int ax = static_cast<int>(i + 1);
      Shape split_shape(y.shape().begin(), y.shape().begin() + ax);
      split_shape.push_back(-1);
      split_shape.push_back(period[i]);
      split_shape.insert(split_shape.end(), y.shape().begin() + ax + 1, y.shape().end());
      y = sum(reshape(y, split_shape), ax);
    }
  }
  return flat.restore(add_bias(y, bias, dt));
}

}  // namespace jute::nn
