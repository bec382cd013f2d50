#include "fashion/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "jute/autodiff.hpp"
#include "jute/errors.hpp"
#include "jute/io/checkpoint.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

namespace fashion {

namespace nn = jute::nn;
namespace optim = jute::optim;
using jute::Array;

namespace {
Array flatten(const Array& x) { return jute::reshape(x, {x.shape(0), -1}); }
Array avg_pool_2x2(const Array& x) { return nn::avg_pool(x, {2, 2}, {2, 2}); }
}  // namespace

// ---- the models ------------------------------------------------------------------------------

Array Mlp::operator()(nn::Scope& s, const Array& images) const {
  Array x = flatten(images);
  x = nn::relu(s.child(nn::Dense{.features = 512}, x));
  x = nn::relu(s.child(nn::Dense{.features = 256}, x));
  return s.child(nn::Dense{.features = 10}, x);
}

namespace {
const nn::Conv conv32{.features = 32, .kernel_size = {3, 3}};
const nn::Conv conv64{.features = 64, .kernel_size = {3, 3}};
}  // namespace

Array Cnn::operator()(nn::Scope& s, const Array& images) const {
  Array x = avg_pool_2x2(nn::relu(s.child(conv32, images)));
  x = avg_pool_2x2(nn::relu(s.child(conv64, x)));
  x = nn::relu(s.child(nn::Dense{.features = 256}, flatten(x)));
  return s.child(nn::Dense{.features = 10}, x);
}

Array CnnBn::operator()(nn::Scope& s, const Array& images) const {
  const nn::BatchNorm bn{.use_running_average = !train, .momentum = 0.9};
  Array x = avg_pool_2x2(nn::relu(s.child(bn, s.child(conv32, images))));
  x = avg_pool_2x2(nn::relu(s.child(bn, s.child(conv64, x))));
  x = nn::relu(s.child(bn, s.child(nn::Dense{.features = 256}, flatten(x))));
  x = s.child(nn::Dropout{.rate = dropout_rate, .deterministic = !train}, x);
  return s.child(nn::Dense{.features = 10}, x);
}

std::string to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::mlp:
      return "mlp";
    case ModelKind::cnn:
      return "cnn";
    case ModelKind::cnn_bn:
      return "cnn-bn";
  }
  return "?";
}

std::string to_string(OptimizerKind kind) { return kind == OptimizerKind::sgd ? "sgd" : "adamw"; }

