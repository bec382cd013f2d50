#include "fashion/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "jute/autodiff.hpp"
#include "jute/errors.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

namespace fashion {

namespace nn = jute::nn;
namespace optim = jute::optim;
using jute::Array;

namespace {

// Stopgap layers with Flax's names, parameters and initializers, until jute/nn/linear.hpp,
// conv.hpp, pooling.hpp and dropout.hpp land.
struct Dense {
  static constexpr const char* name = "Dense";
  std::int64_t features;
  Array operator()(nn::Scope& s, const Array& x) const {
    auto kernel = s.param("kernel", nn::initializers::lecun_normal(), {x.shape(-1), features});
    return jute::matmul(x, kernel) + s.param("bias", nn::initializers::zeros_init(), {features});
  }
};

struct Conv {
  static constexpr const char* name = "Conv";
  std::int64_t features;
  std::int64_t kernel_size = 3;
  Array operator()(nn::Scope& s, const Array& x) const {
    auto kernel = s.param("kernel", nn::initializers::lecun_normal(),
                          {kernel_size, kernel_size, x.shape(-1), features});
    return jute::conv_general_dilated(x, kernel, {1, 1}, "SAME") +
           s.param("bias", nn::initializers::zeros_init(), {features});
  }
};

Array avg_pool_2x2(const Array& x) {
  return jute::reduce_window(x, jute::ReduceOp::Sum, {1, 2, 2, 1}, {1, 2, 2, 1}) * 0.25f;
}

struct Dropout {
  static constexpr const char* name = "Dropout";
  double rate;
  bool deterministic;
  Array operator()(nn::Scope& s, const Array& x) const {
    if (deterministic || rate == 0) return x;
    const double keep = 1.0 - rate;
    const Array mask = jute::random::bernoulli(s.make_rng("dropout"), keep, x.shape());
    return jute::where(mask, x / static_cast<float>(keep), jute::zeros_like(x));
  }
};

Array flatten(const Array& x) { return jute::reshape(x, {x.shape(0), -1}); }

// A stopgap checkpoint store until jute/io/checkpoint.hpp lands: one file per epoch,
// `checkpoint_<epoch>`, written through a temporary file and a rename, the newest `keep` kept.
// The format is private: per leaf its path, dtype, shape and raw bytes (an empty sub-Tree, such
// as an optimizer's EmptyState, is a path with no leaf).
class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path dir, std::int64_t keep)
      : dir_(std::move(dir)), keep_(keep) {}

