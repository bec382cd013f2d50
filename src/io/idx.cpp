// IDX files: the header, big-endian values, and gzip through zlib's inflate on memory (so the
// same code serves files, tests and the fuzzer, and output grows only with real data).
#include "jute/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/array_impl.hpp"
#include "io/byte_utils.hpp"
#include "jute/io/checkpoint.hpp"

namespace jute::io {

namespace {

[[noreturn]] void idx_error(const std::string& what, const std::string& why) {
  throw FormatError("[read_idx] " + what + " is not a valid IDX file: " + why + ".");
}

bool is_gzip(std::span<const std::uint8_t> b) {
  return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

struct ElementType {
  std::uint8_t code;
  std::size_t size;  // bytes per value in the file
  DType dtype;       // jute's dtype
};

constexpr ElementType kTypes[] = {{0x08, 1, uint8}, {0x09, 1, int32},   {0x0B, 2, int32},
                                  {0x0C, 4, int32}, {0x0D, 4, float32}, {0x0E, 8, float64}};

/// The header of IDX data: element type, shape and the header's length; nullopt-like
/// (`complete == false`) while fewer bytes than the header needs are available.
struct Header {
  bool complete = false;
  ElementType type{};
  Shape shape;
  std::size_t length = 0;
  std::uint64_t data_bytes = 0;
};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

Header parse_header(std::span<const std::uint8_t> b, const std::string& what) {
  Header h;
  if (b.size() >= 2 && (b[0] != 0 || b[1] != 0))
    idx_error(what, "it does not start with two zero bytes (the IDX magic number)");
  if (b.size() < 4) return h;
  const auto* t = std::find_if(std::begin(kTypes), std::end(kTypes),
                               [&](const ElementType& e) { return e.code == b[2]; });
  if (t == std::end(kTypes))
    idx_error(what, "its element type code " + std::to_string(b[2]) +
                        " is none of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E");
  if (b[3] == 0) idx_error(what, "its rank is 0");
  h.length = 4 + 4 * std::size_t{b[3]};
  if (b.size() < h.length) return h;
  for (std::size_t d = 0; d < b[3]; ++d) h.shape.push_back(be32(&b[4 + 4 * d]));
  h.type = *t;
  h.data_bytes = checked_nbytes(h.shape, t->size);
  if (h.data_bytes == kOverflow)
    idx_error(what, "its shape " + detail::shape_str(h.shape) + " has " + kTooLarge);
  h.complete = true;
  return h;
}

/// Decompresses gzip data (members one after another, as gzip allows), failing as soon as the
/// output exceeds what the IDX header inside declares.
Bytes gunzip_idx(std::span<const std::uint8_t> in, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) idx_error(what, "zlib cannot start inflating");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  zs.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  Bytes out;
  std::uint64_t limit = kOverflow;  // the header's total once known
  constexpr std::size_t kStep = std::size_t{1} << 16;
  std::size_t consumed = 0;
  while (true) {
    const std::size_t chunk_in = std::min<std::size_t>(in.size() - consumed, 1u << 30);
    zs.next_in = const_cast<Bytef*>(in.data() + consumed);
    zs.avail_in = static_cast<uInt>(chunk_in);
    const std::size_t before = out.size();
    out.resize(before + kStep);
    zs.next_out = out.data() + before;
    zs.avail_out = static_cast<uInt>(kStep);
    const int r = inflate(&zs, Z_NO_FLUSH);
    consumed += chunk_in - zs.avail_in;
    out.resize(before + kStep - zs.avail_out);
    if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
      idx_error(what,
                std::string("its gzip data is corrupt (") + (zs.msg ? zs.msg : "zlib error") + ")");
    if (limit == kOverflow) {
      const Header h = parse_header(out, what);
      if (h.complete) limit = h.length + h.data_bytes;
    }
    if (limit != kOverflow && out.size() > limit)
      idx_error(what, "it holds more values than its header declares");
    if (r == Z_STREAM_END) {
      if (consumed == in.size()) break;
      if (!is_gzip(in.subspan(consumed))) idx_error(what, "stray bytes follow its gzip data");
      inflateReset(&zs);
      continue;
    }
    if (r == Z_BUF_ERROR && zs.avail_in == 0 && consumed == in.size())
      idx_error(what, "its gzip data is truncated");
  }
  return out;
}

Array parse_plain(std::span<const std::uint8_t> b, const std::string& what) {
  const Header h = parse_header(b, what);
  if (!h.complete) idx_error(what, "its header is truncated");
  const std::uint64_t present = b.size() - h.length;
  if (present != h.data_bytes)
    idx_error(what, "its header declares " + detail::shape_str(h.shape) + " values of " +
                        std::to_string(h.type.size) + " byte(s), " + std::to_string(h.data_bytes) +
                        " bytes, but " + std::to_string(present) + " bytes follow it");
  const Array out = detail::empty(h.type.dtype, h.shape);
  const std::uint8_t* src = b.data() + h.length;
  const auto n = static_cast<std::size_t>(out.size());
  if (n == 0) return out;  // no buffer to write (memcpy must not see a null pointer)
  void* dst = detail::mutable_raw(out);
  switch (h.type.code) {
    case 0x08:
      std::memcpy(dst, src, n);
      break;
    case 0x09:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<std::int32_t*>(dst)[i] = static_cast<std::int8_t>(src[i]);
      break;
    case 0x0B:
      for (std::size_t i = 0; i < n; ++i)
        static_cast<std::int32_t*>(dst)[i] =
            static_cast<std::int16_t>((src[2 * i] << 8) | src[2 * i + 1]);
      break;
    case 0x0C:
    case 0x0D:
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t v = be32(src + 4 * i);
        std::memcpy(static_cast<char*>(dst) + 4 * i, &v, 4);
      }
      break;
    default:  // 0x0E
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t v = (std::uint64_t{be32(src + 8 * i)} << 32) | be32(src + 8 * i + 4);
        std::memcpy(static_cast<char*>(dst) + 8 * i, &v, 8);
      }
  }
  return out;
}

