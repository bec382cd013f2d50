#include "random/threefry.hpp"

// AVX-512 machines default to 256-bit vectors in GCC; the hash is pure integer ALU work with no
// frequency penalty worth avoiding, and full-width vectors double its throughput.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

namespace jute::random::detail {

namespace {

// The 20 rounds written out over one lane, so that the compiler turns the loops below into
// 16-lane AVX-512 code (vpaddd / vprold / vpxord); the scalar `threefry2x32` in the header is the
// same function, checked against this one by the tests.
#define JUTE_MIX(r)   \
  x0 += x1;           \
  x1 = rotl32(x1, r); \
  x1 ^= x0
#define JUTE_ROUNDS_A \
  JUTE_MIX(13);       \
  JUTE_MIX(15);       \
  JUTE_MIX(26);       \
  JUTE_MIX(6)
#define JUTE_ROUNDS_B \
  JUTE_MIX(17);       \
  JUTE_MIX(29);       \
  JUTE_MIX(16);       \
  JUTE_MIX(24)

template <class Store>
inline void threefry_lanes(std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo,
                           std::int64_t n, Store store) {
  const std::uint32_t ks0 = k0, ks1 = k1, ks2 = k0 ^ k1 ^ 0x1BD11BDAu;
  const std::uint32_t x0_init = hi + ks0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint32_t x0 = x0_init;
    std::uint32_t x1 = lo + static_cast<std::uint32_t>(i) + ks1;
    JUTE_ROUNDS_A;
    x0 += ks1;
    x1 += ks2 + 1u;
    JUTE_ROUNDS_B;
    x0 += ks2;
    x1 += ks0 + 2u;
    JUTE_ROUNDS_A;
    x0 += ks0;
    x1 += ks1 + 3u;
    JUTE_ROUNDS_B;
    x0 += ks1;
    x1 += ks2 + 4u;
    JUTE_ROUNDS_A;
    x0 += ks2;
    x1 += ks0 + 5u;
    store(i, x0, x1);
  }
}

#undef JUTE_ROUNDS_A
#undef JUTE_ROUNDS_B
#undef JUTE_MIX

}  // namespace

void threefry_iota(std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo,
                   std::int64_t n, std::uint32_t* __restrict y0, std::uint32_t* __restrict y1) {
  threefry_lanes(k0, k1, hi, lo, n, [=](std::int64_t i, std::uint32_t a, std::uint32_t b) {
    y0[i] = a;
    y1[i] = b;
  });
}

void threefry_bits32(std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo,
                     std::int64_t n, std::uint32_t* __restrict out) {
  threefry_lanes(k0, k1, hi, lo, n,
                 [=](std::int64_t i, std::uint32_t a, std::uint32_t b) { out[i] = a ^ b; });
}

}  // namespace jute::random::detail
