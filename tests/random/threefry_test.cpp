// The Threefry-2x32 hash and its counter-mode block loops.
#include <doctest/doctest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <vector>

#include "jute/random.hpp"
#include "random/threefry.hpp"

namespace jr = jute::random;
namespace jd = jute::random::detail;

TEST_SUITE("random") {
  TEST_CASE("random.threefry: Random123 known-answer vectors (JAX's testThreefry2x32)") {
    CHECK(jr::threefry2x32({0x00000000u, 0x00000000u}, {0x00000000u, 0x00000000u}) ==
          std::array<std::uint32_t, 2>{0x6B200159u, 0x99BA4EFEu});
    CHECK(jr::threefry2x32({0xFFFFFFFFu, 0xFFFFFFFFu}, {0xFFFFFFFFu, 0xFFFFFFFFu}) ==
          std::array<std::uint32_t, 2>{0x1CB996FCu, 0xBB002BE7u});
    CHECK(jr::threefry2x32({0x13198A2Eu, 0x03707344u}, {0x243F6A88u, 0x85A308D3u}) ==
          std::array<std::uint32_t, 2>{0xC4923A9Cu, 0x483DF7A0u});
  }

  TEST_CASE("random.threefry: the block loops equal the scalar hash") {
    CHECK(rc::check(
        "threefry_iota and threefry_bits32 hash (hi, lo + i)",
        [](std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo) {
          const auto n = static_cast<std::int64_t>(*rc::gen::inRange(0, 70));
          if (static_cast<std::uint64_t>(lo) + static_cast<std::uint64_t>(n) > 0x100000000ull)
            lo = static_cast<std::uint32_t>(0x100000000ull - n);
          std::vector<std::uint32_t> y0(n), y1(n), b(n);
          jd::threefry_iota(k0, k1, hi, lo, n, y0.data(), y1.data());
          jd::threefry_bits32(k0, k1, hi, lo, n, b.data());
          for (std::int64_t i = 0; i < n; ++i) {
            const auto p = jd::threefry2x32(k0, k1, hi, lo + static_cast<std::uint32_t>(i));
            RC_ASSERT(y0[i] == p.y0);
            RC_ASSERT(y1[i] == p.y1);
            RC_ASSERT(b[i] == (p.y0 ^ p.y1));
          }
        }));
  }

  TEST_CASE("random.threefry: blocks are at most kBlock long and never cross a multiple of 2^32") {
    std::vector<std::pair<std::uint64_t, std::int64_t>> blocks;
    const std::uint64_t begin = 0xFFFFFF00ull, end = 0x100000000ull + 3000;
    jd::for_each_block(begin, end,
                       [&](std::uint64_t first, std::int64_t m) { blocks.emplace_back(first, m); });
    std::uint64_t next = begin;
    for (auto [first, m] : blocks) {
      CHECK(first == next);
      CHECK(m >= 1);
      CHECK(m <= jd::kBlock);
      CHECK(jd::hi32(first) == jd::hi32(first + static_cast<std::uint64_t>(m) - 1));
      next = first + static_cast<std::uint64_t>(m);
    }
    CHECK(next == end);
    CHECK(blocks.front().second == 256);  // stops at 2^32
    CHECK(blocks[1].first == 0x100000000ull);
  }
}
