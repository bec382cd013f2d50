// Datasets: batches cut with slice_axis (in order) or take (shuffled by random::permutation).
#include "jute/io/dataset.hpp"

#include <cmath>

#include "jute/ops.hpp"
#include "jute/random.hpp"

namespace jute::io {

Dataset::Dataset(Tree examples) : examples_(std::move(examples)) {
  const auto items = flatten_paths(examples_);
  if (items.empty())
    throw ValueError(
        "[Dataset] The examples Tree has no leaves; give it arrays such as "
        "{\"image\": u8[N,28,28], \"label\": i32[N]}.");
  auto joined = [](const Path& p) {
    std::string s;
    for (const auto& k : p) s += (s.empty() ? "" : "/") + k;
    return s;
  };
  for (const auto& [path, leaf] : items) {
    if (leaf.ndim() == 0)
      throw ValueError("[Dataset] Leaf \"" + joined(path) +
                       "\" is a scalar; every leaf needs a first axis of examples.");
    if (leaf.shape(0) != items.front().second.shape(0))
      throw ValueError("[Dataset] Leaf \"" + joined(path) + "\" " + leaf.type_string() +
                       " has another number of examples than \"" + joined(items.front().first) +
                       "\" " + items.front().second.type_string() +
                       "; every leaf needs the same first dimension.");
  }
  size_ = items.front().second.shape(0);
}

Dataset Dataset::map(std::function<Tree(Tree)> f) const {
  Dataset d = *this;
  if (transform_)
    d.transform_ = [first = transform_, f = std::move(f)](Tree t) {
      return f(first(std::move(t)));
    };
  else
    d.transform_ = std::move(f);
  return d;
}

Dataset Dataset::take(std::int64_t n) const {
  if (n < 0) throw ValueError("[Dataset.take] n must be >= 0, got " + std::to_string(n) + ".");
  if (n >= size_) return *this;
  Dataset d = *this;
  d.examples_ = tree_map([n](const Array& a) { return slice_axis(a, 0, 0, n); }, examples_);
  d.size_ = n;
  return d;
}

std::int64_t Dataset::num_batches(const BatchOptions& options) const {
  if (options.batch_size < 1)
    throw ValueError("[Dataset.batches] batch_size must be >= 1, got " +
                     std::to_string(options.batch_size) + ".");
  return options.drop_remainder ? size_ / options.batch_size
                                : (size_ + options.batch_size - 1) / options.batch_size;
}

Epoch Dataset::batches(const BatchOptions& options) const {
  num_batches(options);  // validates
  return Epoch(*this, options, arange(size_), false);
}

Epoch Dataset::batches(const BatchOptions& options, const Array& key) const {
  num_batches(options);
  return Epoch(*this, options, random::permutation(key, size_), true);
}

Epoch::Epoch(Dataset dataset, BatchOptions options, Array order, bool shuffled)
    : dataset_(std::move(dataset)),
      options_(options),
      order_(std::move(order)),
      shuffled_(shuffled),
      num_batches_(dataset_.num_batches(options_)) {}

Tree Epoch::operator[](std::int64_t i) const {
  if (i < 0 || i >= num_batches_)
    throw IndexError("[Epoch] Batch " + std::to_string(i) + " is out of range for an epoch of " +
                     std::to_string(num_batches_) + " batches.");
  const std::int64_t start = i * options_.batch_size;
  const std::int64_t stop = std::min(start + options_.batch_size, dataset_.size_);
  Tree batch;
  if (shuffled_) {
    const Array idx = slice_axis(order_, 0, start, stop);
    batch = tree_map([&](const Array& a) { return take(a, idx, 0); }, dataset_.examples_);
  } else {
    batch =
        tree_map([&](const Array& a) { return slice_axis(a, 0, start, stop); }, dataset_.examples_);
  }
  return dataset_.transform_ ? dataset_.transform_(std::move(batch)) : batch;
}

const Tree& Epoch::iterator::operator*() const {
  if (!current_) current_ = (*epoch_)[index_];
  return *current_;
}

Array scale_to_unit(const Array& x) { return x.astype(float32) / 255.0f; }

Array standardize(const Array& x, double mean, double stddev) {
  if (!(stddev > 0))
    throw ValueError("[standardize] stddev must be positive, got " + std::to_string(stddev) + ".");
  return (x.astype(float32) - static_cast<float>(mean)) / static_cast<float>(stddev);
}

std::pair<double, double> mean_std(const Array& x) {
  if (x.size() == 0) throw ValueError("[mean_std] The array is empty.");
  return visit_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(x.raw_data());
    const auto n = static_cast<std::size_t>(x.size());
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(p[i]);
    const double mean = sum / static_cast<double>(n);
    double sq = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(p[i]) - mean;
      sq += d * d;
    }
    return std::pair{mean, std::sqrt(sq / static_cast<double>(n))};
  });
}

}  // namespace jute::io
