#include "fashion/data.hpp"

#include <string>

#include "jute/errors.hpp"
#include "jute/io/idx.hpp"
#include "jute/ops.hpp"

namespace fashion {

namespace {

jute::io::Dataset load_split(const std::filesystem::path& dir, const std::string& split,
                             std::int64_t limit) {
  const jute::io::MnistSplit raw = jute::io::read_mnist(dir, split);
  const auto file = (dir / (split + "-images-idx3-ubyte")).string();
  if (raw.images.shape(1) != 28 || raw.images.shape(2) != 28) {
    throw jute::io::FormatError("[fashion] " + file + " holds images of shape " +
                                jute::detail::shape_str(raw.images.shape()) +
                                ", not 28x28 (N,28,28); check the --data directory.");
  }
  if (raw.size() > 0 &&
      (jute::min(raw.labels).item<int>() < 0 || jute::max(raw.labels).item<int>() > 9)) {
    throw jute::io::FormatError("[fashion] The labels of " + file +
                                " are not all in 0..9; Fashion-MNIST has 10 classes.");
  }
  const jute::Array images = jute::reshape(raw.images, {raw.size(), 28, 28, 1});
  jute::io::Dataset dataset(jute::Tree{{"image", images}, {"label", raw.labels}});
  if (limit > 0) dataset = dataset.take(limit);
  return dataset.map([](jute::Tree batch) {
    return batch.set("image", jute::io::scale_to_unit(batch.get("image")));
  });
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
