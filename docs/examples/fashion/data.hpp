// fashion/data.hpp — Fashion-MNIST in memory: the four IDX files of a directory (gzip-compressed
// or not) as float images in [0, 1] and int32 labels.
#pragma once

#include <cstdint>
#include <filesystem>

#include "jute/array.hpp"

namespace fashion {

/// Where Debian's `dataset-fashion-mnist` package installs the data.
inline constexpr const char* default_data_dir = "/usr/share/datasets/fashion-mnist";

/// Images f32[N, 28, 28, 1] scaled to [0, 1] (NHWC, as Flax's convolutions take them) and
/// labels i32[N] in 0..9.
struct Split {
  jute::Array images;
  jute::Array labels;
  std::int64_t size() const { return labels.shape(0); }
};

struct FashionMnist {
  Split train;
  Split test;
};

/// The class names, index = label.
inline constexpr const char* class_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                                "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};

/// Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
/// t10k-labels-idx1-ubyte from `dir`, each with or without a `.gz` suffix. `train_limit` /
/// `test_limit` keep only the first examples of a split (0: all). IOError naming the directory
/// or the file and what is wrong with it: a missing directory or file, a truncated or corrupt
/// file, image and label counts that differ.
FashionMnist load_fashion_mnist(const std::filesystem::path& dir, std::int64_t train_limit = 0,
                                std::int64_t test_limit = 0);

}  // namespace fashion
