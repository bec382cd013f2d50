// jute/random.hpp — JAX's default PRNG, bit for bit: threefry2x32 keys and the samplers on them.
//
// A key is a plain uint32 Array of shape (2,) (a batch of keys has shape (..., 2)), so keys live in
// Trees and checkpoints like any other value. There is no global or hidden RNG state: every
// sampler is a pure function of its key, and the same key gives the same bits as
// `jax.random` with its default settings (threefry2x32, `jax_threefry_partitionable=True`, the
// default since JAX 0.5). Never reuse a key for two purposes; `split` or `fold_in` it instead:
//
//   namespace jr = jute::random;
//   auto k = jr::key(0);
//   auto ks = jr::split(k);                                  // u32[2,2]: two fresh keys
//   auto x = jr::normal(jr::key_at(ks, 0), {3, 4});          // f32[3,4]
//   auto d = jr::bernoulli(jr::key_at(ks, 1), 0.9, {3, 4});  // bool[3,4]
//
// Call these as `jute::random::split` (or through a namespace alias): `jute::split` is the
// array-splitting op of ops.hpp.
//
// Functions that take one key check that it has shape (2,) and dtype uint32 (ShapeError /
// DtypeError otherwise). Samplers support float32 (bit-exact with JAX, x64 off) and float64
// (JAX's x64 algorithms); see docs/random.md for the exact guarantees.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jute/array.hpp"

