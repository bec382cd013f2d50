// conv_general_dilated (lax semantics, Flax's NHWC/HWIO layouts), Padding, and the recorded ops
// whose rules make convolutions differentiable to any order. The kernels are in conv_kernels.cpp.
//
// Decisions:
// - Negative explicit padding crops the (dilated) input, as in lax; a crop larger than the input
//   is a ValueError.
// - Float32 and float64 only; integer and bool operands are a DtypeError (convert with astype).
//   Operands of different float dtypes are promoted to the wider one.
#include <algorithm>
#include <cctype>
#include <string>

#include "core/trace.hpp"
#include "jute/ops.hpp"
#include "ops/conv_kernels.hpp"

namespace jute {

// ---- Padding ------------------------------------------------------------------------------------

Padding::Padding(const char* name) : Padding(std::string(name ? name : "")) {}

Padding::Padding(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "SAME")
    kind_ = Kind::Same;
  else if (upper == "VALID")
    kind_ = Kind::Valid;
  else
    throw ValueError("[Padding] Unknown padding \"" + name +
                     "\"; use \"SAME\", \"VALID\" or explicit (low, high) pairs per spatial axis.");
}

Padding::Padding(std::vector<std::pair<std::int64_t, std::int64_t>> explicit_pads)
    : kind_(Kind::Explicit), pads_(std::move(explicit_pads)) {}