Bytes gzip(std::span<const std::uint8_t> in) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw IOError("[to_idx] zlib cannot start compressing.");
  Bytes out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (r != Z_STREAM_END) throw IOError("[to_idx] zlib failed to compress.");
  return out;
}

std::filesystem::path find_mnist_file(const std::filesystem::path& dir, const std::string& name) {
  for (const auto& candidate : {dir / (name + ".gz"), dir / name})
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  throw IOError("[read_mnist] Neither " + (dir / name).string() +
                " nor its .gz exists; the "
                "directory must hold the IDX files of the split (Fashion-MNIST: install "
                "dataset-fashion-mnist).");
}

}  // namespace

Array parse_idx(std::span<const std::uint8_t> bytes, const std::string& what) {
  if (is_gzip(bytes)) {
    const Bytes plain = gunzip_idx(bytes, what);
    return parse_plain(plain, what);
  }
  return parse_plain(bytes, what);
}

Array read_idx(const std::filesystem::path& file) {
  return parse_idx(read_file(file), file.string());
}

Bytes to_idx(const Array& a, bool compress) {
  const auto* t = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const ElementType& e) {
    return e.dtype == a.dtype() && e.size == itemsize(a.dtype());
  });
  if (a.dtype() == bool_ || a.dtype() == uint32 || t == std::end(kTypes))
    throw DtypeError("[to_idx] IDX has no " + std::string(name(a.dtype())) +
                     " values; convert to uint8, int32, float32 or float64 first.");
  if (a.ndim() == 0 || a.ndim() > 255 ||
      std::any_of(a.shape().begin(), a.shape().end(),
                  [](std::int64_t d) { return d > 0xffffffffLL; }))
    throw ShapeError("[to_idx] IDX needs a rank from 1 to 255 and dimensions below 2^32, got " +
                     detail::shape_str(a.shape()) + ".");
  Bytes out{0, 0, t->code, static_cast<std::uint8_t>(a.ndim())};
  for (std::int64_t d : a.shape())
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(d >> s));
  const auto* src = static_cast<const std::uint8_t*>(a.raw_data());
  const std::size_t item = t->size;
  for (std::size_t i = 0; i < a.nbytes(); i += item)
    for (std::size_t k = item; k-- > 0;) out.push_back(src[i + k]);  // to big-endian
  return compress ? gzip(out) : out;
}

void write_idx(const std::filesystem::path& file, const Array& a, bool compress) {
  write_file_atomic(file, to_idx(a, compress));
}

MnistSplit read_mnist(const std::filesystem::path& dir, std::string_view split) {
  const auto images_file = find_mnist_file(dir, std::string(split) + "-images-idx3-ubyte");
  const auto labels_file = find_mnist_file(dir, std::string(split) + "-labels-idx1-ubyte");
  const Array images = read_idx(images_file);
  const Array labels = read_idx(labels_file);
  if (images.ndim() != 3 || images.dtype() != uint8)
    throw FormatError("[read_mnist] " + images_file.string() + " holds " + images.type_string() +
                      " values, not uint8 images (N,H,W).");
  if (labels.ndim() != 1 || labels.dtype() != uint8 || labels.shape(0) != images.shape(0))
    throw FormatError("[read_mnist] " + labels_file.string() + " holds " + labels.type_string() +
                      " values for " + std::to_string(images.shape(0)) + " images in " +
                      images_file.string() + "; it must hold one uint8 label per image.");
  return {images, labels.astype(int32)};
}

}  // namespace jute::io
