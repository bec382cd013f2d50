// Flax's msgpack state format (flax/serialization.py): writing with msgpack-c++'s packer, which
// picks the same smallest encodings as Python's msgpack, and reading with msgpack-c++'s
// unpacker under size limits derived from the input length, so hostile bytes cannot make it
// allocate more than a small multiple of their own size.
#define MSGPACK_NO_BOOST
#include "jute/io/serialization.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "core/array_impl.hpp"
#include "io/byte_utils.hpp"

namespace jute::io {

static_assert(
    std::endian::native == std::endian::little,
    "jute's file formats copy element bytes as they are, which assumes a little-endian host");

namespace {

constexpr std::int8_t kExtNdarray = 1;
constexpr std::int8_t kExtNativeComplex = 2;
constexpr std::int8_t kExtNpScalar = 3;
constexpr std::string_view kChunkMarker = "__msgpack_chunked_array__";

using Packer = msgpack::packer<msgpack::sbuffer>;

// ---- writing ----------------------------------------------------------------------------------

void pack_str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

/// ext 1 holding `count` elements of `a` from element `first` on, with `shape`:
/// packb((shape, dtype.name, bytes), use_bin_type=True).
void pack_ndarray(Packer& pk, const Array& a, const Shape& shape, std::int64_t first,
                  std::int64_t count) {
  const std::size_t item = itemsize(a.dtype());
  const std::size_t nbytes = static_cast<std::size_t>(count) * item;
  if (nbytes > std::numeric_limits<std::uint32_t>::max() - 1024)
    throw ValueError("[to_bytes] A chunk of " + std::to_string(nbytes) +
                     " bytes does not fit a msgpack bin; use a max_chunk_bytes below 4 GiB.");
  msgpack::sbuffer head;
  Packer hp(head);
  hp.pack_array(3);
  hp.pack_array(static_cast<std::uint32_t>(shape.size()));
  for (std::int64_t d : shape) hp.pack_uint64(static_cast<std::uint64_t>(d));
  pack_str(hp, name(a.dtype()));
  hp.pack_bin(static_cast<std::uint32_t>(nbytes));
  pk.pack_ext(head.size() + nbytes, kExtNdarray);
  pk.pack_ext_body(head.data(), static_cast<std::uint32_t>(head.size()));
  const auto* base = static_cast<const char*>(a.raw_data());
  pk.pack_ext_body(base + static_cast<std::size_t>(first) * item,
                   static_cast<std::uint32_t>(nbytes));
}

/// {str(i): value_i} in Flax's _tuple_to_dict order (0, 1, ..., 10: numeric, not sorted).
template <class F>
void pack_index_dict(Packer& pk, std::size_t n, F&& pack_value) {
  pk.pack_map(static_cast<std::uint32_t>(n));
  for (std::size_t i = 0; i < n; ++i) {
    pack_str(pk, std::to_string(i));
    pack_value(i);
  }
}

void pack_leaf(Packer& pk, const Array& a, const std::string& path, const WriteOptions& options) {
  if (a.is_abstract())
    throw ValueError("[to_bytes] Leaf \"" + path + "\" " + a.type_string() +
                     " is shape-only and has no values to write; save a Tree of real Arrays.");
  if (a.weak_type() && a.ndim() == 0) {  // a C++ number: a native Python number for Flax
    if (a.dtype() == bool_)
      pk.pack(a.item<bool>());
    else if (is_floating(a.dtype()))
      pk.pack_double(a.item<double>());
    else
      pk.pack_int64(a.item<std::int64_t>());
    return;
  }
  const std::size_t item = itemsize(a.dtype());
  if (a.nbytes() <= options.max_chunk_bytes) {
    pack_ndarray(pk, a, a.shape(), 0, a.size());
    return;
  }
  // Flax's _chunk: {"__msgpack_chunked_array__": True, "shape": {...}, "chunks": {...}} in this
  // insertion order, chunks of max(1, MAX_CHUNK_SIZE // itemsize) elements of the flat array.
  const auto chunk =
      static_cast<std::int64_t>(std::max<std::size_t>(1, options.max_chunk_bytes / item));
  const auto n_chunks = static_cast<std::size_t>((a.size() + chunk - 1) / chunk);
  pk.pack_map(3);
  pack_str(pk, kChunkMarker);
  pk.pack_true();
  pack_str(pk, "shape");
  pack_index_dict(pk, a.shape().size(),
                  [&](std::size_t i) { pk.pack_uint64(static_cast<std::uint64_t>(a.shape()[i])); });
  pack_str(pk, "chunks");
  pack_index_dict(pk, n_chunks, [&](std::size_t i) {
    const std::int64_t first = static_cast<std::int64_t>(i) * chunk;
    const std::int64_t count = std::min(chunk, a.size() - first);
    pack_ndarray(pk, a, Shape{count}, first, count);
  });
}

void pack_tree(Packer& pk, const Tree& t, const std::string& prefix, const WriteOptions& options) {
  pk.pack_map(static_cast<std::uint32_t>(t.size()));
  for (const auto& [key, value] : t) {
    pack_str(pk, key);
    const std::string path = prefix.empty() ? key : prefix + "/" + key;
    if (value.is_tree())
      pack_tree(pk, value.tree(), path, options);
    else
      pack_leaf(pk, value.array(), path, options);
  }
}

// ---- reading ----------------------------------------------------------------------------------

std::string where(const std::string& path) {
  return path.empty() ? std::string("the top level") : "\"" + path + "\"";
}

[[noreturn]] void format_error(const std::string& path, const std::string& what) {
  throw FormatError("[from_bytes] At " + where(path) + ": " + what + ".");
}

/// Unpacks one msgpack value that must span all of `data`, allocating at most a small multiple
/// of `len`: a declared array or map can hold no more entries than there are bytes left.
msgpack::object_handle unpack_all(const char* data, std::size_t len, std::size_t depth,
                                  const std::string& path, const char* what) {
  const std::size_t cap = std::min<std::size_t>(len, std::numeric_limits<std::uint32_t>::max());
  const msgpack::unpack_limit limit(cap, cap / 2, cap, cap, cap, depth);
  std::size_t offset = 0;
  msgpack::object_handle oh;
  try {
    oh = msgpack::unpack(
        data, len, offset, [](msgpack::type::object_type, std::size_t, void*) { return true; },
        nullptr, limit);
  } catch (const msgpack::depth_size_overflow&) {
    format_error(path, std::string(what) + " nests deeper than " + std::to_string(kMaxDepth) +
                           " levels, which jute refuses");
  } catch (const msgpack::insufficient_bytes&) {
    format_error(path, std::string(what) + " is truncated (the data ends inside a value)");
  } catch (const std::exception& e) {
    format_error(path, std::string(what) + " is not valid msgpack (" + e.what() + ")");
  }
  if (offset != len)
    format_error(path, std::string(what) + " has " + std::to_string(len - offset) +
                           " stray bytes after its value");
  return oh;
}

std::string_view as_text(const msgpack::object& o) {
  if (o.type == msgpack::type::STR) return {o.via.str.ptr, o.via.str.size};
  return {o.via.bin.ptr, o.via.bin.size};
}

std::string_view kind_name(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return "nil (None)";
    case msgpack::type::BOOLEAN:
      return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return "an integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "a float";
    case msgpack::type::STR:
      return "a string";
    case msgpack::type::BIN:
      return "bytes";
    case msgpack::type::ARRAY:
      return "a list";
    case msgpack::type::MAP:
      return "a dict";
    case msgpack::type::EXT:
      return "an ext value";
  }
  return "an unknown value";
}

DType dtype_named(std::string_view dtype_name, const std::string& path) {
  for (DType t : {bool_, uint8, int32, uint32, float32, float64})
    if (dtype_name == name(t)) return t;
  throw DtypeError("[from_bytes] Leaf " + where(path) + " has dtype \"" + std::string(dtype_name) +
                   "\", which jute does not support (bool, uint8, int32, uint32, float32, "
                   "float64); convert it before saving, e.g. with .astype(np.float32).");
}

/// An Array of `dtype` and `shape` holding a copy of `bytes` (bools normalized to 0/1).
Array array_from_bytes(DType dtype, const Shape& shape, const char* bytes) {
  const Array out = detail::empty(dtype, shape);
  const std::size_t n = out.nbytes();
  if (n == 0) return out;
  auto* dst = static_cast<unsigned char*>(detail::mutable_raw(out));
  if (dtype == bool_) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = bytes[i] != 0 ? 1 : 0;
  } else {
    std::memcpy(dst, bytes, n);
  }
  return out;
}

