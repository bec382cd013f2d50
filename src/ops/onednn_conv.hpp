// Internal: float32 convolutions on oneDNN's convolution primitives (forward, backward-data,
// backward-weights), for the geometries oneDNN can compute; conv_kernel uses them when
// `onednn_conv_supported` says so and its im2col kernels otherwise. The only file that includes
// dnnl.hpp is onednn_conv.cpp.
#pragma once

#include "ops/conv_kernels.hpp"

namespace jute::detail {

/// Whether oneDNN computes this float32 convolution: 1 to 3 spatial axes, no lhs (input)
/// dilation, no empty axis, non-negative low padding and a high padding oneDNN can express.
bool onednn_conv_supported(const ConvGeometry& geo);

/// conv_kernel's `role` for float32 through oneDNN (`onednn_conv_supported(geo)` must hold);
/// false, having written nothing, when oneDNN has no implementation for it after all.
bool onednn_conv(ConvRole role, const ConvGeometry& geo, const float* a, const float* b,
                 float* out);

}  // namespace jute::detail