namespace {
std::variant<Mlp, Cnn, CnnBn> make_module(ModelKind kind, bool train) {
  switch (kind) {
    case ModelKind::mlp:
      return Mlp{.train = train};
    case ModelKind::cnn:
      return Cnn{.train = train};
    case ModelKind::cnn_bn:
      return CnnBn{.train = train};
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
  jute::Tree metrics{{"loss", loss}, {"accuracy", nn::accuracy(aux.get("logits"), batch.labels)}};
  return {state.apply_gradients(grads, aux.subtree("updated")), metrics};
}

EvalMetrics evaluate(const Model& model, const optim::TrainState& state,
                     const jute::io::Dataset& data, std::int64_t batch_size) {
  const jute::Variables vars = state.variables();
  double loss_sum = 0, correct = 0;
  for (const jute::Tree& batch : data.batches({.batch_size = batch_size})) {
    const Array& labels = batch.get("label");
    const Array logits = model.apply(vars, batch.get("image"), /*train=*/false).output;
    loss_sum +=
        jute::sum(nn::softmax_cross_entropy_with_integer_labels(logits, labels)).item<double>();
    correct += nn::accuracy(logits, labels).item<double>() * static_cast<double>(labels.size());
  }
  const auto n = static_cast<double>(data.size());
  return {loss_sum / n, correct / n};
}

// ---- the loop --------------------------------------------------------------------------------

double peak_learning_rate(const Config& config) {
  if (config.learning_rate > 0) return config.learning_rate;
  return config.optimizer == OptimizerKind::sgd ? 0.05 : 1e-3;
}

optim::GradientTransformation make_optimizer(const Config& config, std::int64_t steps_per_epoch) {
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

/// The metrics of the epochs so far as float64 columns, stored in the checkpoint so that a
/// resumed run writes the whole history to metrics.csv.
jute::Tree history_tree(const std::vector<EpochMetrics>& history) {
  std::vector<double> columns[6];
  for (const auto& m : history) {
    const double row[6] = {static_cast<double>(m.epoch),
                           m.train_loss,
                           m.train_accuracy,
                           m.test_loss,
                           m.test_accuracy,
                           m.seconds};
    for (int c = 0; c < 6; ++c) columns[c].push_back(row[c]);
  }
  const auto n = static_cast<std::int64_t>(history.size());
  auto column = [&](int c) { return Array::from_vector(columns[c], {n}, jute::float64); };
  return {{"epoch", column(0)},     {"train_loss", column(1)},    {"train_accuracy", column(2)},
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
void restore_latest(const jute::io::CheckpointManager& checkpoints, const Config& config,
                    optim::TrainState& state, std::vector<EpochMetrics>& history) {
  const auto latest = checkpoints.latest_step();
  if (!latest) {
    throw jute::io::NoCheckpointError("[fashion] --resume found no checkpoint in " +
                                      checkpoints.directory().string() +
                                      "; check --out, or start a new run without --resume.");
  }
  const jute::Tree saved = checkpoints.restore(*latest);
  jute::Tree restored;
  try {
    restored = jute::io::from_state_dict(state.to_tree(), saved.subtree("state"));
  } catch (const std::logic_error& e) {  // the restore's KeyError, ShapeError, DtypeError...
    throw jute::ValueError("[fashion] The checkpoint " + checkpoints.path_of(*latest).string() +
                           " does not fit --model " + to_string(config.model) + " --optimizer " +
                           to_string(config.optimizer) + " (" + e.what() +
                           "); resume with the options of the run that wrote it.");
  }
  state = optim::TrainState::from_tree(restored, state.tx());
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
  const jute::io::BatchOptions batching{.batch_size = config.batch_size, .drop_remainder = true};
  const std::int64_t steps_per_epoch = data.train.num_batches(batching);
  if (steps_per_epoch == 0) {
    throw jute::ValueError("[fashion] The training split has " + std::to_string(data.train.size()) +
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
  const Array sample = data.train.take(1).batches({.batch_size = 1})[0].get("image");
  if (config.print_table) log << model.tabulate(init_key, sample) << "\n";

  const jute::Variables vars = model.init(init_key, sample);
  const auto tx = make_optimizer(config, steps_per_epoch);
  auto state =
      optim::TrainState::create(vars.collection("params"), tx, vars.without_collection("params"));
  std::vector<EpochMetrics> history;

  // One checkpoint per epoch, named by the epoch: {"state": TrainState, "history": metrics}.
  const jute::io::CheckpointManager checkpoints(config.out_dir / "checkpoints",
                                                static_cast<int>(config.keep_checkpoints));
  if (config.resume) {
    restore_latest(checkpoints, config, state, history);
    log << "resumed from " << checkpoints.path_of(std::ssize(history)).string() << " (epoch "
        << history.size() << " of " << config.epochs << ")\n";
  } else if (checkpoints.latest_step()) {
    log << "starting a new run in " << config.out_dir.string()
        << ": its earlier checkpoints are replaced (--resume continues a run)\n";
    for (std::int64_t epoch : checkpoints.all_steps()) {
      std::filesystem::remove(checkpoints.path_of(epoch));
    }
  }
  std::filesystem::create_directories(config.out_dir);
  const std::int64_t first_epoch = static_cast<std::int64_t>(history.size());
  const std::int64_t last_epoch = config.stop_after > 0
                                      ? std::min(config.epochs, first_epoch + config.stop_after)
                                      : config.epochs;

  for (std::int64_t epoch = first_epoch; epoch < last_epoch; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const jute::io::Epoch batches =
        data.train.batches(batching, jr::fold_in(shuffle_key, static_cast<std::uint32_t>(epoch)));
    ProgressBar bar(log, config.progress, epoch + 1, config.epochs, steps_per_epoch);
    double loss_sum = 0, accuracy_sum = 0;
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t global_step = epoch * steps_per_epoch + step;
      const jute::Tree batch = batches[step];
      auto [next, metrics] =
          train_step(model, state, {batch.get("image"), batch.get("label")},
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
    history.push_back(
        {epoch + 1, loss_sum / steps, accuracy_sum / steps, test.loss, test.accuracy, seconds});
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