/// The payload of ext 1 or 3: (shape, dtype name, raw bytes).
Array decode_ndarray(const msgpack::object& ext, const std::string& path) {
  const msgpack::object_handle oh =
      unpack_all(ext.via.ext.data(), ext.via.ext.size, 3, path, "the array payload");
  const msgpack::object& p = oh.get();
  if (p.type != msgpack::type::ARRAY || p.via.array.size != 3)
    format_error(path, "the array payload is " + std::string(kind_name(p)) +
                           " instead of a list (shape, dtype name, bytes)");
  const msgpack::object& shape_o = p.via.array.ptr[0];
  const msgpack::object& dtype_o = p.via.array.ptr[1];
  const msgpack::object& data_o = p.via.array.ptr[2];
  if (shape_o.type != msgpack::type::ARRAY)
    format_error(path, "the array shape is " + std::string(kind_name(shape_o)) + ", not a list");
  if (dtype_o.type != msgpack::type::STR && dtype_o.type != msgpack::type::BIN)
    format_error(path, "the dtype name is " + std::string(kind_name(dtype_o)) + ", not a string");
  if (data_o.type != msgpack::type::BIN)
    format_error(path, "the array data is " + std::string(kind_name(data_o)) + ", not bytes");
  const DType dtype = dtype_named(as_text(dtype_o), path);
  Shape shape;
  for (std::uint32_t i = 0; i < shape_o.via.array.size; ++i) {
    const msgpack::object& d = shape_o.via.array.ptr[i];
    if (d.type != msgpack::type::POSITIVE_INTEGER)
      format_error(path, "the array shape holds " + std::string(kind_name(d)) +
                             " instead of a non-negative integer");
    shape.push_back(static_cast<std::int64_t>(d.via.u64 & 0x7fffffffffffffffULL));
    if (d.via.u64 != static_cast<std::uint64_t>(shape.back()))
      format_error(path, "the array shape holds a dimension above 2^63");
  }
  const std::uint64_t expected = checked_nbytes(shape, itemsize(dtype));
  if (expected == kOverflow)
    format_error(path, "a " + std::string(name(dtype)) + " array of shape " +
                           detail::shape_str(shape) + " has " + kTooLarge);
  if (expected != data_o.via.bin.size)
    format_error(path, "a " + std::string(name(dtype)) + " array of shape " +
                           detail::shape_str(shape) + " needs " + std::to_string(expected) +
                           " bytes but the file holds " + std::to_string(data_o.via.bin.size));
  return array_from_bytes(dtype, shape, data_o.via.bin.ptr);
}