namespace jute::random {

// ---- keys ---------------------------------------------------------------------------------------

/// A key from an integer seed, as `jax.random.key(seed)`. With JAX's default (x64 off) the seed is
/// taken modulo 2^32 and the key is [0, seed mod 2^32]; with `enable_x64` it is
/// [seed >> 32, seed & 0xFFFFFFFF] of the 64-bit two's complement value.
Array key(std::int64_t seed, bool enable_x64 = false);

/// `num` new keys, shape (num, 2). Key i equals `fold_in(key, i)` (JAX's partitionable split).
/// ValueError when `num` is negative.
Array split(const Array& key, std::int64_t num = 2);
/// A grid of new keys, shape (*shape, 2); key at flat (row-major) index i is `fold_in(key, i)`.
Array split(const Array& key, const Shape& shape);

/// Key `i` (a (2,) Array) of a batch of keys of shape (n, 2) such as `split` returns.
/// IndexError when out of range (negative `i` counts from the end).
Array key_at(const Array& keys, std::int64_t i);

/// A new key that mixes `data` into `key` (`jax.random.fold_in`).
Array fold_in(const Array& key, std::uint32_t data);

/// The raw Threefry-2x32 hash (20 rounds) of the counter (x0, x1) under the key (k0, k1), as
/// `jax.extend.random.threefry2x32_p`.
std::array<std::uint32_t, 2> threefry2x32(std::array<std::uint32_t, 2> key,
                                          std::array<std::uint32_t, 2> count);

// ---- Flax linen's key derivation
// -------------------------------------------------------------------

/// Flax linen's static fold-in hash (`flax.core.scope._fold_in_static`): the first 4 bytes,
/// big-endian, of the SHA-1 of the module path names (UTF-8) followed by `counter` as a minimal
/// big-endian integer (1 -> 0x01, 256 -> 0x01 0x00, 0 -> no bytes). With `fix_separator` (Flax's
/// `flax_fix_rng_separator` option, off by default) every item is preceded by a 0 byte, so that
/// ("A", "B") and ("AB") no longer collide.
std::uint32_t flax_path_hash(const std::vector<std::string>& path, std::uint64_t counter,
                             bool fix_separator = false);

/// The key Flax linen's `make_rng` returns in the scope at `path` for its `counter`-th call
/// (counters start at 1): `fold_in(root_key, flax_path_hash(path, counter, fix_separator))`.
/// `Dense(4).init(key(0), x)` draws its kernel with `fold_in_path(key(0), {}, 1)`.
Array fold_in_path(const Array& root_key, const std::vector<std::string>& path,
                   std::uint64_t counter, bool fix_separator = false);

// ---- samplers
// -------------------------------------------------------------------------------------

/// Uniform random bits of `shape`: `dtype` uint32 (default) or uint8 (the low 8 bits of the
/// 32-bit value, as JAX's partitionable scheme). jute has no uint16/uint64 dtype.
Array bits(const Array& key, const Shape& shape = {}, DType dtype = uint32);

/// Uniform floats in [minval, maxval) (float32 or float64), as `jax.random.uniform`. The bounds
/// are first rounded to `dtype`; they must be finite with minval < maxval (ValueError). Where
/// float rounding would carry a value up to maxval (JAX returns maxval then, a value outside its
/// own documented range), jute returns the largest float below maxval; all other values are
/// JAX's bits.
Array uniform(const Array& key, const Shape& shape = {}, DType dtype = float32, double minval = 0.0,
              double maxval = 1.0);

/// Standard normal samples (float32 or float64), as `jax.random.normal`: sqrt(2) * erfinv(u) for u
/// uniform in (-1, 1).
Array normal(const Array& key, const Shape& shape = {}, DType dtype = float32);

/// Normal samples truncated to the open interval (lower, upper), as
/// `jax.random.truncated_normal(key, lower, upper, shape, dtype)`. ValueError unless
/// lower < upper (infinite bounds are allowed).
Array truncated_normal(const Array& key, double lower, double upper, const Shape& shape = {},
                       DType dtype = float32);

/// How `bernoulli` draws: `low` compares one float32 uniform with p (JAX's default; wrong for
/// p below about 1e-7); `high` uses two uniforms for about 2^-46 resolution.
enum class BernoulliMode { low, high };

/// Booleans that are true with probability `p` (in [0, 1], compared in float32; ValueError
/// otherwise), as `jax.random.bernoulli(key, p, shape, mode)`.
Array bernoulli(const Array& key, double p = 0.5, const Shape& shape = {},
                BernoulliMode mode = BernoulliMode::low);

/// Uniform integers in [minval, maxval) of `dtype` (int32, uint32 or uint8), as
/// `jax.random.randint`. Bounds beyond the dtype's range are clipped to it (maxval may be one past
/// the dtype's maximum to include it). ValueError when the range holds no value of `dtype`.
/// Like JAX, this uses 2 x 32 random bits per value and a modulus: the bias is at most about
/// span / 2^32.
Array randint(const Array& key, const Shape& shape, std::int64_t minval, std::int64_t maxval,
              DType dtype = int32);

/// A random permutation of 0, ..., n-1 (int32), as `jax.random.permutation(key, n)`.
/// ValueError when n is negative or above the int32 range.
Array permutation(const Array& key, std::int64_t n);
/// `x` with its slices along `axis` randomly permuted (`independent = false`: one permutation for
/// all of them), or every 1-D lane along `axis` shuffled on its own (`independent = true`), as
/// `jax.random.permutation(key, x, axis, independent)`. A 0-d integer `x` means n = x. Built with
/// `take`/`take_along_axis`, so it is differentiable with respect to `x`.
Array permutation(const Array& key, const Array& x, int axis = 0, bool independent = false);

/// Indices sampled from the categorical distributions whose unnormalized log-probabilities lie
/// along `axis` of `logits` (float32/float64), by the Gumbel-max trick exactly as
/// `jax.random.categorical(key, logits, axis, shape)`; int32. `shape` defaults to logits' shape
/// without `axis` and must end with a shape that this batch shape broadcasts to.
/// With `replace = false` (`jax.random.categorical(..., replace=False)`), each batch position
/// draws k = prod(shape[:-batch_rank]) distinct categories: the k largest of logits plus Gumbel
/// noise of logits' shape, largest first, the draws along the leading dimensions of `shape`
/// (which must then end with the batch shape exactly); ValueError when k exceeds the categories.
Array categorical(const Array& key, const Array& logits, int axis = -1,
                  const std::optional<Shape>& shape = std::nullopt, bool replace = true);

/// Standard Gumbel samples, as `jax.random.gumbel` (mode "low"): -log(-log(u)).
Array gumbel(const Array& key, const Shape& shape = {}, DType dtype = float32);

/// Standard exponential samples, as `jax.random.exponential`: -log1p(-u).
Array exponential(const Array& key, const Shape& shape = {}, DType dtype = float32);

/// Samples from 0, ..., n-1 (int32) without weights, as `jax.random.choice(key, n, shape,
/// replace)`: with replacement `randint(key, shape, 0, n)`, without it the first prod(shape)
/// entries of `permutation(key, n)`. ValueError when n <= 0 (unless the shape is empty) or, without
/// replacement, when more draws than n are asked for.
Array choice(const Array& key, std::int64_t n, const Shape& shape = {}, bool replace = true);
/// Samples of the slices of `a` along `axis` without weights, as `jax.random.choice(key, a, shape,
/// replace, axis=axis)`: the result has shape a.shape[:axis] + shape + a.shape[axis+1:] (a 0-d
/// integer `a` means n = a). Differentiable with respect to `a`.
Array choice(const Array& key, const Array& a, const Shape& shape = {}, bool replace = true,
             int axis = 0);
/// Samples from 0, ..., n-1 (int32) with probabilities proportional to the weights `p` (shape
/// (n,), float32 or float64; integer weights compute in float32), as `jax.random.choice(key, n,
/// shape, replace, p)`: with replacement, the first i whose running sum of p reaches
/// `sum(p) * (1 - uniform(key, shape))`; without it, the prod(shape) smallest of
/// `-gumbel(key, (n,)) - log(p)` in order (Gumbel top-k), so zero weights come last. ValueError
/// when p has the wrong shape, a negative, NaN or infinite weight, or no positive weight, or when
/// more draws than positive weights are asked for without replacement (JAX's result is then
/// ill-defined).
Array choice(const Array& key, std::int64_t n, const Shape& shape, bool replace, const Array& p);
/// The weighted form for the slices of `a` along `axis` (p has shape (a.shape[axis],)), as
/// `jax.random.choice(key, a, shape, replace, p, axis)`. Differentiable with respect to `a`.
Array choice(const Array& key, const Array& a, const Shape& shape, bool replace, const Array& p,
             int axis = 0);

}  // namespace jute::random
