// jute/io/serialization.hpp — Trees to and from Flax's msgpack bytes (flax.serialization).
//
//   io::Bytes b = io::to_bytes(vars);                  // what flax.serialization.to_bytes writes
//   Tree state = io::from_bytes(b);                    // any file Flax wrote, whatever its key
//   order Tree params = io::from_bytes(model_shapes, b);     // checked against a target, path by
//   path
//
// Leaves: an Array is written as Flax writes a NumPy/JAX array (msgpack ext 1: shape, dtype name,
// raw little-endian bytes); a weakly typed scalar (a C++ number, like a Python number in a Flax
// state dict) as a native msgpack int, float or bool. Arrays above 2^30 bytes are split into
// chunks as Flax does. Keys are written in sorted order; for the same state dict with sorted
// keys the bytes are exactly Flax's. See docs/io.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "jute/errors.hpp"
#include "jute/tree.hpp"

namespace jute::io {

using Bytes = std::vector<std::uint8_t>;

/// The bytes are not a valid Flax msgpack state (truncated, corrupt, an unsupported leaf kind,
/// a declared size the data does not hold, nesting deeper than `kMaxDepth`).
class FormatError : public IOError {
 public:
  using IOError::IOError;
};

/// Restoring into a target: the target has a key the state lacks.
class MissingKeyError : public KeyError {
 public:
  using KeyError::KeyError;
};

/// Restoring into a target: the state has a key the target lacks.
class ExtraKeyError : public KeyError {
 public:
  using KeyError::KeyError;
};

/// Maps nested deeper than this (counting the top level as 1) are refused with FormatError.
inline constexpr int kMaxDepth = 64;

/// Flax's MAX_CHUNK_SIZE: arrays of more bytes are written as chunked dicts.
inline constexpr std::size_t kMaxChunkBytes = std::size_t{1} << 30;

struct WriteOptions {
  /// Arrays of more than this many bytes are split into chunks of at most this many bytes
  /// (Flax's MAX_CHUNK_SIZE; smaller values only serve tests).
  std::size_t max_chunk_bytes = kMaxChunkBytes;
};

/// The Tree as Flax's msgpack bytes (keys sorted at every level). ValueError for a shape-only
/// leaf (it has no values to write).
Bytes to_bytes(const Tree& tree, const WriteOptions& options = {});

/// The state dict in Flax msgpack bytes as a Tree. ext 1 and ext 3 leaves become Arrays of their
/// dtype and shape; native ints become weakly typed int32 scalars, native floats weakly typed
/// float64 scalars and booleans weakly typed bool scalars; chunked arrays are joined. FormatError
/// for malformed bytes, DtypeError for a dtype jute lacks (e.g. "bfloat16", "int64"), each
/// naming the path.
Tree from_bytes(std::span<const std::uint8_t> bytes);

struct RestoreOptions {
  /// Keep the target's value where the state lacks a key (a partial restore); otherwise
  /// MissingKeyError.
  bool allow_missing = false;
  /// Ignore keys of the state that the target lacks (what Flax does silently); otherwise
  /// ExtraKeyError.
  bool allow_extra = false;
};

/// `state` restored into `target`'s structure (Flax's from_state_dict, stricter): every leaf of
/// the target must be a leaf of the state with the same shape (ShapeError) and dtype
/// (DtypeError); a sub-Tree must be a sub-Tree (ValueError); missing and extra keys throw unless
/// `options` allows them. Every error names the path, "params/Dense_0/kernel". Target leaves
/// may be shape-only (jute::abstract_array, nn::init_shapes).
Tree from_state_dict(const Tree& target, const Tree& state, const RestoreOptions& options = {});

/// from_state_dict(target, from_bytes(bytes), options).
Tree from_bytes(const Tree& target, std::span<const std::uint8_t> bytes,
                const RestoreOptions& options = {});

}  // namespace jute::io
