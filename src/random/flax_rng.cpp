// Flax linen's key derivation (flax/core/scope.py, `_fold_in_static` and `LazyRng`): a scope's
// `make_rng` folds the first 4 bytes of a SHA-1 of its module path and call counter into the
// stream's root key. SHA-1 comes from nettle.
#include <nettle/sha1.h>

#include <cstdint>
#include <string>
#include <vector>

#include "jute/random.hpp"
#include "random/keys.hpp"
#include "random/threefry.hpp"

namespace jute::random {

std::uint32_t flax_path_hash(const std::vector<std::string>& path, std::uint64_t counter,
                             bool fix_separator) {
  sha1_ctx ctx;
  sha1_init(&ctx);
  const std::uint8_t separator = 0;
  for (const std::string& name : path) {
    if (fix_separator) sha1_update(&ctx, 1, &separator);
    sha1_update(&ctx, name.size(), reinterpret_cast<const std::uint8_t*>(name.data()));
  }
  if (fix_separator) sha1_update(&ctx, 1, &separator);
  // Python's x.to_bytes((x.bit_length() + 7) // 8, 'big'): minimal big-endian, no bytes for 0.
  std::uint8_t bytes[8];
  std::size_t len = 0;
  for (std::uint64_t c = counter; c != 0; c >>= 8) ++len;
  for (std::size_t i = 0; i < len; ++i)
    bytes[i] = static_cast<std::uint8_t>(counter >> (8 * (len - 1 - i)));
  sha1_update(&ctx, len, bytes);
  std::uint8_t digest[SHA1_DIGEST_SIZE];
  sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
  return (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
         (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
}

Array fold_in_path(const Array& root_key, const std::vector<std::string>& path,
                   std::uint64_t counter, bool fix_separator) {
  const auto k = detail::key_words(root_key, "random.fold_in_path");
  const auto y = detail::threefry2x32(k.k0, k.k1, 0u, flax_path_hash(path, counter, fix_separator));
  return detail::make_key({y.y0, y.y1});
}

}  // namespace jute::random
