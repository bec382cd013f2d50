#include "random/keys.hpp"

#include <string>

#include "core/array_impl.hpp"
#include "jute/random.hpp"
#include "random/threefry.hpp"

namespace jute::random {

namespace detail {

KeyWords key_words(const Array& key, const char* op) {
  const bool valid = key.valid();
  if (valid && key.dtype() == uint32 && key.shape() == Shape{2}) {
    const auto* k = key.data<std::uint32_t>();
    return {k[0], k[1]};
  }
  const std::string got = valid ? key.type_string() : std::string("a null Array");
  const std::string msg = std::string("[") + op +
                          "] Expected a key of shape (2,) and dtype uint32, got " + got +
                          "; make one with jute::random::key(seed).";
  if (!valid) throw ValueError(msg);
  if (key.dtype() != uint32) throw DtypeError(msg);
  throw ShapeError(msg);
}

Array make_key(KeyWords k) {
  Array out = jute::detail::empty(uint32, {2});
  auto* d = jute::detail::mutable_data<std::uint32_t>(out);
  d[0] = k.k0;
  d[1] = k.k1;
  return out;
}

std::int64_t checked_size(const Shape& shape, const char* op) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0)
      throw ShapeError(std::string("[") + op + "] Shape " + jute::detail::shape_str(shape) +
                       " has a negative dimension; every dimension must be >= 0.");
    n *= d;
  }
  return n;
}

}  // namespace detail

Array key(std::int64_t seed, bool enable_x64) {
  const auto s = static_cast<std::uint64_t>(seed);
  return detail::make_key({enable_x64 ? detail::hi32(s) : 0u, detail::lo32(s)});
}

std::array<std::uint32_t, 2> threefry2x32(std::array<std::uint32_t, 2> key,
                                          std::array<std::uint32_t, 2> count) {
  const auto y = detail::threefry2x32(key[0], key[1], count[0], count[1]);
  return {y.y0, y.y1};
}

Array split(const Array& key, const Shape& shape) {
  const auto k = detail::key_words(key, "random.split");
  const std::int64_t n = detail::checked_size(shape, "random.split");
  Shape out_shape = shape;
  out_shape.push_back(2);
  Array out = jute::detail::empty(uint32, out_shape);
  auto* d = jute::detail::mutable_data<std::uint32_t>(out);
  std::uint32_t y0[detail::kBlock], y1[detail::kBlock];
  detail::for_each_block(
      0, static_cast<std::uint64_t>(n), [&](std::uint64_t first, std::int64_t m) {
        detail::threefry_iota(k.k0, k.k1, detail::hi32(first), detail::lo32(first), m, y0, y1);
        std::uint32_t* o = d + 2 * first;
        for (std::int64_t i = 0; i < m; ++i) {
          o[2 * i] = y0[i];
          o[2 * i + 1] = y1[i];
        }
      });
  return out;
}

Array split(const Array& key, std::int64_t num) {
  if (num < 0)
    throw ValueError("[random.split] The number of keys must be non-negative, got " +
                     std::to_string(num) + ".");
  return split(key, Shape{num});
}

Array key_at(const Array& keys, std::int64_t i) {
  if (!keys.valid() || keys.dtype() != uint32 || keys.ndim() != 2 || keys.shape(1) != 2) {
    const std::string got = keys.valid() ? keys.type_string() : std::string("a null Array");
    const std::string msg =
        "[random.key_at] Expected a batch of keys of shape (n,2) and dtype uint32, got " + got +
        "; make one with jute::random::split(key, n).";
    if (!keys.valid()) throw ValueError(msg);
    if (keys.dtype() != uint32) throw DtypeError(msg);
    throw ShapeError(msg);
  }
  const std::int64_t n = keys.shape(0);
  const std::int64_t j = i < 0 ? i + n : i;
  if (j < 0 || j >= n)
    throw IndexError("[random.key_at] Index " + std::to_string(i) +
                     " is out of range for a batch of " + std::to_string(n) + " keys.");
  const auto* d = keys.data<std::uint32_t>();
  return detail::make_key({d[2 * j], d[2 * j + 1]});
}

Array fold_in(const Array& key, std::uint32_t data) {
  const auto k = detail::key_words(key, "random.fold_in");
  const auto y = detail::threefry2x32(k.k0, k.k1, 0u, data);
  return detail::make_key({y.y0, y.y1});
}

}  // namespace jute::random
