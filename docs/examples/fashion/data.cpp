#include "fashion/data.hpp"

#include <zlib.h>

#include <string>
#include <vector>

#include "jute/errors.hpp"
#include "jute/ops.hpp"

namespace fashion {

namespace {

// A stopgap IDX reader until jute/io/idx.hpp lands: the whole file through zlib (which reads
// uncompressed files too), the big-endian header, then the uint8 values.
struct Idx {
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> values;
};

Idx read_idx(const std::filesystem::path& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  if (f == nullptr) throw jute::IOError("[fashion] Cannot open " + file.string() + ".");
  std::vector<std::uint8_t> bytes;
  std::uint8_t buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  int err = Z_OK;
  const char* what = gzerror(f, &err);
  const std::string message = what ? what : "";
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_BUF_ERROR)) {
    throw jute::IOError("[fashion] " + file.string() + " is corrupt (" + message +
                        "); download it again or reinstall dataset-fashion-mnist.");
  }
  auto bad = [&](const std::string& why) {
    return jute::IOError("[fashion] " + file.string() + " is not a valid IDX file: " + why +
                         "; download it again or reinstall dataset-fashion-mnist.");
  };
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) throw bad("bad magic number");
  if (bytes[2] != 0x08) throw bad("its values are not unsigned bytes");
  const std::size_t ndim = bytes[3];
  if (ndim == 0 || bytes.size() < 4 + 4 * ndim) throw bad("the header is truncated");
  Idx idx;
  std::size_t count = 1;
  for (std::size_t d = 0; d < ndim; ++d) {
    const std::uint8_t* p = &bytes[4 + 4 * d];
    const std::int64_t size = (std::int64_t{p[0]} << 24) | (std::int64_t{p[1]} << 16) |
                              (std::int64_t{p[2]} << 8) | std::int64_t{p[3]};
    idx.shape.push_back(size);
    count *= static_cast<std::size_t>(size);
  }
  const std::size_t offset = 4 + 4 * ndim;
  if (bytes.size() - offset != count) {
    throw bad("the header promises " + std::to_string(count) + " values but the file holds " +
              std::to_string(bytes.size() - offset));
  }
  idx.values.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset), bytes.end());
  return idx;
}

std::filesystem::path find_file(const std::filesystem::path& dir, const std::string& name) {
  for (const auto& candidate : {dir / (name + ".gz"), dir / name}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  throw jute::IOError("[fashion] " + (dir / (name + ".gz")).string() +
                      " is missing; the data directory must hold the four Fashion-MNIST IDX "
                      "files (optionally .gz).");
}

Split load_split(const std::filesystem::path& dir, const std::string& prefix,
                 std::int64_t limit) {
  const auto images_file = find_file(dir, prefix + "-images-idx3-ubyte");
  const auto labels_file = find_file(dir, prefix + "-labels-idx1-ubyte");
  const Idx images = read_idx(images_file);
  const Idx labels = read_idx(labels_file);
  if (images.shape.size() != 3 || images.shape[1] != 28 || images.shape[2] != 28) {
    throw jute::IOError("[fashion] " + images_file.string() + " holds values of shape " +
                        jute::detail::shape_str(images.shape) +
                        ", not 28x28 images (N,28,28); check the --data directory.");
  }
  if (labels.shape.size() != 1 || labels.shape[0] != images.shape[0]) {
    throw jute::IOError("[fashion] " + labels_file.string() + " holds labels of shape " +
                        jute::detail::shape_str(labels.shape) + " for " +
                        std::to_string(images.shape[0]) + " images in " + images_file.string() +
                        "; the two files must come from the same split.");
  }
  for (std::uint8_t l : labels.values) {
    if (l > 9) {
      throw jute::IOError("[fashion] " + labels_file.string() + " holds the label " +
                          std::to_string(l) + "; Fashion-MNIST labels are 0..9.");
    }
  }
  std::int64_t n = images.shape[0];
  if (limit > 0) n = std::min(n, limit);
  const auto pixels = jute::Array::from_raw(images.values.data(), jute::uint8, {n, 28, 28, 1},
                                            jute::float32);
  return {pixels / 255.0f,
          jute::Array::from_raw(labels.values.data(), jute::uint8, {n}, jute::int32)};
}

}  // namespace

FashionMnist load_fashion_mnist(const std::filesystem::path& dir, std::int64_t train_limit,
                                std::int64_t test_limit) {
  if (!std::filesystem::is_directory(dir)) {
    throw jute::IOError("[fashion] The data directory " + dir.string() +
                        " does not exist; install Debian's dataset-fashion-mnist "
                        "(scripts/setup.sh) or pass --data DIR with the four IDX files.");
  }
  return {load_split(dir, "train", train_limit), load_split(dir, "t10k", test_limit)};
}

}  // namespace fashion
