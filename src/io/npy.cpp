// .npy (NumPy's format.py, versions 1-3) and .npz (zip archives through libzip, in memory).
#include "jute/io/npy.hpp"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

#include "core/array_impl.hpp"
#include "io/byte_utils.hpp"
#include "jute/io/checkpoint.hpp"
#include "jute/ops.hpp"

namespace jute::io {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::size_t kAlign = 64;  // numpy's ARRAY_ALIGN
constexpr std::size_t kGrowthAxisMaxDigits = 21;
constexpr std::size_t kMaxRank = 64;

[[noreturn]] void npy_error(const std::string& what, const std::string& why) {
  throw FormatError("[read_npy] " + what + " is not a valid .npy file: " + why + ".");
}

struct NpyHeader {
  DType dtype = float32;
  bool swap = false;  // big-endian values
  bool fortran = false;
  Shape shape;
  std::size_t length = 0;  // bytes before the values
  std::uint64_t data_bytes = 0;
};

/// The Python literal of numpy's header: {'descr': '<f4', 'fortran_order': False, 'shape': (2,)}.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') {
        ++i_;
        break;
      }
      const std::string key = string_literal();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() == '[')
          throw DtypeError("[read_npy] " + what_ +
                           " holds a structured dtype, which jute does not support.");
        descr(string_literal(), h);
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        npy_error(what_, "its header has the unknown key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
    }
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
    if (i_ != s_.size()) npy_error(what_, "its header has stray text after the dict");
    if (!have_descr || !have_order || !have_shape)
      npy_error(what_, "its header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_ws() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++i_;
  }
  void expect(char c) {
    if (peek() != c)
      npy_error(what_, std::string("its header has '") + (peek() ? std::string(1, peek()) : "end") +
                           "' where '" + c + "' belongs");
    ++i_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"')
      npy_error(what_, "its header has a key or descr that is not a string");
    ++i_;
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != q) ++i_;
    if (i_ == s_.size()) npy_error(what_, "its header has an unterminated string");
    return std::string(s_.substr(start, i_++ - start));
  }
  bool boolean() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    npy_error(what_, "its 'fortran_order' is neither True nor False");
  }
  Shape tuple() {
    Shape shape;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        return shape;
      }
      if (peek() < '0' || peek() > '9') npy_error(what_, "its 'shape' is not a tuple of integers");
      std::int64_t d = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (d > (std::int64_t{1} << 56))
          npy_error(what_, "its 'shape' holds a dimension above 2^56");
        d = d * 10 + (s_[i_++] - '0');
      }
      if (peek() == 'L') ++i_;  // Python 2's long literals
      shape.push_back(d);
      if (shape.size() > kMaxRank)
        npy_error(what_, "its 'shape' has more than " + std::to_string(kMaxRank) + " dimensions");
      skip_ws();
      if (peek() == ',')
        ++i_;
      else if (peek() != ')')
        npy_error(what_, "its 'shape' is not a tuple of integers");
    }
  }
  void descr(const std::string& d, NpyHeader& h) {
    struct Known {
      char kind;
      std::size_t size;
      DType dtype;
    };
    constexpr Known known[] = {{'b', 1, bool_},  {'u', 1, uint8},   {'i', 4, int32},
                               {'u', 4, uint32}, {'f', 4, float32}, {'f', 8, float64}};
    if (d.size() >= 3 && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
      const std::string_view digits = std::string_view(d).substr(2);
      if (digits.size() == 1 && digits[0] >= '1' && digits[0] <= '9') {
        const std::size_t size = static_cast<std::size_t>(digits[0] - '0');
        for (const Known& k : known)
          if (k.kind == d[1] && k.size == size) {
            h.dtype = k.dtype;
            h.swap = d[0] == '>' && size > 1;
            return;
          }
      }
    }
    throw DtypeError("[read_npy] " + what_ + " holds dtype '" + d +
                     "', which jute does not support (|b1, |u1, <i4, <u4, <f4, <f8); convert it "
                     "with .astype() before saving.");
  }

  std::string_view s_;
  const std::string& what_;
  std::size_t i_ = 0;
};

std::uint32_t le(const std::uint8_t* p, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t k = n; k-- > 0;) v = (v << 8) | p[k];
  return v;
}