  std::vector<std::int64_t> epochs() const {
    std::vector<std::int64_t> found;
    if (!std::filesystem::is_directory(dir_)) return found;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && name.find_first_not_of("0123456789", prefix.size()) ==
                                            std::string::npos && name.size() > prefix.size()) {
        found.push_back(std::stoll(name.substr(prefix.size())));
      }
    }
    std::sort(found.begin(), found.end());
    return found;
  }

  void save(std::int64_t epoch, const jute::Tree& tree) const {
    std::filesystem::create_directories(dir_);
    std::string bytes = "jute-fashion-checkpoint 1\n";
    auto put = [&](std::uint64_t v) { bytes.append(reinterpret_cast<const char*>(&v), 8); };
    const auto items = jute::flatten(tree, /*keep_empty_nodes=*/true);
    put(items.size());
    for (const auto& [path, leaf] : items) {
      put(path.size());
      bytes += path;
      if (!leaf.valid()) {
        put(~std::uint64_t{0});
        continue;
      }
      put(static_cast<std::uint64_t>(leaf.dtype()));
      put(static_cast<std::uint64_t>(leaf.ndim()));
      for (std::int64_t d : leaf.shape()) put(static_cast<std::uint64_t>(d));
      bytes.append(static_cast<const char*>(leaf.raw_data()), leaf.nbytes());
    }
    write_text_file(file(epoch), bytes);
    const auto all = epochs();
    for (std::size_t i = 0; i + static_cast<std::size_t>(keep_) < all.size(); ++i) {
      std::filesystem::remove(file(all[i]));
    }
  }

  jute::Tree restore(std::int64_t epoch) const {
    const auto path = file(epoch);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t at = 0;
    auto corrupt = [&] {
      return jute::IOError("[fashion] The checkpoint " + path.string() +
                           " is truncated or corrupt; delete it to resume from the one before.");
    };
    auto take = [&](std::size_t n) {
      if (bytes.size() - at < n) throw corrupt();
      const char* p = bytes.data() + at;
      at += n;
      return p;
    };
    auto get = [&] {
      std::uint64_t v;
      std::memcpy(&v, take(8), 8);
      return v;
    };
    const std::string magic = "jute-fashion-checkpoint 1\n";
    if (std::string(take(magic.size()), magic.size()) != magic) throw corrupt();
    std::vector<std::pair<std::string, Array>> items(get());
    for (auto& [name, leaf] : items) {
      const std::uint64_t length = get();
      name = std::string(take(length), length);
      const std::uint64_t dtype = get();
      if (dtype == ~std::uint64_t{0}) continue;
      if (dtype > static_cast<std::uint64_t>(jute::DType::Float64)) throw corrupt();
      jute::Shape shape(get());
      std::size_t count = 1;
      for (auto& d : shape) {
        d = static_cast<std::int64_t>(get());
        if (d < 0 || d > (std::int64_t{1} << 40)) throw corrupt();
        count *= static_cast<std::size_t>(d);
      }
      const auto type = static_cast<jute::DType>(dtype);
      leaf = Array::from_raw(take(count * jute::itemsize(type)), type, shape, type);
    }
    if (at != bytes.size()) throw corrupt();
    return jute::unflatten(items);
  }

  std::filesystem::path file(std::int64_t epoch) const {
    return dir_ / (prefix + std::to_string(epoch));
  }

 private:
  inline static const std::string prefix = "checkpoint_";
  std::filesystem::path dir_;
  std::int64_t keep_;
};

}  // namespace

// ---- the models ------------------------------------------------------------------------------

Array Mlp::operator()(nn::Scope& s, const Array& images) const {
  Array x = flatten(images);
  x = nn::relu(s.child(Dense{512}, x));
  x = nn::relu(s.child(Dense{256}, x));
  return s.child(Dense{10}, x);
}

Array Cnn::operator()(nn::Scope& s, const Array& images) const {
  Array x = avg_pool_2x2(nn::relu(s.child(Conv{32}, images)));
  x = avg_pool_2x2(nn::relu(s.child(Conv{64}, x)));
  x = nn::relu(s.child(Dense{256}, flatten(x)));
  return s.child(Dense{10}, x);
}

Array CnnBn::operator()(nn::Scope& s, const Array& images) const {
  const nn::BatchNorm bn{.use_running_average = !train, .momentum = 0.9};
  Array x = avg_pool_2x2(nn::relu(s.child(bn, s.child(Conv{32}, images))));
  x = avg_pool_2x2(nn::relu(s.child(bn, s.child(Conv{64}, x))));
  x = nn::relu(s.child(bn, s.child(Dense{256}, flatten(x))));
  x = s.child(Dropout{.rate = dropout_rate, .deterministic = !train}, x);
  return s.child(Dense{10}, x);
}

std::string to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::mlp: return "mlp";
    case ModelKind::cnn: return "cnn";
    case ModelKind::cnn_bn: return "cnn-bn";
  }
  return "?";
}

std::string to_string(OptimizerKind kind) {
  return kind == OptimizerKind::sgd ? "sgd" : "adamw";
}

namespace {
std::variant<Mlp, Cnn, CnnBn> make_module(ModelKind kind, bool train) {
  switch (kind) {
    case ModelKind::mlp: return Mlp{.train = train};
    case ModelKind::cnn: return Cnn{.train = train};
    case ModelKind::cnn_bn: return CnnBn{.train = train};
  }
  throw jute::ValueError("[fashion] Unknown model kind.");
}
}  // namespace