std::vector<std::pair<std::int64_t, std::int64_t>> Padding::resolve(const Shape& in_spatial,
                                                                    const Shape& window,
                                                                    const Shape& strides) const {
  const std::size_t n = in_spatial.size();
  if (window.size() != n || strides.size() != n)
    throw ShapeError("[Padding] The input sizes " + detail::shape_str(in_spatial) + ", window " +
                     detail::shape_str(window) + " and strides " + detail::shape_str(strides) +
                     " must have one entry per axis each.");
  if (kind_ == Kind::Explicit) {
    if (pads_.size() != n)
      throw ShapeError("[Padding] Explicit padding has " + std::to_string(pads_.size()) +
                       " (low, high) pairs for input sizes " + detail::shape_str(in_spatial) +
                       "; give one pair per axis.");
    return pads_;
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> out(n, {0, 0});
  if (kind_ == Kind::Valid) return out;
  for (std::size_t i = 0; i < n; ++i) {
    if (strides[i] < 1)
      throw ValueError("[Padding] Strides " + detail::shape_str(strides) + " must be positive.");
    // lax.padtype_to_pads: out = ceil(in / stride), total = max((out-1)*stride + window - in, 0).
    const std::int64_t o = (in_spatial[i] + strides[i] - 1) / strides[i];
    const std::int64_t total =
        std::max<std::int64_t>((o - 1) * strides[i] + window[i] - in_spatial[i], 0);
    out[i] = {total / 2, total - total / 2};
  }
  return out;
}

namespace detail {

namespace {

/// Promotes two float operands to their common dtype (float32 with float64 gives float64).
void harmonize(Array& a, Array& b) {
  if (a.dtype() == b.dtype()) return;
  DType t = promote_types(a.dtype(), b.dtype());
  a = a.astype(t);
  b = b.astype(t);
}

}  // namespace

Array conv_bias_op(const Array& x_in, const Array& w_in, const Array& b_in,
                   const ConvGeometry& geo) {
  const DType t = promote_types(promote_types(x_in.dtype(), w_in.dtype()), b_in.dtype());
  const Array x = x_in.astype(t), w = w_in.astype(t), b = b_in.astype(t);
  const bool shape_only = any_abstract(x, w, b);
  Array out = shape_only ? abstract(t, geo.out_shape()) : empty(t, geo.out_shape());
  if (!shape_only)
    conv_bias_kernel(geo, t, x.raw_data(), w.raw_data(), b.raw_data(), mutable_raw(out));
  if (!any_traced(x, w, b)) return out;
  return record("conv_general_dilated_bias", out, {x, w, b},
                [geo](const Array& ct, const std::vector<Array>& in, const Array&) {
                  // The bias gradient is a separate column sum: oneDNN's backward-weights with its
                  // bias gradient was slower than without it plus this sum (docs/conv.md).
                  Array db;
                  if (may_need_cotangent(in[2])) {
                    std::vector<int> all_but_channels(static_cast<std::size_t>(ct.ndim() - 1));
                    for (int a = 0; a < ct.ndim() - 1; ++a) all_but_channels[a] = a;
                    db = sum(ct, Axes(all_but_channels));
                  }
                  return std::vector<Array>{
                      may_need_cotangent(in[0]) ? conv_input_grad(ct, in[1], geo) : Array(),
                      may_need_cotangent(in[1]) ? conv_kernel_grad(in[0], ct, geo) : Array(), db};
                },
                {.output = false, .values_of = 0b011});
}

Array conv_op(ConvRole role, const Array& a_in, const Array& b_in, const ConvGeometry& geo) {
  Array a = a_in, b = b_in;
  harmonize(a, b);
  const Shape shape = role == ConvRole::Output  ? geo.out_shape()
                      : role == ConvRole::Input ? geo.lhs_shape()
                                                : geo.rhs_shape();
  const bool shape_only = any_abstract(a, b);
  Array out = shape_only ? abstract(a.dtype(), shape) : empty(a.dtype(), shape);
  if (!shape_only) conv_kernel(role, geo, a.dtype(), a.raw_data(), b.raw_data(), mutable_raw(out));
  if (!any_traced(a, b)) return out;
  static constexpr const char* names[] = {"conv_input_grad", "conv_kernel_grad",
                                          "conv_general_dilated"};
  return record(names[static_cast<int>(role)], out, {a, b},
                [geo, role](const Array& ct, const std::vector<Array>& in, const Array&) {
                  // T(x, w, g) is linear in each variable, so the cotangent of an operand is the
                  // op computing that operand's role from the other two: the cotangent (in this
                  // op's role) and the other operand.
                  const auto [ra, rb] = conv_operand_roles(role);
                  Array by_role[3];
                  by_role[static_cast<int>(role)] = ct;
                  by_role[static_cast<int>(ra)] = in[0];
                  by_role[static_cast<int>(rb)] = in[1];
                  auto compute = [&](ConvRole r) {
                    const auto [p, q] = conv_operand_roles(r);
                    return conv_op(r, by_role[static_cast<int>(p)], by_role[static_cast<int>(q)],
                                   geo);
                  };
                  return std::vector<Array>{may_need_cotangent(in[0]) ? compute(ra) : Array(),
                                            may_need_cotangent(in[1]) ? compute(rb) : Array()};
                },
                {.output = false});
}

}  // namespace detail

// ---- conv_general_dilated ---------------------------------------------------------------------

namespace {

constexpr const char* kConv = "[conv_general_dilated] ";

/// Ones when `v` is empty; otherwise checks one positive entry per spatial axis.
Shape per_axis(const Shape& v, int D, const char* what) {
  if (v.empty()) return Shape(static_cast<std::size_t>(D), 1);
  if (static_cast<int>(v.size()) != D)
    throw ShapeError(std::string(kConv) + what + " " + detail::shape_str(v) + " has " +
                     std::to_string(v.size()) + " entries but the convolution has " +
                     std::to_string(D) + " spatial axes; give one per spatial axis (or none).");
  for (auto s : v)
    if (s < 1)
      throw ValueError(std::string(kConv) + what + " " + detail::shape_str(v) +
                       " must be positive.");
  return v;
}

}  // namespace

namespace detail {

ConvGeometry make_conv_geometry(const Shape& lhs, const Shape& rhs, const Shape& window_strides,
                                const Padding& padding, const Shape& lhs_dilation,
                                const Shape& rhs_dilation, std::int64_t feature_group_count) {
  const std::string ls = shape_str(lhs), rs = shape_str(rhs);
  if (lhs.size() < 3)
    throw ShapeError(kConv + std::string("lhs with shape ") + ls +
                     " must have rank >= 3 (batch, spatial..., channels); add a batch axis.");
  if (rhs.size() != lhs.size())
    throw ShapeError(kConv + std::string("lhs with shape ") + ls + " and rhs with shape " + rs +
                     " must have the same rank (rhs is (spatial..., in_channels, out_channels)).");
  const int D = static_cast<int>(lhs.size()) - 2;
  const Shape strides = per_axis(window_strides, D, "window_strides");
  const Shape ldil = per_axis(lhs_dilation, D, "lhs_dilation");
  const Shape rdil = per_axis(rhs_dilation, D, "rhs_dilation");
  const std::int64_t G = feature_group_count;
  if (G < 1)
    throw ValueError(kConv + std::string("feature_group_count ") + std::to_string(G) +
                     " must be positive.");
  const std::int64_t C = lhs.back(), O = rhs.back(), Cg = rhs[rhs.size() - 2];
  if (C % G != 0)
    throw ShapeError(kConv + std::string("feature_group_count ") + std::to_string(G) +
                     " does not divide the " + std::to_string(C) +
                     " input channels of lhs with shape " + ls + ".");
  if (Cg * G != C)
    throw ShapeError(kConv + std::string("lhs with shape ") + ls + " has " + std::to_string(C) +
                     " input channels but rhs with shape " + rs + " expects " + std::to_string(Cg) +
                     " x feature_group_count " + std::to_string(G) +
                     "; make rhs's second to last axis C / groups.");
  if (O % G != 0)
    throw ShapeError(kConv + std::string("feature_group_count ") + std::to_string(G) +
                     " does not divide the " + std::to_string(O) +
                     " output channels of rhs with shape " + rs + ".");

  ConvGeometry geo;
  geo.batch = lhs[0];
  geo.in_channels = C;
  geo.out_channels = O;
  geo.groups = G;
  geo.strides = strides;
  geo.lhs_dilation = ldil;
  geo.rhs_dilation = rdil;
  Shape eff_window(static_cast<std::size_t>(D));
  for (int d = 0; d < D; ++d) {
    geo.in.push_back(lhs[d + 1]);
    geo.kernel.push_back(rhs[d]);
    if (geo.kernel[d] < 1)
      throw ShapeError(kConv + std::string("rhs with shape ") + rs +
                       " has an empty spatial axis; every kernel size must be >= 1.");
    eff_window[d] = (geo.kernel[d] - 1) * rdil[d] + 1;
  }
  if (padding.kind() == Padding::Kind::Explicit && static_cast<int>(padding.pads().size()) != D)
    throw ShapeError(kConv + std::string("Explicit padding has ") +
                     std::to_string(padding.pads().size()) +
                     " (low, high) pairs but lhs with shape " + ls + " has " + std::to_string(D) +
                     " spatial axes; give one pair per axis.");
  // As lax: SAME is computed from the undilated input sizes and the dilated kernel.
  const auto pads = padding.resolve(geo.in, eff_window, strides);
  for (int d = 0; d < D; ++d) {
    const std::int64_t in_d = geo.in[d] == 0 ? 0 : (geo.in[d] - 1) * ldil[d] + 1;
    const std::int64_t padded = in_d + pads[d].first + pads[d].second;
    if (padded < 0)
      throw ValueError(kConv + std::string("Negative padding (") + std::to_string(pads[d].first) +
                       ", " + std::to_string(pads[d].second) + ") crops more than the size " +
                       std::to_string(in_d) + " of spatial axis " + std::to_string(d) +
                       " of lhs with shape " + ls + ".");
    geo.pad_lo.push_back(pads[d].first);
    geo.out.push_back(padded < eff_window[d] ? 0 : (padded - eff_window[d]) / strides[d] + 1);
  }

  return geo;
}

}  // namespace detail

Array conv_general_dilated(const Array& lhs, const Array& rhs, const Shape& window_strides,
                           const Padding& padding, const Shape& lhs_dilation,
                           const Shape& rhs_dilation, std::int64_t feature_group_count) {
  for (const Array* a : {&lhs, &rhs})
    if (!is_floating(a->dtype()))
      throw DtypeError(kConv + std::string("Operands of dtype ") + std::string(name(a->dtype())) +
                       " are not supported (lhs " + detail::shape_str(lhs.shape()) + ", rhs " +
                       detail::shape_str(rhs.shape()) + "); convert them with astype(float32).");
  auto geo = detail::make_conv_geometry(lhs.shape(), rhs.shape(), window_strides, padding,
                                        lhs_dilation, rhs_dilation, feature_group_count);
  return detail::conv_forward(lhs, rhs, geo);  // promotes mixed float dtypes
}

Array conv_general_dilated_bias(const Array& lhs, const Array& rhs, const Array& bias,
                                const Shape& window_strides, const Padding& padding,
                                const Shape& lhs_dilation, const Shape& rhs_dilation,
                                std::int64_t feature_group_count) {
  constexpr const char* op = "[conv_general_dilated_bias] ";
  for (const Array* a : {&lhs, &rhs, &bias})
    if (!is_floating(a->dtype()))
      throw DtypeError(op + std::string("Operands of dtype ") + std::string(name(a->dtype())) +
                       " are not supported (lhs " + detail::shape_str(lhs.shape()) + ", rhs " +
                       detail::shape_str(rhs.shape()) + ", bias " +
                       detail::shape_str(bias.shape()) + "); convert them with astype(float32).");
  auto geo = detail::make_conv_geometry(lhs.shape(), rhs.shape(), window_strides, padding,
                                        lhs_dilation, rhs_dilation, feature_group_count);
  if (bias.shape() != Shape{geo.out_channels})
    throw ShapeError(op + std::string("bias with shape ") + detail::shape_str(bias.shape()) +
                     " must have shape (" + std::to_string(geo.out_channels) +
                     ",), one value per output channel of rhs with shape " +
                     detail::shape_str(rhs.shape()) + ".");
  return detail::conv_bias_op(lhs, rhs, bias, geo);
}

}  // namespace jute
