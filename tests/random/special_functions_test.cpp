// The float special functions behind the samplers: a correctly rounded float32 log1p, XLA's
// float32 erfinv and erf, and the agreement of the vectorized kernels with the scalar ones.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "random/special_functions.hpp"

namespace jd = jute::random::detail;

namespace {

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

/// log1p rounded once from the C library's extended precision: the reference for the fast path.
float log1p_reference(float a) {
  return static_cast<float>(std::log1pl(static_cast<long double>(a)));
}

/// Inputs that exercise every path: both signs, tiny values (|a| < 2^-24), values near -1, large
/// values, the exact values normal() produces (a = -u*u for u on the uniform grid), and the
/// special values.
std::vector<float> test_inputs() {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          0x1p-30f,
                          -0x1p-30f,
                          0x1p-24f,
                          -0x1p-24f,
                          0x1.fffffep-25f,
                          -0.5f,
                          0.5f,
                          -0.99999994f,
                          1.0f,
                          3.0f,
                          0x1p23f,
                          0x1p24f,
                          1e30f,
                          std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::denorm_min(),
                          -1.0f,
                          -2.0f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()};
  std::uint32_t s = 12345;
  for (int i = 0; i < 20000; ++i) {
    s = s * 1664525u + 1013904223u;
    const float u = std::bit_cast<float>((s >> 9) | 0x3F800000u) * 2.0f - 3.0f;  // (-1, 1)
    v.push_back(u * -u);
    v.push_back(std::bit_cast<float>(s & 0xBFFFFFFFu));  // any float of magnitude < 2
  }
  return v;
}

bool same(float a, float b) { return bits_of(a) == bits_of(b) || (std::isnan(a) && std::isnan(b)); }

}  // namespace

TEST_SUITE("random") {
  TEST_CASE("random.log1p_f32: correctly rounded, scalar and vectorized kernels agree") {
    const std::vector<float> in = test_inputs();
    std::vector<float> block(in.size()), portable(in.size());
    jd::log1p_f32(in.data(), static_cast<std::int64_t>(in.size()), block.data());
    jd::log1p_f32_portable(in.data(), static_cast<std::int64_t>(in.size()), portable.data());
    int mismatches = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const float s = jd::log1p_f32(in[i]);
      mismatches += !same(s, log1p_reference(in[i])) + !same(s, block[i]) + !same(s, portable[i]);
    }
    CHECK(mismatches == 0);
    CHECK(bits_of(jd::log1p_f32(-0.0f)) == bits_of(-0.0f));
    CHECK(jd::log1p_f32(0x1p-30f) == 0x1p-30f);
    CHECK(jd::log1p_f32(-1.0f) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(jd::log1p_f32(-2.0f)));
    CHECK(jd::log1p_f32(std::numeric_limits<float>::infinity()) ==
          std::numeric_limits<float>::infinity());
    // Inputs whose double-precision result lies within the guard band around a float32 midpoint
    // (found by a search over the negative floats): the slow path decides. Expected values from
    // the independent reference (decimal logarithms).
    const std::vector<std::pair<float, std::uint32_t>> hard = {{-0x1.6a09e6p-24f, 0xB3B504F4u},
                                                               {-0x1p-23f, 0xB4000001u},
                                                               {-0x1.fffffep-23f, 0xB4800001u},
                                                               {-0x1.bb67acp-23f, 0xB45DB3D7u}};
    std::vector<float> hard_in;
    for (auto [a, expected] : hard) {
      CHECK(bits_of(jd::log1p_f32(a)) == expected);
      hard_in.push_back(a);
    }
    // 16 copies, so that the vectorized kernel handles them in full vectors.
    std::vector<float> many, many_out;
    for (int i = 0; i < 16; ++i) many.insert(many.end(), hard_in.begin(), hard_in.end());
    many_out.resize(many.size());
    jd::log1p_f32(many.data(), static_cast<std::int64_t>(many.size()), many_out.data());
    for (std::size_t i = 0; i < many.size(); ++i)
      CHECK(bits_of(many_out[i]) == hard[i % hard.size()].second);
  }

  TEST_CASE("random.erfinv_f32: XLA's Giles polynomial, vectorized kernels equal the scalar one") {
    std::vector<float> x;
    std::uint32_t s = 7;
    for (int i = 0; i < 5000; ++i) {
      s = s * 1664525u + 1013904223u;
      x.push_back(std::bit_cast<float>((s >> 9) | 0x3F800000u) * 2.0f - 3.0f);
    }
    // Tail-branch inputs (w >= 5 once |x| > 0.99663) and the ends.
    for (float t : {0.9967f, 0.999f, 0.99999994f, -0.99999994f, 1.0f, -1.0f, 0.0f, -0.0f})
      x.push_back(t);
    std::vector<float> block(x.size()), portable(x.size());
    jd::erfinv_f32(x.data(), static_cast<std::int64_t>(x.size()), 1.5f, block.data());
    jd::erfinv_f32_portable(x.data(), static_cast<std::int64_t>(x.size()), 1.5f, portable.data());
    int mismatches = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float e = 1.5f * jd::erfinv_f32(x[i]);
      mismatches += !same(e, block[i]) + !same(e, portable[i]);
    }
    CHECK(mismatches == 0);
    CHECK(jd::erfinv_f32(1.0f) == std::numeric_limits<float>::infinity());
    CHECK(jd::erfinv_f32(-1.0f) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(jd::erfinv_f32(1.5f)));
    // erfinv is the inverse of erf to within a few float32 ulps.
    for (float v : {-0.9f, -0.3f, 0.1f, 0.5f, 0.95f})
      CHECK(std::fabs(std::erf(jd::erfinv_f32(v)) - v) < 4e-7f);
    CHECK(std::fabs(std::erf(jd::erfinv_f64(0.3)) - 0.3) < 1e-15);
    CHECK(std::fabs(std::erf(jd::erfinv_f64(-0.999999)) + 0.999999) < 1e-15);
    CHECK(std::fabs(std::erf(jd::erfinv_f64(1 - 1e-12)) - (1 - 1e-12)) < 1e-15);
    CHECK(jd::erfinv_f64(1.0) == std::numeric_limits<double>::infinity());
  }

  TEST_CASE("random.erf_f32: the truncation bounds of the initializers") {
    // erf(+-2 / sqrt 2) with x = +-1.4142135: +-0.9544997, the correctly rounded erf (spec 7).
    const float x = 2.0f / 1.41421353816986083984375f;
    CHECK(bits_of(x) == 0x3FB504F3u);
    CHECK(bits_of(jd::erf_f32(x)) == 0x3F745A18u);
    CHECK(bits_of(jd::erf_f32(-x)) == 0xBF745A18u);
    CHECK(jd::erf_f32(0.0f) == 0.0f);
    CHECK(jd::erf_f32(10.0f) == 1.0f);
    CHECK(jd::erf_f32(-std::numeric_limits<float>::infinity()) == -1.0f);
    for (float v : {-2.5f, -1.0f, -0.2f, 0.05f, 0.7f, 1.9f})
      CHECK(std::fabs(jd::erf_f32(v) - std::erf(v)) < 3e-7f);
  }
}