Model::Model(ModelKind kind)
    : kind_(kind), train_(make_module(kind, true)), eval_(make_module(kind, false)) {}

jute::Variables Model::init(const Array& key, const Array& images) const {
  return std::visit([&](const auto& m) { return nn::init(m, key, images); }, eval_);
}

nn::ApplyResult<Array> Model::apply(const jute::Variables& vars, const Array& images, bool train,
                                    const Array& dropout_key) const {
  if (!train) {
    return std::visit([&](const auto& m) { return nn::apply(m, vars, images); }, eval_);
  }
  nn::ApplyOptions options{.mutable_ = {"batch_stats"}};
  if (dropout_key.valid()) options.rngs = {{"dropout", dropout_key}};
  return std::visit([&](const auto& m) { return nn::apply(m, vars, images, options); }, train_);
}

std::string Model::tabulate(const Array& key, const Array& images) const {
  return std::visit([&](const auto& m) { return nn::tabulate(m, key, images); }, eval_);
}

// ---- one step --------------------------------------------------------------------------------

StepOut train_step(const Model& model, const optim::TrainState& state, const Batch& batch,
                   const Array& key) {
  auto loss_fn = [&](const jute::Tree& params) {
    auto [logits, updated] =
        model.apply(state.variables().with_collection("params", params), batch.images,
                    /*train=*/true, key);
    Array loss = jute::mean(nn::softmax_cross_entropy_with_integer_labels(logits, batch.labels));
    return std::pair{loss, jute::Tree{{"logits", logits}, {"updated", jute::Tree(updated)}}};
  };
  auto [loss, aux, grads] = jute::value_and_grad_with_aux(loss_fn)(state.params());
  jute::Tree metrics{{"loss", loss},
                     {"accuracy", nn::accuracy(aux.get("logits"), batch.labels)}};
  return {state.apply_gradients(grads, aux.subtree("updated")), metrics};
}

EvalMetrics evaluate(const Model& model, const optim::TrainState& state, const Split& split,
                     std::int64_t batch_size) {
  const jute::Variables vars = state.variables();
  const std::int64_t n = split.size();
  double loss_sum = 0, correct = 0;
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const std::int64_t stop = std::min(start + batch_size, n);
    const Array images = jute::slice_axis(split.images, 0, start, stop);
    const Array labels = jute::slice_axis(split.labels, 0, start, stop);
    const Array logits = model.apply(vars, images, /*train=*/false).output;
    const auto count = static_cast<double>(stop - start);
    loss_sum += jute::sum(nn::softmax_cross_entropy_with_integer_labels(logits, labels))
                    .item<double>();
    correct += nn::accuracy(logits, labels).item<double>() * count;
  }
  return {loss_sum / static_cast<double>(n), correct / static_cast<double>(n)};
}

// ---- the loop --------------------------------------------------------------------------------

double peak_learning_rate(const Config& config) {
  if (config.learning_rate > 0) return config.learning_rate;
  return config.optimizer == OptimizerKind::sgd ? 0.05 : 1e-3;
}

optim::GradientTransformation make_optimizer(const Config& config,
                                             std::int64_t steps_per_epoch) {
  const std::int64_t total = std::max<std::int64_t>(config.epochs * steps_per_epoch, 2);
  const std::int64_t warmup = std::clamp<std::int64_t>(
      std::llround(config.warmup_epochs * static_cast<double>(steps_per_epoch)), 0, total - 1);
  const auto schedule =
      optim::warmup_cosine_decay_schedule(0.0, peak_learning_rate(config), warmup, total);
  if (config.optimizer == OptimizerKind::sgd) {
    return optim::sgd(schedule, {.momentum = config.momentum});
  }
  return optim::adamw(schedule, {.weight_decay = config.weight_decay});
}