Array weak_scalar(double v, DType dtype) {
  return detail::with_weak(Array::scalar(v, dtype), true);
}

Array decode_leaf(const msgpack::object& o, const std::string& path);
Tree decode_map(const msgpack::object& o, const std::string& path);

/// Entries "0", "1", ... of a _tuple_to_dict map, in index order.
std::vector<const msgpack::object*> index_dict(const msgpack::object& o, const std::string& path,
                                               const char* what) {
  if (o.type != msgpack::type::MAP)
    format_error(path, std::string("the chunked array's \"") + what + "\" is " +
                           std::string(kind_name(o)) + ", not a dict");
  std::vector<const msgpack::object*> items(o.via.map.size, nullptr);
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    const std::string key = kv.key.type == msgpack::type::STR ? std::string(as_text(kv.key)) : "";
    std::size_t index = items.size();
    if (!key.empty() && key.size() <= 10 &&
        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
      index = std::stoull(key);
    if (index >= items.size() || items[index] != nullptr || std::to_string(index) != key)
      format_error(path, std::string("the chunked array's \"") + what +
                             "\" must have the keys \"0\" to \"" +
                             std::to_string(items.size() - 1) + "\" once each");
    items[index] = &kv.val;
  }
  return items;
}

/// A dict holding "__msgpack_chunked_array__" (Flax's _unchunk):
/// concatenate(chunks).reshape(shape).
Array decode_chunked(const msgpack::object& o, const std::string& path) {
  const msgpack::object* shape_o = nullptr;
  const msgpack::object* chunks_o = nullptr;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    if (as_text(kv.key) == "shape") shape_o = &kv.val;
    if (as_text(kv.key) == "chunks") chunks_o = &kv.val;
  }
  if (shape_o == nullptr || chunks_o == nullptr)
    format_error(path, "a chunked array lacks its \"shape\" or \"chunks\" entry");
  Shape shape;
  for (const msgpack::object* d : index_dict(*shape_o, path, "shape")) {
    if (d->type != msgpack::type::POSITIVE_INTEGER || d->via.u64 > (1ULL << 62))
      format_error(path, "the chunked array's shape holds " + std::string(kind_name(*d)) +
                             " instead of a non-negative integer");
    shape.push_back(static_cast<std::int64_t>(d->via.u64));
  }
  std::vector<Array> chunks;
  std::uint64_t total = 0;
  for (const msgpack::object* c : index_dict(*chunks_o, path, "chunks")) {
    if (c->type != msgpack::type::EXT || c->via.ext.type() != kExtNdarray)
      format_error(path, "a chunk of a chunked array is " + std::string(kind_name(*c)) +
                             " instead of an array");
    chunks.push_back(decode_ndarray(*c, path));
    if (chunks.back().dtype() != chunks.front().dtype() || chunks.back().ndim() != 1)
      format_error(path, "the chunks of a chunked array must be 1-d arrays of one dtype");
    total += static_cast<std::uint64_t>(chunks.back().size());
  }
  if (chunks.empty()) format_error(path, "a chunked array has no chunks");
  const DType dtype = chunks.front().dtype();
  const std::uint64_t expected = checked_nbytes(shape, itemsize(dtype));
  if (expected == kOverflow)
    format_error(path, "a chunked " + std::string(name(dtype)) + " array of shape " +
                           detail::shape_str(shape) + " has " + kTooLarge);
  if (expected != total * itemsize(dtype))
    format_error(path, "the chunks of a chunked array hold " + std::to_string(total) +
                           " elements but its shape " + detail::shape_str(shape) + " needs " +
                           std::to_string(expected / itemsize(dtype)));
  const Array out = detail::empty(dtype, shape);
  auto* dst = static_cast<char*>(out.nbytes() ? detail::mutable_raw(out) : nullptr);
  for (const Array& c : chunks) {
    if (c.nbytes() == 0) continue;
    std::memcpy(dst, c.raw_data(), c.nbytes());
    dst += c.nbytes();
  }
  return out;
}

