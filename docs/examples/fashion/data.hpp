// fashion/data.hpp — Fashion-MNIST as two jute::io::Datasets: the four IDX files of a directory
// (gzip-compressed or not), images kept as bytes and scaled to [0, 1] batch by batch.
#pragma once

#include <cstdint>
#include <filesystem>

#include "jute/io/dataset.hpp"

namespace fashion {

/// Where Debian's `dataset-fashion-mnist` package installs the data.
inline constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

/// Each Dataset's examples are {"image": u8[N, 28, 28, 1], "label": i32[N]} and its batches
/// {"image": f32[B, 28, 28, 1] in [0, 1] (NHWC, as Flax's convolutions take them),
///  "label": i32[B] in 0..9}.
struct FashionMnist {
  jute::io::Dataset train;
  jute::io::Dataset test;
};

/// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
/// t10k-labels-idx1-ubyte from `dir`, each with or without a `.gz` suffix
/// (jute::io::read_mnist). `train_limit` / `test_limit` keep only the first examples of a split
/// (0: all). IOError when the directory or a file is missing (saying how to get the data);
/// io::FormatError (an IOError) naming the file when one is truncated or corrupt, or when the
/// images are not 28×28 or a label is outside 0..9.
FashionMnist load_fashion_mnist(const std::filesystem::path& dir, std::int64_t train_limit = 0,
                                std::int64_t test_limit = 0);

}  // namespace fashion
