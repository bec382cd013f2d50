// Internal: the Threefry-2x32 hash (20 rounds, Random123) and the counter-mode loops every
// sampler is built on. JAX's partitionable scheme hashes the row-major uint64 iota of the output
// shape: counter i is the pair (hi, lo) = (i >> 32, i & 0xFFFFFFFF).
#pragma once

#include <cstdint>

namespace jute::random::detail {

/// One Threefry-2x32 block: (k0, k1) is the key, (x0, x1) the counter.
struct Pair {
  std::uint32_t y0, y1;
};

constexpr std::uint32_t rotl32(std::uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

/// threefry2x32_p of JAX for one counter (scalar; the block loops below are the fast path).
constexpr Pair threefry2x32(std::uint32_t k0, std::uint32_t k1, std::uint32_t x0,
                            std::uint32_t x1) {
  const std::uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ 0x1BD11BDAu};
  constexpr int rot[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};
  x0 += ks[0];
  x1 += ks[1];
  for (int g = 0; g < 5; ++g) {
    for (int r : rot[g % 2]) {
      x0 += x1;
      x1 = rotl32(x1, r);
      x1 ^= x0;
    }
    x0 += ks[(g + 1) % 3];
    x1 += ks[(g + 2) % 3] + static_cast<std::uint32_t>(g + 1);
  }
  return {x0, x1};
}

/// Counters per block in the samplers' loops: the bits of one block stay in L1.
inline constexpr std::int64_t kBlock = 1024;

/// y0[i], y1[i] = threefry2x32(k0, k1, hi, lo + i) for 0 <= i < n. Requires lo + n <= 2^32.
void threefry_iota(std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo,
                   std::int64_t n, std::uint32_t* y0, std::uint32_t* y1);

/// out[i] = y0 ^ y1 of threefry2x32(k0, k1, hi, lo + i): JAX's 32-bit random bits. Requires
/// lo + n <= 2^32.
void threefry_bits32(std::uint32_t k0, std::uint32_t k1, std::uint32_t hi, std::uint32_t lo,
                     std::int64_t n, std::uint32_t* out);

/// Calls `f(first, count)` for consecutive blocks of counters covering [begin, end), each at most
/// `kBlock` long and never crossing a multiple of 2^32 (so `lo` does not wrap inside a block).
template <class F>
void for_each_block(std::uint64_t begin, std::uint64_t end, F&& f) {
  while (begin < end) {
    std::uint64_t next_wrap = (begin | 0xFFFFFFFFull) + 1;
    std::uint64_t stop = begin + static_cast<std::uint64_t>(kBlock);
    if (stop > end) stop = end;
    if (stop > next_wrap) stop = next_wrap;
    f(begin, static_cast<std::int64_t>(stop - begin));
    begin = stop;
  }
}

/// The high and low words of a 64-bit counter.
constexpr std::uint32_t hi32(std::uint64_t c) { return static_cast<std::uint32_t>(c >> 32); }
constexpr std::uint32_t lo32(std::uint64_t c) { return static_cast<std::uint32_t>(c); }

}  // namespace jute::random::detail