Array decode_leaf(const msgpack::object& o, const std::string& path) {
  switch (o.type) {
    case msgpack::type::EXT:
      if (o.via.ext.type() == kExtNdarray || o.via.ext.type() == kExtNpScalar)
        return decode_ndarray(o, path);
      if (o.via.ext.type() == kExtNativeComplex)
        throw DtypeError("[from_bytes] Leaf " + where(path) +
                         " is a complex number, which jute does not support; save its real and "
                         "imaginary parts as two floats.");
      format_error(path, "the value is msgpack ext type " + std::to_string(o.via.ext.type()) +
                             ", which Flax never writes");
    case msgpack::type::BOOLEAN:
      return weak_scalar(o.via.boolean ? 1.0 : 0.0, bool_);
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
        throw DtypeError("[from_bytes] Leaf " + where(path) + " is the integer " +
                         std::to_string(o.via.u64) + ", which does not fit jute's int32.");
      return weak_scalar(static_cast<double>(o.via.u64), int32);
    case msgpack::type::NEGATIVE_INTEGER:
      if (o.via.i64 < std::numeric_limits<std::int32_t>::min())
        throw DtypeError("[from_bytes] Leaf " + where(path) + " is the integer " +
                         std::to_string(o.via.i64) + ", which does not fit jute's int32.");
      return weak_scalar(static_cast<double>(o.via.i64), int32);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return weak_scalar(o.via.f64, float64);
    default:
      format_error(path, "the value is " + std::string(kind_name(o)) +
                             ", which is not a leaf jute reads (arrays, numbers and booleans)");
  }
}

Tree decode_map(const msgpack::object& o, const std::string& path) {
  std::vector<std::pair<std::string, TreeValue>> entries;
  entries.reserve(o.via.map.size);
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const msgpack::object_kv& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR)
      format_error(path,
                   "a dict key is " + std::string(kind_name(kv.key)) + " instead of a string");
    std::string key(as_text(kv.key));
    std::string child = path.empty() ? key : path + "/" + key;
    if (kv.val.type != msgpack::type::MAP) {
      entries.emplace_back(std::move(key), decode_leaf(kv.val, child));
      continue;
    }
    const msgpack::object_kv* first = kv.val.via.map.ptr;
    const bool chunked = std::any_of(first, first + kv.val.via.map.size, [](const auto& e) {
      return e.key.type == msgpack::type::STR && as_text(e.key) == kChunkMarker;
    });
    if (chunked)
      entries.emplace_back(std::move(key), decode_chunked(kv.val, child));
    else
      entries.emplace_back(std::move(key), decode_map(kv.val, child));
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].first == entries[i - 1].first)
      format_error(path, "the key \"" + entries[i].first + "\" appears twice");
  return Tree::from_entries(std::move(entries));
}

// ---- restoring into a target ------------------------------------------------------------------

std::string key_list(const std::vector<std::string>& keys) {
  std::string s = "[";
  for (std::size_t i = 0; i < keys.size(); ++i) s += (i ? ", \"" : "\"") + keys[i] + "\"";
  return s + "]";
}

std::string at_path(const std::string& path) {
  return path.empty() ? std::string("at the top level") : "under \"" + path + "\"";
}

