// jax.nn.initializers: fans, the float32 rounding of variance_scaling, and values bit for bit.
// Expected bit patterns come from an independent reimplementation of JAX's algorithms (pure-Python
// threefry, exact rational arithmetic for every fused multiply-add, decimal logarithms); the
// truncated_normal ones are the spec's known answer truncated_normal(key(0), -2, 2, (5,)) scaled.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "jute/nn/initializers.hpp"
#include "jute/random.hpp"

using namespace jute;
namespace jr = jute::random;
namespace ini = jute::nn::initializers;

namespace {

std::vector<std::uint32_t> float_bits(const Array& a) {
  std::vector<std::uint32_t> out;
  for (float v : a.to_vector<float>()) out.push_back(std::bit_cast<std::uint32_t>(v));
  return out;
}

}  // namespace

TEST_SUITE("nn.initializers") {
  TEST_CASE("nn.initializers: zeros, ones, constant ignore the key and take any dtype") {
    const Array k = jr::key(42);
    const Array z = ini::zeros(k, {2, 3}, float32);
    CHECK(z.shape() == Shape{2, 3});
    CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
    CHECK(ini::ones_init()(k, {3, 2}, float32).to_vector<float>() == std::vector<float>(6, 1.0f));
    CHECK(ini::zeros_init()(k, {4}, int32).dtype() == int32);
    const Array c = ini::constant(-7)(k, {2, 3}, float32);
    CHECK(c.to_vector<float>() == std::vector<float>(6, -7.0f));
    CHECK(ini::constant(0.1)(k, {1}, float64).item<double>() == 0.1);
    CHECK(ini::constant(0.1)(k, {1}, float32).item<float>() == 0.1f);
  }

  TEST_CASE("nn.initializers: uniform, normal and truncated_normal scale the samplers in float32") {
    const Array k = jr::key(42);
    const Array u = ini::uniform(10.0)(k, {2, 3}, float32);
    CHECK(u.shape() == Shape{2, 3});
    CHECK(float_bits(u) == std::vector<std::uint32_t>{0x409C6316u, 0x40D988FCu, 0x40C534F6u,
                                                      0x40B38670u, 0x409034CEu, 0x40BB7A22u});
    CHECK(float_bits(ini::normal(5.0)(k, {2, 3}, float32)) ==
          std::vector<std::uint32_t>{0xBE10EB6Du, 0x40157B71u, 0x3FBD3FF9u, 0x3F4489EDu,
                                     0xBF1EC313u, 0x3F8AD4B0u});
    CHECK(float_bits(ini::truncated_normal(5.0)(k, {2, 3}, float32)) ==
          std::vector<std::uint32_t>{0xBE0A5310u, 0x400E33ADu, 0x3FB466BDu, 0x3F3B87C2u,
                                     0xBF1780F5u, 0x3F846BB9u});
    // The spec's truncated_normal(key(0), -2, 2, (5,)) known answer times 0.5 (exact).
    CHECK(float_bits(ini::truncated_normal(0.5)(jr::key(0), {5}, float32)) ==
          std::vector<std::uint32_t>{0x3F3A5CDFu, 0x3F5B7CE3u, 0xBE534A2Fu, 0xBD19AB21u,
                                     0x3DAC0875u});
    CHECK(ini::normal()(k, {3}, float64).dtype() == float64);
  }

  TEST_CASE("nn.initializers: glorot, lecun and he, bit for bit") {
    const Array k = jr::key(42);
    const Shape s = {2, 3};  // fan_in 2, fan_out 3
    CHECK(float_bits(ini::glorot_uniform()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBCCAA35Au, 0x3EC9AF58u, 0x3E826D08u, 0x3E08E34Au,
                                     0xBDDD7470u, 0x3E40A33Bu});
    CHECK(float_bits(ini::glorot_normal()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBC9F2130u, 0x3EA39719u, 0x3E4F8904u, 0x3DD7BC88u,
                                     0xBDAE4A8Bu, 0x3E185687u});
    CHECK(float_bits(ini::lecun_uniform()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBCE28E68u, 0x3EE17D99u, 0x3E91D212u, 0x3E190B97u,
                                     0xBDF79812u, 0x3E57601Au});
    CHECK(float_bits(ini::lecun_normal()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBCB1E990u, 0x3EB6E641u, 0x3E68080Bu, 0x3DF13360u,
                                     0xBDC2DD0Du, 0x3E2A51AEu});
    CHECK(float_bits(ini::he_uniform()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBD203311u, 0x3F1F7228u, 0x3ECE38B1u, 0x3E58704Eu,
                                     0xBE2F134Eu, 0x3E984B1Cu});
    CHECK(float_bits(ini::he_normal()(k, s, float32)) ==
          std::vector<std::uint32_t>{0xBCFB9B28u, 0x3F015456u, 0x3EA4122Du, 0x3E2A8DFEu,
                                     0xBE09CA0Fu, 0x3E70DE17u});
    // The aliases are the same initializers.
    CHECK(float_bits(ini::xavier_uniform()(k, s, float32)) ==
          float_bits(ini::glorot_uniform()(k, s, float32)));
    CHECK(float_bits(ini::xavier_normal()(k, s, float32)) ==
          float_bits(ini::glorot_normal()(k, s, float32)));
    CHECK(float_bits(ini::kaiming_uniform()(k, s, float32)) ==
          float_bits(ini::he_uniform()(k, s, float32)));
    CHECK(float_bits(ini::kaiming_normal()(k, s, float32)) ==
          float_bits(ini::he_normal()(k, s, float32)));
    CHECK(float_bits(ini::variance_scaling(1.0, "fan_in", "truncated_normal")(k, s, float32)) ==
          float_bits(ini::lecun_normal()(k, s, float32)));
  }

  TEST_CASE("nn.initializers: Flax's Dense(4) kernel on a 3-feature input under key(0)") {
    // Dense's kernel_init is lecun_normal and its key the root scope's first make_rng("params").
    const Array key = jr::fold_in_path(jr::key(0), {}, 1);
    CHECK(key.to_vector<std::uint32_t>() == std::vector<std::uint32_t>{1428664606u, 3351135085u});
    const Array kernel = ini::lecun_normal()(key, {3, 4}, float32);
    CHECK(kernel.shape() == Shape{3, 4});
    CHECK(float_bits(kernel) == std::vector<std::uint32_t>{0x3D435FBAu, 0xBF73C8D5u, 0xBF7C5617u,
                                                           0x3EE2BAFAu, 0x3F33C4E1u, 0x3F07BA4Eu,
                                                           0x3DD7E916u, 0x3F08C5F6u, 0x3F07DC85u,
                                                           0xBE13D9FCu, 0x3F356259u, 0x3ECCC751u});
  }

  TEST_CASE("nn.initializers: compute_fans, with receptive fields, batch axes and axis lists") {
    auto fans = ini::compute_fans({3, 4});
    CHECK(fans.fan_in == 3.0);
    CHECK(fans.fan_out == 4.0);
    fans = ini::compute_fans({3, 3, 4, 8});  // a conv kernel (HWIO)
    CHECK(fans.fan_in == 36.0);
    CHECK(fans.fan_out == 72.0);
    fans = ini::compute_fans({10, 16}, {1}, {0});  // Flax Embed: in_axis=1 (features), out_axis=0
    CHECK(fans.fan_in == 16.0);
    CHECK(fans.fan_out == 10.0);
    fans = ini::compute_fans({5, 3, 4}, {-2}, {-1}, {0});  // a batch of 5 Dense kernels
    CHECK(fans.fan_in == 3.0);
    CHECK(fans.fan_out == 4.0);
    fans = ini::compute_fans({2, 3, 4, 5}, {0, 1}, {3});  // in over two axes, receptive 4
    CHECK(fans.fan_in == 24.0);
    CHECK(fans.fan_out == 20.0);
    CHECK(ini::compute_fans({7}, {0}, {0}).fan_in == 1.0);  // receptive = 7 / 7 / 7
    CHECK_THROWS_WITH_AS(
        ini::compute_fans({7}),
        "[variance_scaling] Cannot compute the fans of a weight of shape (7,) "
        "with the default in_axis; it needs at least 2 dimensions, or pass in_axis.",
        ValueError);
    CHECK_THROWS_WITH_AS(
        ini::compute_fans({3, 4}, {2}),
        "[variance_scaling] in_axis 2 is out of range for a weight of shape (3,4); "
        "pass axes in [-2, 1].",
        ShapeError);
  }

  TEST_CASE("nn.initializers: variance_scaling's modes, geometric mean and conv kernels") {
    // variance = float32(2 / sqrt(4 * 9)) = float32(1/3); normal(key(9)) * sqrt(variance).
    CHECK(float_bits(ini::variance_scaling(2.0, ini::FanMode::fan_geo_avg,
                                           ini::Distribution::normal)(jr::key(9), {4, 9}, float32))
              .size() == 36);
    const auto geo = float_bits(
        ini::variance_scaling(2.0, "fan_geo_avg", "normal")(jr::key(9), {4, 9}, float32));
    CHECK(std::vector<std::uint32_t>(geo.begin(), geo.begin() + 4) ==
          std::vector<std::uint32_t>{0xBF80B710u, 0x3F886DE5u, 0xBDEF2B78u, 0xBF3BB72Cu});
    // he_normal of a (3, 3, 4, 8) conv kernel: fan_in = 36.
    const auto conv = float_bits(ini::he_normal()(jr::key(1), {3, 3, 4, 8}, float32));
    CHECK(conv.size() == 288);
    CHECK(std::vector<std::uint32_t>(conv.begin(), conv.begin() + 4) ==
          std::vector<std::uint32_t>{0xBD21BBBAu, 0x3CB1764Eu, 0xBD0E6A84u, 0xBD225C38u});
    // fan_out and fan_avg pick the other denominators: with fans (2, 8) the uniform bounds are
    // sqrt(3 / 8) and sqrt(3 / 5).
    const auto out = ini::variance_scaling(1.0, "fan_out", "uniform")(jr::key(3), {2, 8}, float32)
                         .to_vector<float>();
    const auto avg = ini::variance_scaling(1.0, "fan_avg", "uniform")(jr::key(3), {2, 8}, float32)
                         .to_vector<float>();
    const auto unit = jr::uniform(jr::key(3), {2, 8}, float32, -1.0, 1.0).to_vector<float>();
    for (std::size_t i = 0; i < unit.size(); ++i) {
      CHECK(out[i] == unit[i] * std::sqrt(3.0f * static_cast<float>(1.0 / 8)));
      CHECK(avg[i] == unit[i] * std::sqrt(3.0f * static_cast<float>(1.0 / 5)));
    }
    // A zero dimension gives an empty result instead of dividing by zero.
    CHECK(ini::lecun_normal()(jr::key(0), {0, 4}, float32).shape() == Shape{0, 4});
  }

  TEST_CASE("nn.initializers: float64 and the sample variance of large kernels") {
    const Array w64 = ini::lecun_normal()(jr::key(5), {200, 300}, float64);
    CHECK(w64.dtype() == float64);
    for (auto [init, expected_var] :
         {std::pair{ini::lecun_normal(), 1.0 / 400}, std::pair{ini::glorot_uniform(), 2.0 / 700},
          std::pair{ini::he_normal(), 2.0 / 400}, std::pair{ini::lecun_uniform(), 1.0 / 400}}) {
      for (DType dt : {float32, float64}) {
        const Array w = init(jr::key(11), {400, 300}, dt);
        const auto v = w.to_vector<double>();
        double sum = 0, sq = 0;
        for (double x : v) {
          sum += x;
          sq += x * x;
        }
        const double n = static_cast<double>(v.size()), var = sq / n - (sum / n) * (sum / n);
        CHECK(std::fabs(var / expected_var - 1.0) < 0.02);  // 120000 samples: sd of ratio < 0.6%
      }
    }
  }

  TEST_CASE("nn.initializers: an initializer is a value users can write") {
    const ini::Initializer mine = [](const Array& key, const Shape& shape, DType dtype) {
      return jr::uniform(key, shape, dtype, -0.1, 0.1);
    };
    const nn::Initializer as_nn = mine;
    const Array w = as_nn(jr::key(0), {4, 4}, float32);
    for (float v : w.to_vector<float>()) CHECK(std::fabs(v) <= 0.1f);
    CHECK(rc::check("initializers are pure functions of the key", [](std::int64_t seed) {
      const Array k = jr::key(seed);
      RC_ASSERT(float_bits(ini::lecun_normal()(k, {5, 7}, float32)) ==
                float_bits(ini::lecun_normal()(k, {5, 7}, float32)));
    }));
  }

  TEST_CASE("nn.initializers: errors") {
    CHECK_THROWS_WITH_AS(ini::lecun_normal()(jr::key(0), {3, 4}, int32),
                         "[variance_scaling] dtype must be float32 or float64, got int32.",
                         DtypeError);
    CHECK_THROWS_AS(ini::normal()(jr::key(0), {3}, uint8), DtypeError);
    CHECK_THROWS_AS(ini::lecun_normal()(jr::key(0), {4}, float32), ValueError);
    CHECK_THROWS_AS(ini::lecun_normal()(Array({1.f, 2.f}), {3, 4}, float32), DtypeError);
    CHECK_THROWS_WITH_AS(ini::variance_scaling(1.0, "fan_middle", "normal"),
                         "[variance_scaling] Invalid mode \"fan_middle\"; use fan_in, fan_out, "
                         "fan_avg or fan_geo_avg.",
                         ValueError);
    CHECK_THROWS_AS(ini::variance_scaling(1.0, "fan_in", "cauchy"), ValueError);
    CHECK_THROWS_AS(ini::he_uniform({5})(jr::key(0), {3, 4}, float32), ShapeError);
  }
}
