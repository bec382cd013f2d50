// The strided-copy engine behind the shape ops, on raw buffers: each of its paths (contiguous
// runs, broadcast fills, reversed and strided element loops, transposed tiles) and its errors.
#include "ops/strided.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>
#include <vector>

using namespace jute;

TEST_SUITE("strided") {
  TEST_CASE("strided: row_major_strides and normalize_axis") {
    CHECK(detail::row_major_strides({2, 3, 4}) == Shape{12, 4, 1});
    CHECK(detail::row_major_strides({}) == Shape{});
    CHECK(detail::normalize_axis(-1, 3, "op") == 2);
    CHECK(detail::normalize_axis(0, 1, "op") == 0);
    CHECK_THROWS_AS(detail::normalize_axis(1, 1, "op"), ShapeError);
    CHECK_THROWS_AS(detail::normalize_axis(-2, 1, "op"), ShapeError);
  }

  TEST_CASE("strided: copy_strided paths") {
    std::vector<std::int32_t> src(24);
    std::iota(src.begin(), src.end(), 0);
    // Contiguous on both sides, with merged axes.
    std::vector<std::int32_t> dst(24, -1);
    const std::int64_t rm[] = {12, 4, 1};
    detail::copy_strided(src.data(), rm, dst.data(), rm, {2, 3, 4}, 4);
    CHECK(dst == src);
    // Broadcast: a stride-0 source axis fills.
    std::vector<std::int32_t> fill(6, -1);
    const std::int64_t bs[] = {1, 0}, bd[] = {3, 1};
    detail::copy_strided(src.data() + 5, bs, fill.data(), bd, {2, 3}, 4);
    CHECK(fill == std::vector<std::int32_t>{5, 5, 5, 6, 6, 6});
    // Reversed source.
    std::vector<std::int32_t> rev(4, -1);
    const std::int64_t rs[] = {-1}, rd[] = {1};
    detail::copy_strided(src.data() + 3, rs, rev.data(), rd, {4}, 4);
    CHECK(rev == std::vector<std::int32_t>{3, 2, 1, 0});
    // Strided destination (a scatter) with a zero-size region: nothing is written.
    std::vector<std::int32_t> untouched(4, -1);
    const std::int64_t sd[] = {2};
    detail::copy_strided(src.data(), rd, untouched.data(), sd, {0}, 4);
    CHECK(untouched == std::vector<std::int32_t>(4, -1));
    detail::copy_strided(src.data(), rd, untouched.data(), sd, {2}, 4);
    CHECK(untouched == std::vector<std::int32_t>{0, -1, 1, -1});
    // A scalar region (no axes) moves one element; 2-byte elements are supported.
    std::vector<std::uint16_t> halves{7, 8}, out16(1, 0);
    detail::copy_strided(halves.data() + 1, nullptr, out16.data(), nullptr, {}, 2);
    CHECK(out16[0] == 8);
  }

  TEST_CASE("strided: copy_strided transposes in tiles") {
    const std::int64_t rows = 70, cols = 37;
    std::vector<double> src(static_cast<std::size_t>(rows * cols));
    std::iota(src.begin(), src.end(), 0.0);
    std::vector<double> dst(src.size(), -1);
    const std::int64_t ss[] = {1, cols}, ds[] = {rows, 1};
    detail::copy_strided(src.data(), ss, dst.data(), ds, {cols, rows}, 8);
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t j = 0; j < cols; ++j)
        CHECK(dst[static_cast<std::size_t>(j * rows + i)] ==
              src[static_cast<std::size_t>(i * cols + j)]);
  }

  TEST_CASE("strided: add_strided accumulates floats") {
    std::vector<float> a{1, 2, 3, 4}, b{10, 20, 30, 40};
    const std::int64_t st[] = {2, 1};
    detail::add_strided(a.data(), b.data(), st, {2, 2}, float32);
    CHECK(b == std::vector<float>{11, 22, 33, 44});
    std::vector<double> c{1, 2}, d{0.5, 0.5};
    const std::int64_t one[] = {1};
    detail::add_strided(c.data(), d.data(), one, {2}, float64);
    CHECK(d == std::vector<double>{1.5, 2.5});
  }

  TEST_CASE("strided: errors") {
    std::vector<unsigned char> buf(16);
    const std::int64_t one[] = {1};
    CHECK_THROWS_AS(detail::copy_strided(buf.data(), one, buf.data() + 8, one, {1}, 3), ValueError);
    std::vector<std::int32_t> i{1}, j{2};
    CHECK_THROWS_AS(detail::add_strided(i.data(), j.data(), one, {1}, int32), DtypeError);
  }
}
