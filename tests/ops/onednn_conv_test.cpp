// The float32 convolutions on oneDNN's primitives against jute's im2col kernels (run in float64):
// forward, input gradient and kernel gradient on a spread of shapes, strides, paddings,
// dilations and groups; and which geometries go to oneDNN at all.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/array_impl.hpp"
#include "jute/ops.hpp"
#include "ops/conv_kernels.hpp"
#include "ops/onednn_conv.hpp"

using namespace jute;
using detail::ConvGeometry;
using detail::ConvRole;
using Pads = std::vector<std::pair<std::int64_t, std::int64_t>>;

namespace {

std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

/// Deterministic values in [-1, 1).
std::vector<double> values(std::int64_t n, std::uint32_t seed) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& e : v) {
    seed = seed * 1664525u + 1013904223u;
    e = static_cast<double>(seed >> 8) / static_cast<double>(1u << 23) - 1.0;
  }
  return v;
}

struct Case {
  Shape lhs, rhs, strides;
  Padding padding;
  Shape rhs_dilation;
  std::int64_t groups = 1;
};

/// Each role computed by oneDNN in float32 and by the im2col kernels in float64 agree to a
/// tolerance proportional to the number of products summed per element.
void check_roles(const Case& c) {
  const ConvGeometry geo =
      detail::make_conv_geometry(c.lhs, c.rhs, c.strides, c.padding, {}, c.rhs_dilation, c.groups);
  REQUIRE(detail::onednn_conv_supported(geo));
  const Shape shapes[] = {geo.lhs_shape(), geo.rhs_shape(), geo.out_shape()};
  for (ConvRole role : {ConvRole::Output, ConvRole::Input, ConvRole::Kernel}) {
    INFO("role " << static_cast<int>(role));
    const auto [ra, rb] = detail::conv_operand_roles(role);
    const Shape& sa = shapes[static_cast<int>(ra)];
    const Shape& sb = shapes[static_cast<int>(rb)];
    const Shape& so = shapes[static_cast<int>(role)];
    const Array a64 = Array::from_vector(values(numel(sa), 1), sa);
    const Array b64 = Array::from_vector(values(numel(sb), 2), sb);
    const Array a32 = a64.astype(float32), b32 = b64.astype(float32);
    Array ref = detail::empty(float64, so), got = detail::empty(float32, so);
    detail::conv_kernel(role, geo, float64, a32.astype(float64).raw_data(),
                        b32.astype(float64).raw_data(), detail::mutable_raw(ref));
    REQUIRE(detail::onednn_conv(role, geo, static_cast<const float*>(a32.raw_data()),
                                static_cast<const float*>(b32.raw_data()),
                                detail::mutable_data<float>(got)));
    // Products summed per element: taps × channels per group for the output and the input
    // gradient, batch × output positions for the kernel gradient.
    const double terms =
        static_cast<double>(role == ConvRole::Kernel ? numel(geo.out_shape()) / geo.out_channels
                                                     : numel(geo.rhs_shape()) / geo.groups);
    const auto r = ref.to_vector<double>();
    const auto g = got.to_vector<float>();
    REQUIRE(r.size() == g.size());
    double worst = 0;
    for (std::size_t i = 0; i < r.size(); ++i)
      worst = std::max(worst, std::abs(r[i] - static_cast<double>(g[i])));
    CHECK(worst <= 2e-6 * terms);
  }
}

}  // namespace

TEST_SUITE("ops.onednn_conv") {
  TEST_CASE("oneDNN's float32 convolutions match the im2col kernels") {
    const std::vector<Case> cases = {
        {{2, 9, 9, 3}, {3, 3, 3, 8}, {1, 1}, "SAME", {}},
        {{4, 28, 28, 1}, {3, 3, 1, 32}, {1, 1}, "SAME", {}},  // the MNIST CNN's layers
        {{2, 14, 14, 32}, {3, 3, 32, 64}, {1, 1}, "SAME", {}},
        {{2, 10, 11, 4}, {3, 2, 4, 6}, {2, 3}, "VALID", {}},
        {{2, 8, 8, 4}, {3, 3, 4, 4}, {2, 2}, "VALID", {}},  // stride drops the last input row
        {{1, 12, 12, 6}, {3, 3, 2, 6}, {1, 2}, Padding({{2, 1}, {0, 3}}), {2, 1}, 3},
        {{2, 8, 8, 4}, {3, 3, 1, 8}, {1, 1}, "SAME", {}, 4},  // depthwise, multiplier 2
        {{2, 7, 7, 8}, {3, 3, 1, 8}, {2, 2}, "SAME", {2, 2}, 8},
        {{3, 5, 5, 16}, {1, 1, 16, 32}, {1, 1}, "VALID", {}},       // 1×1
        {{2, 15, 3}, {4, 3, 5}, {2}, "SAME", {3}},                  // 1-D
        {{1, 5, 6, 7, 2}, {2, 3, 2, 2, 4}, {1, 2, 1}, "SAME", {}},  // 3-D
        {{2, 6, 6, 4}, {2, 2, 2, 6}, {1, 1}, Padding({{3, 0}, {1, 4}}), {1, 2}, 2},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO("case " << i);
      check_roles(cases[i]);
    }
  }

  TEST_CASE("geometries oneDNN cannot express stay on the im2col kernels") {
    auto supported = [](const Shape& lhs, const Shape& rhs, const Shape& strides,
                        const Padding& padding, const Shape& lhs_dilation) {
      return detail::onednn_conv_supported(
          detail::make_conv_geometry(lhs, rhs, strides, padding, lhs_dilation, {}, 1));
    };
    CHECK(supported({1, 5, 5, 2}, {3, 3, 2, 2}, {1, 1}, "SAME", {}));
    CHECK_FALSE(supported({1, 5, 5, 2}, {3, 3, 2, 2}, {1, 1}, "SAME", {2, 1}));  // lhs dilation
    CHECK_FALSE(supported({1, 5, 5, 2}, {3, 3, 2, 2}, {1, 1}, Padding({{-1, 0}, {0, 0}}), {}));
    CHECK_FALSE(supported({1, 9, 2}, {3, 2, 2}, {1}, Padding(Pads{{0, -2}}), {}));  // crops the end
    CHECK_FALSE(supported({0, 5, 5, 2}, {3, 3, 2, 2}, {1, 1}, "SAME", {}));         // empty batch
    CHECK_FALSE(supported({1, 2, 2, 2, 2, 2}, {1, 1, 1, 1, 2, 2}, {}, "VALID", {}));  // 4-D
  }
}