/// The header of .npy bytes, or nullopt while `b` is too short to hold it.
std::optional<NpyHeader> parse_header(std::span<const std::uint8_t> b, const std::string& what) {
  const std::size_t m = std::min(b.size(), kMagic.size());
  if (std::memcmp(b.data(), kMagic.data(), m) != 0)
    npy_error(what, "it does not start with the magic string \\x93NUMPY");
  if (b.size() < 8) return std::nullopt;
  const std::uint8_t major = b[6];
  if (major < 1 || major > 3)
    npy_error(what, "its format version " + std::to_string(major) + "." + std::to_string(b[7]) +
                        " is not 1.0, 2.0 or 3.0");
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (b.size() < 8 + len_size) return std::nullopt;
  const std::size_t hlen = le(&b[8], len_size);
  if (hlen > (std::size_t{1} << 20)) npy_error(what, "its header claims more than 1 MiB");
  const std::size_t start = 8 + len_size;
  if (b.size() < start + hlen) return std::nullopt;
  const std::string_view text(reinterpret_cast<const char*>(&b[start]), hlen);
  NpyHeader h = HeaderParser(text, what).parse();
  h.length = start + hlen;
  h.data_bytes = checked_nbytes(h.shape, itemsize(h.dtype));
  if (h.data_bytes == kOverflow)
    npy_error(what, "its shape " + detail::shape_str(h.shape) + " has " + kTooLarge);
  return h;
}

Array values(const NpyHeader& h, const std::uint8_t* src) {
  Shape shape = h.shape;
  if (h.fortran) std::reverse(shape.begin(), shape.end());
  const Array out = detail::empty(h.dtype, shape);
  const std::size_t n = out.nbytes();
  if (n) {
    auto* dst = static_cast<std::uint8_t*>(detail::mutable_raw(out));
    const std::size_t item = itemsize(h.dtype);
    if (h.dtype == bool_) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] != 0 ? 1 : 0;
    } else if (h.swap) {
      for (std::size_t i = 0; i < n; i += item)
        for (std::size_t k = 0; k < item; ++k) dst[i + k] = src[i + item - 1 - k];
    } else {
      std::memcpy(dst, src, n);
    }
  }
  if (!h.fortran || h.shape.size() < 2) return out;
  return transpose(out);  // column-major data: the transpose of the reversed shape
}

std::string shape_repr(const Shape& s) {  // Python's repr of a tuple of ints
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

std::string_view descr_of(DType t) {
  switch (t) {
    case DType::Bool:
      return "|b1";
    case DType::UInt8:
      return "|u1";
    case DType::Int32:
      return "<i4";
    case DType::UInt32:
      return "<u4";
    case DType::Float32:
      return "<f4";
    case DType::Float64:
      break;
  }
  return "<f8";
}

// ---- zip through libzip ------------------------------------------------------------------------

[[noreturn]] void npz_error(const std::string& what, const std::string& why) {
  throw FormatError("[read_npz] " + what + " is not a valid .npz file: " + why + ".");
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

/// A member read in pieces, failing once it exceeds what its .npy header declares.
Array read_member(zip_t* za, zip_uint64_t index, const std::string& what) {
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(za, index, 0));
  if (!f) npz_error(what, std::string("a member cannot be opened (") + zip_strerror(za) + ")");
  Bytes buf;
  std::optional<NpyHeader> h;
  constexpr std::size_t kStep = std::size_t{1} << 16;
  while (true) {
    const std::size_t before = buf.size();
    buf.resize(before + kStep);
    const zip_int64_t n = zip_fread(f.get(), buf.data() + before, kStep);
    if (n < 0)
      npz_error(what, std::string("a member is damaged (") + zip_file_strerror(f.get()) + ")");
    buf.resize(before + static_cast<std::size_t>(n));
    if (!h) h = parse_header(buf, what);
    if (h && buf.size() > h->length + h->data_bytes)
      npz_error(what, "a member holds more bytes than its .npy header declares");
    if (n == 0) break;
  }
  return parse_npy(buf, what);
}

}  // namespace

Array parse_npy(std::span<const std::uint8_t> bytes, const std::string& what) {
  const std::optional<NpyHeader> h = parse_header(bytes, what);
  if (!h) npy_error(what, "it ends inside its header");
  const std::uint64_t present = bytes.size() - h->length;
  if (present != h->data_bytes)
    npy_error(what, "its header declares " + std::string(name(h->dtype)) + " values of shape " +
                        detail::shape_str(h->shape) + ", " + std::to_string(h->data_bytes) +
                        " bytes, but " + std::to_string(present) + " bytes follow it");
  return values(*h, bytes.data() + h->length);
}

Array read_npy(const std::filesystem::path& file) {
  return parse_npy(read_file(file), file.string());
}

