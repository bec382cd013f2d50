// The samplers, bit for bit against JAX's known answers (shared/spec/random.md section 11), plus
// values pinned from an independent reimplementation of JAX's algorithms (exact rational
// arithmetic for every fused multiply-add, a correctly rounded log from Python's decimal module):
// those are marked "independent reference".
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

using namespace jute;
namespace jr = jute::random;

namespace {

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

std::vector<std::uint32_t> float_bits(const Array& a) {
  std::vector<std::uint32_t> out;
  for (float v : a.to_vector<float>()) out.push_back(bits_of(v));
  return out;
}

/// Checks `a` against values as JAX printed them (to the printed digits: within half a unit of
/// the last printed digit) and against the exact float32 bit patterns jute produces (which the
/// independent reference reproduces).
void check_printed(const Array& a, const std::vector<std::string>& printed,
                   const std::vector<std::uint32_t>& expected_bits) {
  const auto values = a.to_vector<float>();
  REQUIRE(values.size() == printed.size());
  for (std::size_t i = 0; i < printed.size(); ++i) {
    const std::string& p = printed[i];
    const auto dot = p.find('.');
    const int decimals = dot == std::string::npos ? 0 : static_cast<int>(p.size() - dot - 1);
    const double tolerance = 0.5 * std::pow(10.0, -decimals) * (1 + 1e-6);
    CHECK(std::fabs(static_cast<double>(values[i]) - std::stod(p)) <= tolerance);
  }
  CHECK(float_bits(a) == expected_bits);
}

/// FNV-1a over the little-endian bytes of 32-bit words (the independent reference's checksum).
std::uint32_t fnv1a(const std::vector<std::uint32_t>& words) {
  std::uint32_t h = 0x811C9DC5u;
  for (std::uint32_t w : words)
    for (int k = 0; k < 4; ++k) {
      h ^= (w >> (8 * k)) & 0xFFu;
      h *= 0x01000193u;
    }
  return h;
}

template <class T>
std::vector<std::uint32_t> as_words(const Array& a) {
  std::vector<std::uint32_t> out;
  for (T v : a.to_vector<T>()) out.push_back(static_cast<std::uint32_t>(v));
  return out;
}

}  // namespace

