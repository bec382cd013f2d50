// Internal: the geometry of a convolution, the GEMM-based kernels behind conv_general_dilated, and
// the two recorded transposes that its derivative rules are written with.
//
// A convolution y = conv(x, w) is bilinear, so it has a trilinear form T(x, w, g) = <g, conv(x, w)>
// whose three partial derivatives are the three ops below:
//   conv_forward(x, w)       = ∂T/∂g   — (N, out..., O)
//   conv_input_grad(g, w)    = ∂T/∂x   — (N, in..., C): GEMM g @ wᵀ, then col2im
//   conv_kernel_grad(x, g)   = ∂T/∂w   — (k..., C/G, O): GEMM im2col(x)ᵀ @ g
// Each op's rule is written with the other two, so derivatives of any order close over this set.
#pragma once

#include <cstdint>
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

/// y = conv(x, w); `dtype` is float32 or float64 for all three buffers.
void conv_forward_kernel(const ConvGeometry& geo, DType dtype, const void* x, const void* w,
                         void* y);
/// dx = the transpose of conv(·, w) applied to g (g @ wᵀ per group, then col2im).
void conv_input_grad_kernel(const ConvGeometry& geo, DType dtype, const void* g, const void* w,
                            void* dx);
/// dw = the transpose of conv(x, ·) applied to g (im2col(x)ᵀ @ g per group).
void conv_kernel_grad_kernel(const ConvGeometry& geo, DType dtype, const void* x, const void* g,
                             void* dw);

/// The recorded ops (they record themselves when an input is traced). Operands must share a
/// float dtype and have the shapes the geometry says; the callers guarantee both.
Array conv_forward(const Array& x, const Array& w, const ConvGeometry& geo);
Array conv_input_grad(const Array& g, const Array& w, const ConvGeometry& geo);
Array conv_kernel_grad(const Array& x, const Array& g, const ConvGeometry& geo);

}  // namespace jute::detail