namespace {

/// The batch of `step` in an epoch: rows perm[step·B, (step+1)·B) of the split.
Batch batch_at(const Split& split, const Array& perm, std::int64_t step, std::int64_t batch_size) {
  const Array rows = jute::slice_axis(perm, 0, step * batch_size, (step + 1) * batch_size);
  return {jute::take(split.images, rows, 0), jute::take(split.labels, rows, 0)};
}

/// The metrics of the epochs so far as float64 columns, stored in the checkpoint so that a
/// resumed run writes the whole history to metrics.csv.
jute::Tree history_tree(const std::vector<EpochMetrics>& history) {
  std::vector<double> columns[6];
  for (const auto& m : history) {
    const double row[6] = {static_cast<double>(m.epoch), m.train_loss, m.train_accuracy,
                           m.test_loss, m.test_accuracy, m.seconds};
    for (int c = 0; c < 6; ++c) columns[c].push_back(row[c]);
  }
  const auto n = static_cast<std::int64_t>(history.size());
  auto column = [&](int c) { return Array::from_vector(columns[c], {n}, jute::float64); };
  return {{"epoch", column(0)},     {"train_loss", column(1)}, {"train_accuracy", column(2)},
          {"test_loss", column(3)}, {"test_accuracy", column(4)}, {"seconds", column(5)}};
}

std::vector<EpochMetrics> history_from_tree(const jute::Tree& tree) {
  auto column = [&](const char* name) { return tree.get(name).to_vector<double>(); };
  const auto epoch = column("epoch"), train_loss = column("train_loss"),
             train_accuracy = column("train_accuracy"), test_loss = column("test_loss"),
             test_accuracy = column("test_accuracy"), seconds = column("seconds");
  std::vector<EpochMetrics> history;
  for (std::size_t i = 0; i < epoch.size(); ++i) {
    history.push_back({static_cast<std::int64_t>(epoch[i]), train_loss[i], train_accuracy[i],
                       test_loss[i], test_accuracy[i], seconds[i]});
  }
  return history;
}

/// The state and history of the latest checkpoint, checked against the freshly initialized
/// state: a checkpoint of another model or optimizer is a ValueError naming the first
/// difference.
void restore_latest(const CheckpointStore& store, const Config& config,
                    optim::TrainState& state, std::vector<EpochMetrics>& history) {
  const auto epochs = store.epochs();
  if (epochs.empty()) {
    throw jute::IOError("[fashion] --resume found no checkpoint in " +
                        store.file(0).parent_path().string() +
                        "; check --out, or start a new run without --resume.");
  }
  const jute::Tree saved = store.restore(epochs.back());
  const jute::Tree expected = state.to_tree();
  const std::string difference = jute::structure_difference(expected, saved.subtree("state"));
  if (!difference.empty()) {
    throw jute::ValueError("[fashion] The checkpoint " + store.file(epochs.back()).string() +
                           " does not fit --model " + to_string(config.model) +
                           " --optimizer " + to_string(config.optimizer) + " (" + difference +
                           "); resume with the options of the run that wrote it.");
  }
  for (const auto& [path, leaf] : jute::flatten(expected)) {
    const Array& got = saved.subtree("state").get(path);
    if (got.shape() != leaf.shape() || got.dtype() != leaf.dtype()) {
      throw jute::ValueError("[fashion] The checkpoint " + store.file(epochs.back()).string() +
                             " holds " + path + " as " + got.type_string() +
                             " where the model has " + leaf.type_string() +
                             "; resume with the options of the run that wrote it.");
    }
  }
  state = optim::TrainState::from_tree(saved.subtree("state"), state.tx());
  history = history_from_tree(saved.subtree("history"));
}

void check_config(const Config& c) {
  if (c.epochs < 1 || c.batch_size < 1 || c.keep_checkpoints < 1 || c.stop_after < 0 ||
      c.train_limit < 0 || c.test_limit < 0 || c.warmup_epochs < 0 || c.learning_rate < 0) {
    throw jute::ValueError(
        "[fashion] epochs, batch size and kept checkpoints must be positive and the limits, "
        "warmup and learning rate not negative.");
  }
}

}  // namespace

RunResult train(const Config& config) {
  check_config(config);
  return train(config, load_fashion_mnist(config.data_dir, config.train_limit, config.test_limit));
}

