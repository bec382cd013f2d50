// jute/io/dataset.hpp — in-memory datasets cut into batches, shuffled by a jute random key.
//
//   io::MnistSplit train = io::read_mnist(dir, "train");
//   io::Dataset ds = io::Dataset(Tree{{"image", train.images}, {"label", train.labels}})
//                        .map([](Tree b) { return b.set("image",
//                        io::scale_to_unit(b.get("image"))); });
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const Tree& batch : ds.batches({.batch_size = 128, .drop_remainder = true},
//                                         random::fold_in(key, epoch)))
//       state = train_step(state, batch);
//
// The order of a shuffled epoch is `random::permutation(key, size())`: the same key gives the
// same batches on every machine. See docs/io.md.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <utility>

#include "jute/array.hpp"
#include "jute/tree.hpp"

namespace jute::io {

struct BatchOptions {
  /// Examples per batch (ValueError when < 1).
  std::int64_t batch_size = 32;
  /// Leave out the last, smaller batch (as tf.data's drop_remainder).
  bool drop_remainder = false;
};

class Epoch;

/// Examples along axis 0 of every leaf of a Tree, e.g. {"image": u8[N,28,28], "label": i32[N]}.
/// Immutable: `map` and `take` return new Datasets sharing the arrays.
class Dataset {
 public:
  /// ValueError when the Tree has no leaves, a leaf is 0-d, or the leaves' first dimensions
  /// differ (naming the leaves).
  explicit Dataset(Tree examples);

  /// Number of examples.
  std::int64_t size() const { return size_; }
  const Tree& examples() const { return examples_; }

  /// A Dataset whose batches go through `f` (applied lazily to each batch, after any earlier
  /// map): per-batch normalisation keeps the stored examples small (uint8 images).
  Dataset map(std::function<Tree(Tree)> f) const;
  /// The first `n` examples (all when n >= size(); ValueError when negative).
  Dataset take(std::int64_t n) const;

  /// Number of batches of an epoch.
  std::int64_t num_batches(const BatchOptions& options) const;
  /// The batches in order.
  Epoch batches(const BatchOptions& options) const;
  /// The batches in the order `random::permutation(key, size())`.
  Epoch batches(const BatchOptions& options, const Array& key) const;

 private:
  friend class Epoch;
  Tree examples_;
  std::int64_t size_ = 0;
  std::function<Tree(Tree)> transform_;
};

/// One pass over a Dataset: a range of batch Trees (each leaf's first dimension is the batch's
/// size), built on demand.
class Epoch {
 public:
  class iterator {
   public:
    using value_type = Tree;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;
    using pointer = const Tree*;
    using reference = const Tree&;
    iterator() = default;
    const Tree& operator*() const;
    const Tree* operator->() const { return &**this; }
    iterator& operator++() {
      ++index_;
      current_.reset();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const iterator& o) const { return index_ == o.index_; }

   private:
    friend class Epoch;
    iterator(const Epoch* epoch, std::int64_t index) : epoch_(epoch), index_(index) {}
    const Epoch* epoch_ = nullptr;
    std::int64_t index_ = 0;
    mutable std::optional<Tree> current_;
  };

  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, num_batches_}; }
  /// Number of batches.
  std::int64_t size() const { return num_batches_; }
  /// Batch `i` (IndexError when out of range).
  Tree operator[](std::int64_t i) const;
  /// The example order of this epoch (int32 indices; 0..n-1 when not shuffled).
  const Array& order() const { return order_; }

 private:
  friend class Dataset;
  Epoch(Dataset dataset, BatchOptions options, Array order, bool shuffled);
  Dataset dataset_;
  BatchOptions options_;
  Array order_;
  bool shuffled_;
  std::int64_t num_batches_;
};

/// Integer pixels (e.g. uint8 0..255) as float32 in [0, 1]: x / 255.
Array scale_to_unit(const Array& x);
/// (x - mean) / stddev as float32 (stddev > 0, ValueError otherwise).
Array standardize(const Array& x, double mean, double stddev);
/// The mean and the (population) standard deviation of all elements, computed in float64.
std::pair<double, double> mean_std(const Array& x);

}  // namespace jute::io
