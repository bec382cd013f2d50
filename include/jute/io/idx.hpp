// jute/io/idx.hpp — IDX files (the MNIST family: MNIST, Fashion-MNIST, KMNIST, EMNIST), plain
// or gzip-compressed.
//
//   io::MnistSplit train = io::read_mnist("/usr/share/datasets/fashion-mnist", "train");
//   train.images;   // u8[60000,28,28]
//   train.labels;   // i32[60000]
//
// An IDX file is a big-endian header (two zero bytes, an element type code, the rank, then one
// uint32 per dimension) followed by the values, big-endian, row-major. See docs/io.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "jute/array.hpp"
#include "jute/io/serialization.hpp"

namespace jute::io {

/// The values of IDX data held in memory, gzip-compressed or not (detected by the gzip magic
/// bytes). Element types: 0x08 unsigned byte → uint8; 0x09 signed byte, 0x0B int16 and 0x0C
/// int32 → int32 (jute has no 8- or 16-bit signed integers); 0x0D float32; 0x0E float64.
/// FormatError for anything malformed (bad magic, unknown type, a header that declares more or
/// fewer values than the data holds, corrupt gzip); `what` names the data in the message.
/// Memory grows only with data actually present, whatever the header declares.
Array parse_idx(std::span<const std::uint8_t> bytes, const std::string& what = "the IDX data");
/// parse_idx of a file (IOError when it cannot be read).
Array read_idx(const std::filesystem::path& file);
/// The IDX bytes of `a` (uint8 → 0x08, int32 → 0x0C, float32 → 0x0D, float64 → 0x0E; DtypeError
/// for bool and uint32; ShapeError for rank 0 or a dimension above 2^32 - 1), gzip-compressed
/// when `gzip` (deterministic: no file name, no time stamp).
Bytes to_idx(const Array& a, bool gzip = false);
/// to_idx written atomically to `file`.
void write_idx(const std::filesystem::path& file, const Array& a, bool gzip = false);

/// One split of an MNIST-family data set.
struct MnistSplit {
  Array images;  ///< u8[N, H, W] (28x28 for MNIST and Fashion-MNIST)
  Array labels;  ///< i32[N]
  std::int64_t size() const { return labels.shape(0); }
};

/// `<split>-images-idx3-ubyte` and `<split>-labels-idx1-ubyte` of `dir`, each with or without
/// `.gz` (split is "train" or "t10k", or any other prefix the files use). IOError naming the
/// file when one is missing; FormatError when they are not images (N,H,W) and labels (N) of the
/// same N.
MnistSplit read_mnist(const std::filesystem::path& dir, std::string_view split);

}  // namespace jute::io