Bytes to_npy(const Array& a) {
  if (a.is_abstract())
    throw ValueError("[to_npy] A shape-only array " + a.type_string() + " has no values to write.");
  std::string header = "{'descr': '" + std::string(descr_of(a.dtype())) +
                       "', 'fortran_order': False, 'shape': " + shape_repr(a.shape()) + ", }";
  if (!a.shape().empty())  // numpy leaves room to grow the first axis in place
    header.append(kGrowthAxisMaxDigits - std::to_string(a.shape()[0]).size(), ' ');
  const std::size_t hlen = header.size() + 1;
  std::size_t len_size = 2;
  std::size_t pad = kAlign - (kMagic.size() + 2 + len_size + hlen) % kAlign;
  std::uint8_t major = 1;
  if (hlen + pad > 0xffff) {
    major = 2;
    len_size = 4;
    pad = kAlign - (kMagic.size() + 2 + len_size + hlen) % kAlign;
  }
  Bytes out(kMagic.begin(), kMagic.end());
  out.push_back(major);
  out.push_back(0);
  const std::size_t total = hlen + pad;
  for (std::size_t k = 0; k < len_size; ++k)
    out.push_back(static_cast<std::uint8_t>(total >> (8 * k)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), pad, ' ');
  out.push_back('\n');
  const auto* p = static_cast<const std::uint8_t*>(a.raw_data());
  out.insert(out.end(), p, p + a.nbytes());
  return out;
}

void write_npy(const std::filesystem::path& file, const Array& a) {
  write_file_atomic(file, to_npy(a));
}

Tree parse_npz(std::span<const std::uint8_t> bytes, const std::string& what) {
  // libzip takes zero bytes for a new, empty archive; numpy's np.load refuses them.
  if (bytes.size() < 22) npz_error(what, "it is shorter than a zip archive's end record");
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) npz_error(what, zip_error_strerror(&err));
  std::unique_ptr<zip_t, ZipCloser> za(zip_open_from_source(src, ZIP_RDONLY, &err));
  if (!za) {
    zip_source_free(src);
    const std::string why = zip_error_strerror(&err);
    zip_error_fini(&err);
    npz_error(what, "it is not a zip archive (" + why + ")");
  }
  const zip_int64_t n = zip_get_num_entries(za.get(), 0);
  std::vector<std::pair<Path, Array>> items;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* raw = zip_get_name(za.get(), static_cast<zip_uint64_t>(i), 0);
    if (raw == nullptr) npz_error(what, "a member has no name");
    const std::string member = raw;
    if (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0) continue;
    Path path;
    const std::string key = member.substr(0, member.size() - 4);
    for (std::size_t start = 0;;) {
      const std::size_t slash = key.find('/', start);
      path.push_back(key.substr(start, slash - start));
      if (path.back().empty())
        npz_error(what, "the member name \"" + member + "\" has an empty part");
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    items.emplace_back(std::move(path), read_member(za.get(), static_cast<zip_uint64_t>(i),
                                                    what + " member " + member));
  }
  try {
    return unflatten_paths(items);
  } catch (const ValueError& e) {
    npz_error(what, std::string("its member names clash (") + e.what() + ")");
  }
}

Tree read_npz(const std::filesystem::path& file) {
  const Bytes bytes = read_file(file);
  return parse_npz(bytes, file.string());
}

Bytes to_npz(const Tree& tree, bool compress) {
  std::vector<std::pair<std::string, Bytes>> members;
  for (const auto& [path, leaf] : flatten(tree)) members.emplace_back(path + ".npy", to_npy(leaf));
  zip_error_t err;
  zip_error_init(&err);
  auto fail = [](const std::string& why) -> void {
    throw IOError("[to_npz] libzip failed: " + why + ".");
  };
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (src == nullptr) fail(zip_error_strerror(&err));
  zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (za == nullptr) {
    zip_source_free(src);
    fail(zip_error_strerror(&err));
  }
  zip_source_keep(src);
  struct SourceFree {
    zip_source_t* s;
    ~SourceFree() { zip_source_free(s); }
  } keep{src};
  for (const auto& [member, data] : members) {
    zip_source_t* s = zip_source_buffer(za, data.data(), data.size(), 0);
    const zip_int64_t idx =
        s ? zip_file_add(za, member.c_str(), s, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
      if (s) zip_source_free(s);
      const std::string why = zip_strerror(za);
      zip_discard(za);
      fail(why);
    }
    const auto u = static_cast<zip_uint64_t>(idx);
    if (zip_set_file_compression(za, u, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(za, u, 0, (1 << 5) | 1, 0) != 0) {  // 1980-01-01 00:00
      const std::string why = zip_strerror(za);
      zip_discard(za);
      fail(why);
    }
  }
  if (zip_close(za) != 0) {
    const std::string why = zip_strerror(za);
    zip_discard(za);
    fail(why);
  }
  if (zip_source_open(src) != 0) fail("cannot reopen the archive in memory");
  Bytes out;
  std::uint8_t chunk[1 << 16];
  zip_int64_t n = 0;
  while ((n = zip_source_read(src, chunk, sizeof chunk)) > 0)
    out.insert(out.end(), chunk, chunk + n);
  zip_source_close(src);
  if (n < 0) fail("cannot read the archive back from memory");
  return out;
}

void write_npz(const std::filesystem::path& file, const Tree& tree, bool compress) {
  write_file_atomic(file, to_npz(tree, compress));
}

}  // namespace jute::io