/// The state's leaf in the target's dtype: the same dtype, or a native number (weak scalar) that
/// converts exactly to a scalar target's dtype (as a Python number takes the dtype of its use).
Array restore_leaf(const Array& target, const Array& state, const std::string& path) {
  if (target.shape() != state.shape())
    throw ShapeError("[from_state_dict] Leaf \"" + path + "\" has shape " +
                     detail::shape_str(state.shape()) + " in the state but the target expects " +
                     detail::shape_str(target.shape()) + "; the checkpoint is of another model.");
  if (target.dtype() == state.dtype())
    return state.weak_type() == target.weak_type() ? state
                                                   : detail::with_weak(state, target.weak_type());
  if (state.weak_type() && state.ndim() == 0) {
    const Array converted = state.astype(target.dtype());
    if (converted.astype(state.dtype()).item<double>() == state.item<double>())
      return detail::with_weak(converted, target.weak_type());
  }
  throw DtypeError("[from_state_dict] Leaf \"" + path + "\" is " +
                   std::string(name(state.dtype())) + " in the state but the target expects " +
                   std::string(name(target.dtype())) +
                   "; convert the state with tree_map and astype first.");
}

Tree restore_tree(const Tree& target, const Tree& state, const RestoreOptions& options,
                  const std::string& path) {
  std::vector<std::string> missing, extra;
  std::vector<std::pair<std::string, TreeValue>> out;
  out.reserve(target.size());
  for (const auto& [key, tv] : target) {
    const std::string child = path.empty() ? key : path + "/" + key;
    const TreeValue* sv = state.find(Path{key});
    if (sv == nullptr) {
      missing.push_back(key);
      out.emplace_back(key, tv);
      continue;
    }
    if (tv.is_tree() != sv->is_tree())
      throw ValueError("[from_state_dict] \"" + child + "\" is " +
                       (sv->is_tree() ? "a sub-tree" : "an array leaf") +
                       " in the state but the target expects " +
                       (tv.is_tree() ? "a sub-tree" : "an array leaf") +
                       "; the checkpoint is of another model.");
    if (tv.is_tree())
      out.emplace_back(key, restore_tree(tv.tree(), sv->tree(), options, child));
    else
      out.emplace_back(key, restore_leaf(tv.array(), sv->array(), child));
  }
  for (const auto& e : state)
    if (target.find(Path{e.key}) == nullptr) extra.push_back(e.key);
  if (!missing.empty() && !options.allow_missing)
    throw MissingKeyError("[from_state_dict] The state lacks the key(s) " + key_list(missing) +
                          " that the target has " + at_path(path) +
                          "; pass RestoreOptions{.allow_missing = true} for a partial restore.");
  if (!extra.empty() && !options.allow_extra)
    throw ExtraKeyError("[from_state_dict] The state has the key(s) " + key_list(extra) +
                        " that the target lacks " + at_path(path) +
                        "; pass RestoreOptions{.allow_extra = true} to ignore them.");
  return Tree::from_entries(std::move(out));
}

}  // namespace

Bytes to_bytes(const Tree& tree, const WriteOptions& options) {
  if (options.max_chunk_bytes == 0)
    throw ValueError("[to_bytes] max_chunk_bytes must be positive.");
  msgpack::sbuffer buf;
  Packer pk(buf);
  pack_tree(pk, tree, "", options);
  const auto* p = reinterpret_cast<const std::uint8_t*>(buf.data());
  return Bytes(p, p + buf.size());
}

Tree from_bytes(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) format_error("", "the data is empty");
  const msgpack::object_handle oh = unpack_all(reinterpret_cast<const char*>(bytes.data()),
                                               bytes.size(), kMaxDepth, "", "the data");
  const msgpack::object& root = oh.get();
  if (root.type != msgpack::type::MAP)
    format_error("", "the data is " + std::string(kind_name(root)) +
                         " instead of a dict (a Flax state dict)");
  for (std::uint32_t i = 0; i < root.via.map.size; ++i)
    if (root.via.map.ptr[i].key.type == msgpack::type::STR &&
        as_text(root.via.map.ptr[i].key) == kChunkMarker)
      format_error("", "the data is one chunked array instead of a dict (a Flax state dict)");
  return decode_map(root, "");
}

Tree from_state_dict(const Tree& target, const Tree& state, const RestoreOptions& options) {
  return restore_tree(target, state, options, "");
}

Tree from_bytes(const Tree& target, std::span<const std::uint8_t> bytes,
                const RestoreOptions& options) {
  return from_state_dict(target, from_bytes(bytes), options);
}

}  // namespace jute::io
