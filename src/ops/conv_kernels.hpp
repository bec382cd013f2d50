// Internal: the geometry of a convolution, the GEMM-based kernels behind conv_general_dilated, and
// the two recorded transposes that its derivative rules are written with.
//
// A convolution y = conv(x, w) is bilinear, so it has a trilinear form T(x, w, g) = <g, conv(x, w)>
// whose three partial derivatives are the three ops below:
//   conv_forward(x, w)       = ∂T/∂g   — (N, out..., O)
//   conv_input_grad(g, w)    = ∂T/∂x   — (N, in..., C): GEMM g @ wᵀ, then col2im
//   conv_kernel_grad(x, g)   = ∂T/∂w   — (k..., C/G, O): GEMM im2col(x)ᵀ @ g
// The cotangent of an operand of one of them is the op that computes that operand's role from
// the other two, so derivatives of any order close over this set.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/array_impl.hpp"
#include "jute/ops.hpp"

namespace jute::detail {

/// Everything a convolution's kernels need, resolved: explicit low pads (negative ones crop),
/// output sizes, and ones where the caller passed empty strides or dilations.
struct ConvGeometry {
  std::int64_t batch = 0;
  std::int64_t in_channels = 0;   // C
  std::int64_t out_channels = 0;  // O
  std::int64_t groups = 1;        // G; C and O are multiples of it
  Shape in;                       // spatial sizes of x (before lhs dilation and padding)
  Shape kernel;                   // spatial sizes of w (before rhs dilation)
  Shape out;                      // spatial sizes of y
  Shape strides, lhs_dilation, rhs_dilation;
  Shape pad_lo;  // low padding per spatial axis, in dilated-input coordinates

  int spatial_rank() const { return static_cast<int>(in.size()); }
  /// (N, in..., C), (k..., C/G, O) and (N, out..., O).
  Shape lhs_shape() const;
  Shape rhs_shape() const;
  Shape out_shape() const;
};

/// Validates conv_general_dilated's shape arguments (ShapeError / ValueError naming both shapes)
/// and resolves them into a geometry.
ConvGeometry make_conv_geometry(const Shape& lhs, const Shape& rhs, const Shape& window_strides,
                                const Padding& padding, const Shape& lhs_dilation,
                                const Shape& rhs_dilation, std::int64_t feature_group_count);

/// The three variables of the trilinear form T(x, w, g) = <g, conv(x, w)>: the input, the
/// kernel and the output (cotangent). Each op computes one of them from the other two.
enum class ConvRole { Input, Kernel, Output };

/// The roles of the two operands of the op that computes `role`, in argument order:
/// Output from (Input, Kernel), Input from (Output, Kernel), Kernel from (Input, Output).
std::pair<ConvRole, ConvRole> conv_operand_roles(ConvRole role);

/// Computes `role` from the operands `a`, `b` (in the order of conv_operand_roles) into `out`;
/// `dtype` is float32 or float64 for all three buffers:
///   Output: y  = conv(x, w)         im2col(x) @ w per group
///   Input:  dx = conv(·, w)ᵀ g      g @ wᵀ per group, then col2im
///   Kernel: dw = conv(x, ·)ᵀ g      im2col(x)ᵀ @ g per group
void conv_kernel(ConvRole role, const ConvGeometry& geo, DType dtype, const void* a, const void* b,
                 void* out);

/// conv_kernel's Output plus `bias` (O values, same dtype) added at every output position.
void conv_bias_kernel(const ConvGeometry& geo, DType dtype, const void* x, const void* w,
                      const void* bias, void* out);

/// The recorded op computing `role` from `a`, `b` (in the order of conv_operand_roles); it records
/// itself when an operand is traced. Operands must have the shapes the geometry says (the callers
/// guarantee it); mixed float dtypes are promoted.
Array conv_op(ConvRole role, const Array& a, const Array& b, const ConvGeometry& geo);

/// conv_forward(x, w) + bias (shape (O,)) as one recorded op; mixed float dtypes are promoted.
/// Its rule is conv_input_grad, conv_kernel_grad and the cotangent summed over all but the last
/// axis.
Array conv_bias_op(const Array& x, const Array& w, const Array& bias, const ConvGeometry& geo);

inline Array conv_forward(const Array& x, const Array& w, const ConvGeometry& geo) {
  return conv_op(ConvRole::Output, x, w, geo);
}
inline Array conv_input_grad(const Array& g, const Array& w, const ConvGeometry& geo) {
  return conv_op(ConvRole::Input, g, w, geo);
}
inline Array conv_kernel_grad(const Array& x, const Array& g, const ConvGeometry& geo) {
  return conv_op(ConvRole::Kernel, x, g, geo);
}

}  // namespace jute::detail