RunResult train(const Config& config, const FashionMnist& data) {
  check_config(config);
  std::ostream& log = *config.log;
  const Split& train_split = data.train;
  const std::int64_t steps_per_epoch = train_split.size() / config.batch_size;
  if (steps_per_epoch == 0) {
    throw jute::ValueError("[fashion] The training split has " +
                           std::to_string(train_split.size()) +
                           " examples, fewer than one batch of " +
                           std::to_string(config.batch_size) + "; lower --batch-size.");
  }

  // Every random choice derives from the seed: init, the shuffles (one per epoch) and the
  // dropout masks (one key per step), so a resumed run replays the same bits.
  namespace jr = jute::random;
  const Array root = jr::key(config.seed);
  const Array init_key = jr::fold_in(root, 0);
  const Array shuffle_key = jr::fold_in(root, 1);
  const Array dropout_key = jr::fold_in(root, 2);

  const Model model(config.model);
  const Array sample = jute::slice_axis(train_split.images, 0, 0, 1);
  if (config.print_table) log << model.tabulate(init_key, sample) << "\n";

  const jute::Variables vars = model.init(init_key, sample);
  const auto tx = make_optimizer(config, steps_per_epoch);
  auto state = optim::TrainState::create(vars.collection("params"), tx,
                                         vars.without_collection("params"));
  std::vector<EpochMetrics> history;

  const CheckpointStore checkpoints(config.out_dir / "checkpoints", config.keep_checkpoints);
  if (config.resume) {
    restore_latest(checkpoints, config, state, history);
    log << "resumed from " << checkpoints.file(static_cast<std::int64_t>(history.size())).string()
        << " (epoch " << history.size() << " of " << config.epochs << ")\n";
  } else if (!checkpoints.epochs().empty()) {
    log << "starting a new run in " << config.out_dir.string()
        << ": its earlier checkpoints are replaced (--resume continues a run)\n";
    for (std::int64_t epoch : checkpoints.epochs()) std::filesystem::remove(checkpoints.file(epoch));
  }
  std::filesystem::create_directories(config.out_dir);
  const std::int64_t first_epoch = static_cast<std::int64_t>(history.size());
  const std::int64_t last_epoch =
      config.stop_after > 0 ? std::min(config.epochs, first_epoch + config.stop_after)
                            : config.epochs;

  for (std::int64_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const Array perm = jr::permutation(jr::fold_in(shuffle_key, static_cast<std::uint32_t>(epoch)),
                                       train_split.size());
    ProgressBar bar(log, config.progress, epoch + 1, config.epochs, steps_per_epoch);
    double loss_sum = 0, accuracy_sum = 0;
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t global_step = epoch * steps_per_epoch + step;
      auto [next, metrics] =
          train_step(model, state, batch_at(train_split, perm, step, config.batch_size),
                     jr::fold_in(dropout_key, static_cast<std::uint32_t>(global_step)));
      state = std::move(next);
      loss_sum += metrics.get("loss").item<double>();
      accuracy_sum += metrics.get("accuracy").item<double>();
      const auto done = static_cast<double>(step + 1);
      bar.update(step + 1, loss_sum / done, accuracy_sum / done);
    }
    bar.finish();
    const EvalMetrics test = evaluate(model, state, data.test);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto steps = static_cast<double>(steps_per_epoch);
    history.push_back({epoch + 1, loss_sum / steps, accuracy_sum / steps, test.loss,
                       test.accuracy, seconds});
    write_metrics_csv(config.out_dir / "metrics.csv", history);
    write_text_file(config.out_dir / "curves.svg",
                    plot_svg(history, "Fashion-MNIST, " + to_string(config.model) + ", " +
                                          to_string(config.optimizer)));
    checkpoints.save(epoch + 1,
                     jute::Tree{{"state", state.to_tree()}, {"history", history_tree(history)}});
    log << summary_line(history.back(), config.epochs) << "\n" << std::flush;
  }
  return {state, history};
}

}  // namespace fashion