TEST_SUITE("random") {
  TEST_CASE("random.bits: known answers, uint32 and uint8") {
    const Array b = jr::bits(jr::key(0), {5});
    CHECK(b.dtype() == uint32);
    CHECK(b.to_vector<std::uint32_t>() == std::vector<std::uint32_t>{4070199207u, 4202968722u,
                                                                     1427181096u, 2012915765u,
                                                                     2447653815u});
    const Array s = jr::bits(jr::key(0));
    CHECK(s.shape() == Shape{});
    CHECK(s.item<std::uint32_t>() == 4070199207u);
    // Partitionable scheme: uint8 bits are the low byte of the 32-bit bits (the legacy
    // `bits8.view(uint32) == bits32` relation does not hold).
    const Array b8 = jr::bits(jr::key(0), {5}, uint8);
    CHECK(b8.dtype() == uint8);
    CHECK(b8.to_vector<int>() == std::vector<int>{167, 146, 40, 53, 183});
    CHECK(jr::bits(jr::key(0), {0}).size() == 0);
    // ... so 8 uint8 values packed little-endian are not the first 2 uint32 values.
    const auto bytes = jr::bits(jr::key(0), {8}, uint8).to_vector<std::uint32_t>();
    const auto words = jr::bits(jr::key(0), {2}).to_vector<std::uint32_t>();
    for (std::size_t w = 0; w < 2; ++w) {
      const std::uint32_t packed = bytes[4 * w] | (bytes[4 * w + 1] << 8) |
                                   (bytes[4 * w + 2] << 16) | (bytes[4 * w + 3] << 24);
      CHECK(packed != words[w]);
    }
  }

  TEST_CASE("random.uniform: known answers") {
    const Array u = jr::uniform(jr::key(0));
    CHECK(u.dtype() == float32);
    CHECK(u.shape() == Shape{});
    check_printed(u, {"0.947667"}, {0x3F729A4Eu});
    const Array sub = jr::key_at(jr::split(jr::key(0)), 1);
    check_printed(jr::uniform(sub), {"0.00729382"}, {0x3BEF0100u});
    check_printed(jr::uniform(jr::key(0), {3}), {"0.947667", "0.9785799", "0.33229148"},
                  {0x3F729A4Eu, 0x3F7A8436u, 0x3EAA221Cu});
    check_printed(jr::uniform(jr::key(0), {5}),
                  {"0.947667", "0.9785799", "0.33229148", "0.46866846", "0.5698887"},
                  {0x3F729A4Eu, 0x3F7A8436u, 0x3EAA221Cu, 0x3EEFF550u, 0x3F11E43Au});
    const Array v = jr::uniform(jr::key(42), {3, 3}, float32, -10, 10);
    CHECK(v.shape() == Shape{3, 3});
    check_printed(v, {"-0.23", "3.6", "2.33", "1.22", "-0.99", "1.72", "-8.5", "5.5", "3.98"},
                  {0xBE673A60u, 0x406623F0u, 0x4014D3D8u, 0x3F9C3380u, 0xBF7CB318u, 0x3FDBD10Cu,
                   0xC1080F9Cu, 0x40B015DAu, 0x407EAAF6u});
    // Independent reference: 1000 values in [-3.5, 7.25), where the fma matters.
    CHECK(fnv1a(float_bits(jr::uniform(jr::key(5), {1000}, float32, -3.5, 7.25))) == 4168403063u);
  }

  TEST_CASE("random.uniform: float64 takes 64 random bits per value (x64 semantics)") {
    const Array u = jr::uniform(jr::key(0), {3}, float64);
    CHECK(u.dtype() == float64);
    std::vector<std::uint64_t> b;
    for (double x : u.to_vector<double>()) b.push_back(std::bit_cast<std::uint64_t>(x));
    // Independent reference.
    CHECK(b == std::vector<std::uint64_t>{0x3FDAC80056666E90ull, 0x3FCBAF91C7E6ED88ull,
                                          0x3FEEE3E9D53441C8ull});
  }

  TEST_CASE("random.normal: known answers") {
    const Array z = jr::normal(jr::key(0), {5});
    CHECK(z.dtype() == float32);
    check_printed(z, {"1.6226422", "2.0252647", "-0.43359444", "-0.07861735", "0.1760909"},
                  {0x3FCFB2BDu, 0x40019DF0u, 0xBEDE0017u, 0xBDA10222u, 0x3E34512Cu});
    // Independent reference: 4096 values, 64 of them beyond |2.5| and some in Giles' tail branch.
    const Array big = jr::normal(jr::key(7), {4096});
    CHECK(fnv1a(float_bits(big)) == 389850259u);
    CHECK(float_bits(big)[0] == 0x3EE7084Bu);
    // A scalar and an odd-sized array take the kernels' scalar remainder paths.
    CHECK(bits_of(jr::normal(jr::key(0)).item<float>()) == 0x3FCFB2BDu);
    CHECK(float_bits(jr::normal(jr::key(7), {3})) ==
          std::vector<std::uint32_t>{0x3EE7084Bu, 0x3FFA0AAEu, 0xBF042845u});
  }

  TEST_CASE("random.truncated_normal: known answers") {
    const Array t = jr::truncated_normal(jr::key(0), -2, 2, {5});
    check_printed(t, {"1.4559592", "1.7147487", "-0.41267535", "-0.07503343", "0.16800101"},
                  {0x3FBA5CDFu, 0x3FDB7CE3u, 0xBED34A2Fu, 0xBD99AB21u, 0x3E2C0875u});
    // Independent reference.
    CHECK(fnv1a(float_bits(jr::truncated_normal(jr::key(7), -2, 2, {4096}))) == 123771010u);
    CHECK(fnv1a(float_bits(jr::truncated_normal(jr::key(11), -0.5, 1.5, {1000}))) == 3229229621u);
  }

  TEST_CASE("random.randint: known answers, narrow and full ranges") {
    const Array r = jr::randint(jr::key(0), {8}, 0, 10);
    CHECK(r.dtype() == int32);
    CHECK(r.to_vector<int>() == std::vector<int>{9, 0, 2, 3, 1, 7, 2, 3});
    // Independent reference.
    const Array u8 = jr::randint(jr::key(0), {8}, 0, 256, uint8);
    CHECK(u8.dtype() == uint8);
    CHECK(u8.to_vector<int>() == std::vector<int>{101, 80, 200, 61, 3, 211, 144, 31});
    CHECK(as_words<std::uint32_t>(jr::randint(jr::key(0), {4}, 0, std::int64_t{1} << 32, uint32)) ==
          std::vector<std::uint32_t>{31327077u, 89727312u, 2497208264u, 1554082365u});
    CHECK(jr::randint(jr::key(0), {4}, -(std::int64_t{1} << 31), std::int64_t{1} << 31)
              .to_vector<int>() ==
          std::vector<int>{-2116156571, -2057756336, 349724616, -593401283});
    CHECK(jr::randint(jr::key(0), {6}, 0, 100000).to_vector<int>() ==
          std::vector<int>{27077, 27312, 8264, 82365, 39715, 39923});
    CHECK(jr::randint(jr::key(3), {6}, -5, 7).to_vector<int>() ==
          std::vector<int>{-2, 2, -4, -3, -1, 3});
    // Bounds outside the dtype are clipped to it.
    const auto clipped = jr::randint(jr::key(1), {200}, -1000, 3, uint8).to_vector<int>();
    CHECK(*std::min_element(clipped.begin(), clipped.end()) >= 0);
    CHECK(*std::max_element(clipped.begin(), clipped.end()) <= 2);
    CHECK(jr::randint(jr::key(1), {4}, 2147483647, std::int64_t{1} << 40).to_vector<int>() ==
          std::vector<int>(4, 2147483647));
  }

  TEST_CASE("random.bernoulli: known answers, both modes") {
    const Array b = jr::bernoulli(jr::key(0), 0.5, {8});
    CHECK(b.dtype() == bool_);
    CHECK(b.to_vector<int>() == std::vector<int>{0, 0, 1, 1, 0, 1, 1, 0});
    // Independent reference.
    CHECK(jr::bernoulli(jr::key(0), 0.5, {8}, jr::BernoulliMode::high).to_vector<int>() ==
          std::vector<int>{0, 0, 1, 1, 0, 1, 1, 0});
    const auto none = jr::bernoulli(jr::key(2), 0.0, {100}).to_vector<int>();
    CHECK(std::count(none.begin(), none.end(), 1) == 0);
    const auto all = jr::bernoulli(jr::key(2), 1.0, {100}).to_vector<int>();
    CHECK(std::count(all.begin(), all.end(), 1) == 100);
  }

  TEST_CASE("random.permutation: known answers, arrays and independent shuffles") {
    const Array p = jr::permutation(jr::key(0), 10);
    CHECK(p.dtype() == int32);
    CHECK(p.to_vector<int>() == std::vector<int>{0, 1, 8, 5, 6, 4, 3, 2, 7, 9});
    // Independent reference: 2000 elements take two sorting rounds.
    const Array p2 = jr::permutation(jr::key(1), 2000);
    CHECK(fnv1a(as_words<int>(p2)) == 1832560121u);
    CHECK(jr::permutation(jr::key(0), 0).size() == 0);
    CHECK(jr::permutation(jr::key(0), 1).to_vector<int>() == std::vector<int>{0});
  }

  TEST_CASE("random.permutation: arrays along an axis, and independent shuffles") {
    const std::vector<int> p = jr::permutation(jr::key(0), 10).to_vector<int>();
    // A 1-D array is shuffled itself, with the same sort keys: x[p].
    const Array x = arange(10, float32) * 10.0f;
    const auto px = jr::permutation(jr::key(0), x).to_vector<float>();
    for (std::size_t i = 0; i < 10; ++i) CHECK(px[i] == 10.0f * static_cast<float>(p[i]));
    // Rows (axis 0) and columns (axis 1) of a matrix move together.
    const Array m = reshape(arange(30, int32), {10, 3});
    const Array rows = jr::permutation(jr::key(0), m);
    CHECK(rows.shape() == Shape{10, 3});
    for (std::int64_t r = 0; r < 10; ++r)
      for (std::int64_t c = 0; c < 3; ++c)
        CHECK(rows.at<int>({r, c}) == 3 * p[static_cast<std::size_t>(r)] + c);
    const Array cols = jr::permutation(jr::key(0), reshape(arange(30, int32), {3, 10}), -1);
    for (std::int64_t c = 0; c < 10; ++c)
      CHECK(cols.at<int>({1, c}) == 10 + p[static_cast<std::size_t>(c)]);
    // Independent shuffles (independent reference: JAX's _shuffle with full-shape sort keys).
    CHECK(
        jr::permutation(jr::key(0), reshape(arange(15, int32), {3, 5}), 1, true).to_vector<int>() ==
        std::vector<int>{0, 1, 4, 3, 2, 8, 5, 6, 7, 9, 12, 13, 14, 10, 11});
    CHECK(
        jr::permutation(jr::key(0), reshape(arange(12, int32), {4, 3}), 0, true).to_vector<int>() ==
        std::vector<int>{0, 1, 8, 6, 4, 5, 3, 10, 2, 9, 7, 11});
    // A 0-d integer means arange(n).
    CHECK(jr::permutation(jr::key(0), Array::scalar(10, int32)).to_vector<int>() == p);
    CHECK_THROWS_AS(jr::permutation(jr::key(0), Array::scalar(1.5, float32)), ShapeError);
    CHECK_THROWS_AS(jr::permutation(jr::key(0), m, 2), ShapeError);
  }

  TEST_CASE("random.permutation: differentiable with respect to the array") {
    const std::vector<int> p = jr::permutation(jr::key(0), 10).to_vector<int>();
    const Array w = arange(10, float32) + 1.0f;
    const Array g = grad([&](const Array& x) { return sum(jr::permutation(jr::key(0), x) * w); })(
        zeros({10}, float32));
    const auto gv = g.to_vector<float>();
    for (std::size_t t = 0; t < 10; ++t)
      CHECK(gv[static_cast<std::size_t>(p[t])] == static_cast<float>(t + 1));
  }

  TEST_CASE("random.permutation: slices along an axis stay intact and lanes are permutations") {
    CHECK(rc::check("permutation of rows and independent lanes", [](std::int64_t seed) {
      const auto r = *rc::gen::inRange<std::int64_t>(1, 30);
      const auto c = *rc::gen::inRange<std::int64_t>(1, 6);
      const Array m = reshape(arange(r * c, int32), {r, c});
      const auto rows = jr::permutation(jr::key(seed), m).to_vector<int>();
      std::vector<int> firsts;
      for (std::int64_t i = 0; i < r; ++i) {
        const int first = rows[static_cast<std::size_t>(i * c)];
        RC_ASSERT(first % c == 0);
        for (std::int64_t j = 0; j < c; ++j)
          RC_ASSERT(rows[static_cast<std::size_t>(i * c + j)] == first + j);
        firsts.push_back(first / static_cast<int>(c));
      }
      std::sort(firsts.begin(), firsts.end());
      for (std::int64_t i = 0; i < r; ++i) RC_ASSERT(firsts[static_cast<std::size_t>(i)] == i);
      const auto lanes = jr::permutation(jr::key(seed), m, 0, true).to_vector<int>();
      for (std::int64_t j = 0; j < c; ++j) {
        std::vector<int> lane;
        for (std::int64_t i = 0; i < r; ++i)
          lane.push_back(lanes[static_cast<std::size_t>(i * c + j)]);
        std::sort(lane.begin(), lane.end());
        for (std::int64_t i = 0; i < r; ++i)
          RC_ASSERT(lane[static_cast<std::size_t>(i)] == i * c + j);
      }
    }));
  }

  TEST_CASE("random.gumbel and random.exponential: independent reference") {
    CHECK(float_bits(jr::exponential(jr::key(0), {5})) ==
          std::vector<std::uint32_t>{0x403CCEE6u, 0x4075FAABu, 0x3ECECC72u, 0x3F21E2F1u,
                                     0x3F57FD77u});
    CHECK(fnv1a(float_bits(jr::exponential(jr::key(3), {4096}))) == 710548906u);
    CHECK(float_bits(jr::gumbel(jr::key(0), {5})) ==
          std::vector<std::uint32_t>{0x403B1889u, 0x4075499Bu, 0xBDC66FF6u, 0x3E8DF4A4u,
                                     0x3F1360B9u});
  }

  TEST_CASE("random.categorical: Gumbel-max over the last axis and over other axes") {
    const Array logits({{0.1f, 0.5f, -1.0f, 2.0f}, {1.f, 1.f, 1.f, 1.f}, {-3.f, 0.f, 3.f, 0.f}});
    const Array c = jr::categorical(jr::key(0), logits);
    CHECK(c.dtype() == int32);
    CHECK(c.shape() == Shape{3});
    CHECK(c.to_vector<int>() == std::vector<int>{1, 3, 2});  // independent reference
    // axis 0 of the transpose draws the same noise layout as JAX: shape (4, 3) with the
    // categories along axis 0 means Gumbel noise of shape (4, 3).
    const Array ct = jr::categorical(jr::key(0), Array({{0.f, 0.f}, {0.f, 0.f}, {0.f, 0.f}}), 0);
    CHECK(ct.shape() == Shape{2});
    // A sample shape with a leading dimension: (5, 3) draws from each of the 3 rows 5 times.
    CHECK(jr::categorical(jr::key(0), logits, -1, Shape{5, 3}).shape() == Shape{5, 3});
    CHECK_THROWS_AS(jr::categorical(jr::key(0), logits, -1, Shape{2}), ShapeError);
    CHECK_THROWS_AS(jr::categorical(jr::key(0), logits, 2), ShapeError);
    CHECK_THROWS_AS(jr::categorical(jr::key(0), Array({1, 2})), DtypeError);
  }

  TEST_CASE("random.categorical: without replacement") {
    const Array key = jr::key(3);
    // Row b draws the indices of its largest logits + Gumbel noise (of logits' shape), largest
    // first; draw j of row b lands at [j, b].
    const Array logits({{0.f, 1.f, 2.f, 0.5f, -1.f}, {3.f, 0.f, 0.f, 0.f, 1.f}});
    const auto noise = jr::gumbel(key, {2, 5}).to_vector<float>();
    const auto lv = logits.to_vector<float>();
    const Array drawn = jr::categorical(key, logits, -1, Shape{3, 2}, false);
    CHECK(drawn.dtype() == int32);
    CHECK(drawn.shape() == Shape{3, 2});
    for (int b = 0; b < 2; ++b) {
      std::vector<int> order{0, 1, 2, 3, 4};
      std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
        return lv[b * 5 + x] + noise[b * 5 + x] > lv[b * 5 + y] + noise[b * 5 + y];
      });
      for (int j = 0; j < 3; ++j) CHECK(drawn.at<int>({j, b}) == order[j]);
    }
    // One draw per row is the Gumbel-max draw with replacement (the same noise).
    CHECK(jr::categorical(key, logits, -1, std::nullopt, false).to_vector<int>() ==
          jr::categorical(key, logits).to_vector<int>());
    // Categories along axis 0: column b sorts its logits + noise of the (5, 2) logits' shape.
    const auto column_noise = jr::gumbel(key, {5, 2}).to_vector<float>();
    const auto cv = jr::categorical(key, transpose(logits), 0, Shape{5, 2}, false).to_vector<int>();
    for (int b = 0; b < 2; ++b) {
      std::vector<int> order{0, 1, 2, 3, 4};
      std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
        return lv[b * 5 + x] + column_noise[x * 2 + b] > lv[b * 5 + y] + column_noise[y * 2 + b];
      });
      for (int j = 0; j < 5; ++j) CHECK(cv[static_cast<std::size_t>(j * 2 + b)] == order[j]);
    }
    CHECK_THROWS_WITH_AS(jr::categorical(key, logits, -1, Shape{6, 2}, false),
                         "[random.categorical] Cannot draw 6 samples without replacement from 5 "
                         "categories; ask for at most as many draws as categories.",
                         ValueError);
    CHECK_THROWS_AS(jr::categorical(key, Array({{0.f, 1.f}}), -1, Shape{2, 3}, false), ShapeError);
    CHECK(rc::check("draws without replacement are distinct categories", [](std::uint32_t seed) {
      const auto rows = *rc::gen::inRange<std::int64_t>(1, 4);
      const auto cats = *rc::gen::inRange<std::int64_t>(1, 12);
      const auto k = *rc::gen::inRange<std::int64_t>(1, cats + 1);
      const Array l = jr::normal(jr::key(seed), {rows, cats});
      const auto d =
          jr::categorical(jr::key(seed + 1), l, -1, Shape{k, rows}, false).to_vector<int>();
      for (std::int64_t b = 0; b < rows; ++b) {
        std::set<int> seen;
        for (std::int64_t j = 0; j < k; ++j) {
          const int c = d[static_cast<std::size_t>(j * rows + b)];
          RC_ASSERT(c >= 0 && c < cats);
          seen.insert(c);
        }
        RC_ASSERT(static_cast<std::int64_t>(seen.size()) == k);
      }
    }));
  }

  TEST_CASE("random.choice: without weights") {
    CHECK(jr::choice(jr::key(0), 10, {3}, false).to_vector<int>() == std::vector<int>{0, 1, 8});
    CHECK(jr::choice(jr::key(0), 10, {8}).to_vector<int>() ==
          jr::randint(jr::key(0), {8}, 0, 10).to_vector<int>());
    CHECK(jr::choice(jr::key(0), 10, {2, 0}).shape() == Shape{2, 0});
    CHECK(jr::choice(jr::key(0), 0, {0}).shape() == Shape{0});
    CHECK_THROWS_WITH_AS(jr::choice(jr::key(0), 3, {4}, false),
                         "[random.choice] Cannot take a larger sample (size 4) than the "
                         "population (size 3) without replacement.",
                         ValueError);
    CHECK_THROWS_AS(jr::choice(jr::key(0), 0, {2}), ValueError);
    // From an array: slices along `axis`, placed where the axis was.
    const Array m = reshape(arange(20, int32), {10, 2});
    const Array picked = jr::choice(jr::key(0), m, {3}, false);
    CHECK(picked.shape() == Shape{3, 2});
    CHECK(picked.to_vector<int>() == std::vector<int>{0, 1, 2, 3, 16, 17});
    const Array cols = jr::choice(jr::key(0), reshape(arange(20, int32), {2, 10}), {2, 2}, true, 1);
    CHECK(cols.shape() == Shape{2, 2, 2});
    const auto idx = jr::randint(jr::key(0), {2, 2}, 0, 10).to_vector<int>();
    CHECK(cols.at<int>({1, 1, 0}) == 10 + idx[2]);
    CHECK(jr::choice(jr::key(0), Array::scalar(10, int32), {3}, false).to_vector<int>() ==
          std::vector<int>{0, 1, 8});
    CHECK_THROWS_AS(jr::choice(jr::key(0), m, {11}, false), ValueError);
    CHECK_THROWS_AS(jr::choice(jr::key(0), m, {1}, true, 2), ShapeError);
  }

  TEST_CASE("random.choice: with weights") {
    const Array key = jr::key(0);
    // With replacement, draw j is the first i whose running sum of p reaches sum(p) * (1 - u_j).
    // Equal weights make the running sums 1, 2, 3, 4 exact, so draw j is ceil(4 (1 - u_j)) - 1.
    const auto u = jr::uniform(key, {1000}).to_vector<float>();
    const auto equal = jr::choice(key, 4, {1000}, true, Array({1.f, 1.f, 1.f, 1.f}));
    CHECK(equal.dtype() == int32);
    const auto drawn = equal.to_vector<int>();
    for (std::size_t j = 0; j < u.size(); ++j)
      CHECK(drawn[j] == static_cast<int>(std::ceil(4.0f * (1.0f - u[j]))) - 1);
    // Without replacement: the draws are the smallest -gumbel - log(p) in order, so with equal
    // weights the indices of the largest Gumbel noise first.
    const auto g = jr::gumbel(key, {6}).to_vector<float>();
    std::vector<int> by_noise{0, 1, 2, 3, 4, 5};
    std::stable_sort(by_noise.begin(), by_noise.end(), [&](int a, int b) { return g[a] > g[b]; });
    CHECK(jr::choice(key, 6, {6}, false, ones({6})).to_vector<int>() == by_noise);
    // float64 weights draw float64 noise.
    const auto g64 = jr::gumbel(key, {6}, float64).to_vector<double>();
    std::vector<int> by_noise64{0, 1, 2, 3, 4, 5};
    std::stable_sort(by_noise64.begin(), by_noise64.end(),
                     [&](int a, int b) { return g64[a] > g64[b]; });
    CHECK(jr::choice(key, 6, {6}, false, ones({6}, float64)).to_vector<int>() == by_noise64);
    // Integer weights compute in float32.
    CHECK(jr::choice(key, 6, {2}, false, ones({6}, int32)).to_vector<int>() ==
          std::vector<int>(by_noise.begin(), by_noise.begin() + 2));
    // Zero weights are never drawn.
    const Array sparse({0.f, 2.f, 0.f, 1.f, 0.f});
    for (int d : jr::choice(key, 5, {500}, true, sparse).to_vector<int>())
      CHECK((d == 1 || d == 3));
    const auto two = jr::choice(key, 5, {2}, false, sparse).to_vector<int>();
    CHECK(std::set<int>(two.begin(), two.end()) == std::set<int>{1, 3});
    // Frequencies follow p.
    const Array p({0.1f, 0.2f, 0.3f, 0.4f});
    std::vector<int> counts(4, 0);
    for (int d : jr::choice(jr::key(7), 4, {40000}, true, p).to_vector<int>()) ++counts[d];
    for (int i = 0; i < 4; ++i) CHECK(std::abs(counts[i] / 40000.0 - 0.1 * (i + 1)) < 0.01);
    std::vector<int> firsts(4, 0);
    for (std::uint32_t s = 0; s < 4000; ++s)
      ++firsts[jr::choice(jr::key(s), 4, {1}, false, p).item<int>()];
    for (int i = 0; i < 4; ++i) CHECK(std::abs(firsts[i] / 4000.0 - 0.1 * (i + 1)) < 0.03);
    // From an array: the weighted indices taken along `axis`; an empty sample needs no weights.
    const Array m = reshape(arange(20, int32), {2, 10});
    const Array w = Array::from_vector(std::vector<float>(10, 1.f), {10}, float32);
    const Array cols = jr::choice(key, m, {3}, false, w, 1);
    CHECK(cols.shape() == Shape{2, 3});
    const auto picked = jr::choice(key, 10, {3}, false, w).to_vector<int>();
    CHECK(cols.to_vector<int>() == std::vector<int>{picked[0], picked[1], picked[2], 10 + picked[0],
                                                    10 + picked[1], 10 + picked[2]});
    CHECK(jr::choice(key, Array::scalar(4, int32), {3}, true, p).to_vector<int>() ==
          jr::choice(key, 4, {3}, true, p).to_vector<int>());
    CHECK(jr::choice(key, 4, {0}, true, p).shape() == Shape{0});
    // Errors name the problem.
    CHECK_THROWS_WITH_AS(jr::choice(key, 5, {2}, true, p),
                         "[random.choice] p must have shape (5,), one weight per choice, got "
                         "shape (4,).",
                         ShapeError);
    CHECK_THROWS_AS(jr::choice(key, 4, {2}, true, Array({0.5f, -0.1f, 0.3f, 0.3f})), ValueError);
    CHECK_THROWS_AS(jr::choice(key, 2, {2}, true, Array({NAN, 1.f})), ValueError);
    CHECK_THROWS_AS(jr::choice(key, 2, {2}, true, Array({INFINITY, 1.f})), ValueError);
    CHECK_THROWS_WITH_AS(jr::choice(key, 2, {2}, true, zeros({2})),
                         "[random.choice] p has no positive weight; give at least one choice a "
                         "positive probability.",
                         ValueError);
    CHECK_THROWS_WITH_AS(jr::choice(key, 5, {3}, false, sparse),
                         "[random.choice] Cannot take a sample of size 3 without replacement "
                         "when only 2 choices have a positive weight in p; ask for fewer draws.",
                         ValueError);
    CHECK_THROWS_AS(jr::choice(key, m, {3}, false, w, 2), ShapeError);
    CHECK(rc::check("weighted draws without replacement are distinct and have weight",
                    [](std::uint32_t seed, std::vector<bool> nonzero) {
                      RC_PRE(!nonzero.empty() && nonzero.size() < 50);
                      std::vector<float> weights;
                      int positive = 0;
                      for (std::size_t i = 0; i < nonzero.size(); ++i) {
                        weights.push_back(nonzero[i] ? 0.5f + static_cast<float>(i) : 0.f);
                        positive += nonzero[i];
                      }
                      RC_PRE(positive > 0);
                      const auto n = static_cast<std::int64_t>(weights.size());
                      const Array pw = Array::from_vector(weights, {n}, float32);
                      const auto d =
                          jr::choice(jr::key(seed), n, {positive}, false, pw).to_vector<int>();
                      RC_ASSERT(std::set<int>(d.begin(), d.end()).size() == d.size());
                      for (int i : d) RC_ASSERT(weights[static_cast<std::size_t>(i)] > 0.f);
                    }));
  }

  TEST_CASE("random: argument errors are typed, one sentence, and name the function") {
    CHECK_THROWS_WITH_AS(jr::randint(jr::key(0), {3}, 5, 5),
                         "[random.randint] The range [5, 5) is empty; maxval must be greater than "
                         "minval.",
                         ValueError);
    CHECK_THROWS_AS(jr::randint(jr::key(0), {3}, 300, 400, uint8), ValueError);
    CHECK_THROWS_AS(jr::randint(jr::key(0), {3}, -10, 0, uint32), ValueError);
    CHECK_THROWS_WITH_AS(jr::randint(jr::key(0), {3}, 0, 5, float32),
                         "[random.randint] dtype must be int32, uint32 or uint8, got float32.",
                         DtypeError);
    CHECK_THROWS_WITH_AS(jr::uniform(jr::key(0), {2}, int32),
                         "[random.uniform] dtype must be float32 or float64, got int32.",
                         DtypeError);
    CHECK_THROWS_WITH_AS(jr::uniform(jr::key(0), {2}, float32, 1.0, 1.0),
                         "[random.uniform] Expected finite bounds with minval < maxval in float32, "
                         "got minval=1 and maxval=1.",
                         ValueError);
    CHECK_THROWS_AS(jr::uniform(jr::key(0), {2}, float32, 0.0, INFINITY), ValueError);
    CHECK_THROWS_AS(jr::uniform(jr::key(0), {2}, float64, 2.0, 1.0), ValueError);
    CHECK_THROWS_AS(jr::truncated_normal(jr::key(0), 1.0, -1.0), ValueError);
    CHECK_THROWS_AS(jr::truncated_normal(jr::key(0), NAN, 1.0), ValueError);
    CHECK_THROWS_AS(jr::normal(jr::key(0), {2}, uint8), DtypeError);
    CHECK_THROWS_WITH_AS(jr::bernoulli(jr::key(0), 1.5),
                         "[random.bernoulli] The probability p must lie in [0, 1], got 1.5.",
                         ValueError);
    CHECK_THROWS_AS(jr::bernoulli(jr::key(0), NAN), ValueError);
    CHECK_THROWS_AS(jr::bits(jr::key(0), {2}, int32), DtypeError);
    CHECK_THROWS_WITH_AS(jr::normal(jr::key(0), {-1, 3}),
                         "[random.normal] Shape (-1,3) has a negative dimension; every dimension "
                         "must be >= 0.",
                         ShapeError);
    CHECK_THROWS_AS(jr::permutation(jr::key(0), -1), ValueError);
  }

  TEST_CASE("random: samplers are pure functions of the key") {
    CHECK(rc::check("the same key gives the same bits; another key other bits",
                    [](std::int64_t seed) {
                      const Array k = jr::key(seed);
                      RC_ASSERT(float_bits(jr::normal(k, {33})) == float_bits(jr::normal(k, {33})));
                      RC_ASSERT(float_bits(jr::uniform(k, {7})) == float_bits(jr::uniform(k, {7})));
                      RC_ASSERT(jr::randint(k, {9}, -3, 1000).to_vector<int>() ==
                                jr::randint(k, {9}, -3, 1000).to_vector<int>());
                      RC_ASSERT(jr::permutation(k, 20).to_vector<int>() ==
                                jr::permutation(k, 20).to_vector<int>());
                      // A prefix of a bigger sample is the smaller sample (counters are the flat
                      // index).
                      const auto big = float_bits(jr::normal(k, {40}));
                      const auto small = float_bits(jr::normal(k, {17}));
                      RC_ASSERT(std::equal(small.begin(), small.end(), big.begin()));
                      RC_ASSERT(float_bits(jr::normal(jr::fold_in(k, 1), {33})) !=
                                float_bits(jr::normal(k, {33})));
                    }));
  }

  TEST_CASE("random.uniform: values stay in [minval, maxval)") {
    CHECK(rc::check("uniform in [minval, maxval)", [](std::int64_t seed) {
      // minval anywhere in +-10^6; the range from one ulp to 10^6 ulps or a wide span.
      const float lo = static_cast<float>(*rc::gen::inRange(-1000000000, 1000000000) / 997.0);
      const int ulps = *rc::gen::inRange(1, 1000000);
      float hi = lo;
      for (int step = 0, n = ulps % 64 + 1; step < n; ++step)
        hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
      if (ulps % 2 == 0) hi = lo + static_cast<float>(ulps);
      RC_PRE(lo < hi);
      for (float v : jr::uniform(jr::key(seed), {64}, float32, lo, hi).to_vector<float>()) {
        RC_ASSERT(v >= lo);
        RC_ASSERT(v < hi);
      }
      const double lo64 = lo, hi64 = ulps % 2 == 0 ? lo64 + ulps : std::nextafter(lo64, 1e300);
      for (double v : jr::uniform(jr::key(seed), {16}, float64, lo64, hi64).to_vector<double>()) {
        RC_ASSERT(v >= lo64);
        RC_ASSERT(v < hi64);
      }
    }));
    // Ranges of a few ulps, where rounding would reach maxval.
    const float lo = 1.0f, hi = std::nextafter(1.0f, 2.0f);
    for (float v : jr::uniform(jr::key(0), {1000}, float32, lo, hi).to_vector<float>())
      CHECK(v == lo);
  }

  TEST_CASE("random.randint: values stay in range, for spans above 2^16 and the full range") {
    CHECK(rc::check("randint in [minval, maxval)", [](std::int64_t seed) {
      const std::int64_t lo =
          *rc::gen::inRange<std::int64_t>(-(std::int64_t{1} << 31), std::int64_t{1} << 31);
      const std::int64_t span =
          *rc::gen::oneOf(rc::gen::inRange<std::int64_t>(1, 70000),
                          rc::gen::inRange<std::int64_t>(65536, std::int64_t{1} << 33));
      const std::int64_t hi = std::min(lo + span, std::int64_t{1} << 31);
      RC_PRE(lo < hi);
      for (int v : jr::randint(jr::key(seed), {50}, lo, hi).to_vector<int>()) {
        RC_ASSERT(v >= lo);
        RC_ASSERT(v < hi);
      }
      const std::int64_t ulo = *rc::gen::inRange<std::int64_t>(0, std::int64_t{1} << 32);
      const std::int64_t uhi = std::min(ulo + span, std::int64_t{1} << 32);
      RC_PRE(ulo < uhi);
      for (std::uint32_t v :
           jr::randint(jr::key(seed), {50}, ulo, uhi, uint32).to_vector<std::uint32_t>()) {
        RC_ASSERT(v >= ulo);
        RC_ASSERT(v < uhi);
      }
    }));
    // The same values as JAX's formula written with plain % on the public bits of split keys.
    CHECK(rc::check("randint equals JAX's formula with hardware remainders", [](std::int64_t seed) {
      const std::int64_t lo = *rc::gen::inRange<std::int64_t>(-100000, 100000);
      const std::int64_t span =
          *rc::gen::oneOf(rc::gen::inRange<std::int64_t>(1, 300),
                          rc::gen::inRange<std::int64_t>(1, std::int64_t{1} << 31));
      const Array k = jr::key(seed);
      const Array ks = jr::split(k);
      const auto hb = jr::bits(jr::key_at(ks, 0), {40}).to_vector<std::uint32_t>();
      const auto lb = jr::bits(jr::key_at(ks, 1), {40}).to_vector<std::uint32_t>();
      const auto d = static_cast<std::uint32_t>(span);
      std::uint32_t mult = (1u << 16) % d;
      mult = (mult * mult) % d;
      const auto got = jr::randint(k, {40}, lo, lo + span).to_vector<int>();
      for (std::size_t i = 0; i < 40; ++i) {
        const std::uint32_t off = ((hb[i] % d) * mult + lb[i] % d) % d;
        RC_ASSERT(got[i] == static_cast<int>(static_cast<std::uint32_t>(lo) + off));
      }
    }));
    // The full uint8 range reaches both ends.
    const auto all = jr::randint(jr::key(0), {4000}, 0, 256, uint8).to_vector<int>();
    CHECK(*std::min_element(all.begin(), all.end()) == 0);
    CHECK(*std::max_element(all.begin(), all.end()) == 255);
  }

  TEST_CASE("random.permutation: every result is a permutation") {
    CHECK(rc::check("permutation(key, n) is a permutation of 0..n-1", [](std::int64_t seed) {
      const auto n = *rc::gen::inRange<std::int64_t>(0, 3000);
      auto p = jr::permutation(jr::key(seed), n).to_vector<int>();
      std::sort(p.begin(), p.end());
      for (std::int64_t i = 0; i < n; ++i) RC_ASSERT(p[static_cast<std::size_t>(i)] == i);
    }));
  }

  TEST_CASE("random.choice: without replacement, the draws are distinct") {
    CHECK(rc::check("choice(replace=false) draws distinct elements", [](std::int64_t seed) {
      const auto n = *rc::gen::inRange<std::int64_t>(1, 500);
      const auto draws = *rc::gen::inRange<std::int64_t>(0, n + 1);
      const auto c = jr::choice(jr::key(seed), n, {draws}, false).to_vector<int>();
      const std::set<int> distinct(c.begin(), c.end());
      RC_ASSERT(static_cast<std::int64_t>(distinct.size()) == draws);
      for (int v : c) RC_ASSERT(v >= 0 && v < n);
    }));
  }

  TEST_CASE("random.categorical: a one-hot-like logit vector always picks its class") {
    CHECK(rc::check("categorical picks the class with logit 0 among -inf", [](std::int64_t seed) {
      const auto k = *rc::gen::inRange<std::int64_t>(1, 20);
      const auto hot = *rc::gen::inRange<std::int64_t>(0, k);
      std::vector<float> logits(static_cast<std::size_t>(k),
                                -std::numeric_limits<float>::infinity());
      logits[static_cast<std::size_t>(hot)] = 0.0f;
      const Array c =
          jr::categorical(jr::key(seed), Array::from_vector(logits, {1, k}), -1, Shape{6, 1});
      for (int v : c.to_vector<int>()) RC_ASSERT(v == hot);
    }));
  }

  TEST_CASE("random.normal: mean and variance of 10^6 samples are within 4 sigma of 0 and 1") {
    const auto z = jr::normal(jr::key(2024), {1000000}).to_vector<float>();
    double sum = 0, sq = 0;
    for (float v : z) {
      sum += v;
      sq += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(z.size());
    const double mean = sum / n, var = sq / n - mean * mean;
    CHECK(std::fabs(mean) < 4.0 / std::sqrt(n));             // sd of the mean: 1/sqrt(n)
    CHECK(std::fabs(var - 1.0) < 4.0 * std::sqrt(2.0 / n));  // sd of the variance: sqrt(2/n)
    const auto t = jr::truncated_normal(jr::key(2024), -2, 2, {100000}).to_vector<float>();
    CHECK(*std::min_element(t.begin(), t.end()) > -2.0f);
    CHECK(*std::max_element(t.begin(), t.end()) < 2.0f);
  }
}
