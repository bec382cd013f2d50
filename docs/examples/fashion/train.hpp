// fashion/train.hpp — training a Fashion-MNIST classifier with a pure training step.
//
// The pieces, in the order docs/quickstart.md walks through them:
//   the models      Mlp, Cnn (the Flax MNIST example's CNN) and CnnBn (BatchNorm + Dropout)
//   init            Model::init(key, sample) → Variables {"params", ["batch_stats"]}
//   the step        train_step(model, state, batch, key) → {new state, metrics}: pure
//   evaluation      evaluate(model, state, data): the running averages, no dropout
//   the loop        train(config): epochs of shuffled batches, metrics, plots, checkpoints
#pragma once

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "fashion/data.hpp"
#include "fashion/report.hpp"
#include "jute/array.hpp"
#include "jute/nn.hpp"
#include "jute/optim.hpp"
#include "jute/tree.hpp"

namespace fashion {

// ---- the models ----------------------------------------------------------------------------
// Each takes images f32[N, 28, 28, 1] and returns logits f32[N, 10]. `train` selects the
// training behaviour of the layers that have one (BatchNorm's batch statistics, Dropout).

/// Flatten → Dense 512 → ReLU → Dense 256 → ReLU → Dense 10.
struct Mlp {
  static constexpr const char* name = "MLP";
  bool train = false;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& images) const;
};

/// The CNN of Flax's MNIST example: Conv 32 (3×3) → ReLU → avg_pool 2×2 → Conv 64 (3×3) → ReLU
/// → avg_pool 2×2 → Flatten → Dense 256 → ReLU → Dense 10.
struct Cnn {
  static constexpr const char* name = "CNN";
  bool train = false;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& images) const;
};

/// The CNN with a BatchNorm after each convolution and the hidden Dense layer (state in
/// "batch_stats") and Dropout before the last layer (randomness from the "dropout" stream).
struct CnnBn {
  static constexpr const char* name = "CNN_BN";
  bool train = false;
  double dropout_rate = 0.3;
  jute::Array operator()(jute::nn::Scope& s, const jute::Array& images) const;
};

enum class ModelKind { mlp, cnn, cnn_bn };
/// "mlp", "cnn", "cnn-bn".
std::string to_string(ModelKind kind);

/// One of the three models, with init/apply/tabulate that dispatch to it.
class Model {
 public:
  explicit Model(ModelKind kind);
  ModelKind kind() const { return kind_; }
  /// Variables for these inputs: {"params"} and, for cnn-bn, {"batch_stats"}. Initialized in
  /// evaluation mode, so no "dropout" key is needed.
  jute::Variables init(const jute::Array& key, const jute::Array& images) const;
  /// Logits and the updated "batch_stats" (empty for models without). `train` uses the batch
  /// statistics (updating the running averages) and draws dropout masks from `dropout_key`;
  /// otherwise the running averages are read and nothing changes.
  jute::nn::ApplyResult<jute::Array> apply(const jute::Variables& vars, const jute::Array& images,
                                           bool train, const jute::Array& dropout_key = {}) const;
  /// nn::tabulate's table of the model on `images`.
  std::string tabulate(const jute::Array& key, const jute::Array& images) const;

 private:
  ModelKind kind_;
  std::variant<Mlp, Cnn, CnnBn> train_, eval_;
};

// ---- one step --------------------------------------------------------------------------------

struct Batch {
  jute::Array images;  // f32[B, 28, 28, 1]
  jute::Array labels;  // i32[B]
};

struct StepOut {
  jute::optim::TrainState state;
  jute::Tree metrics;  // {"loss": f32[], "accuracy": f32[]}
};

/// One optimizer step, a pure function: the gradient of the mean cross-entropy over "params"
/// (the updated "batch_stats" come out as aux), then `state.apply_gradients`. The same inputs
/// give the same bits; `state` is not changed.
StepOut train_step(const Model& model, const jute::optim::TrainState& state, const Batch& batch,
                   const jute::Array& key);

struct EvalMetrics {
  double loss = 0;
  double accuracy = 0;
};

/// Mean loss and accuracy over a whole data set in evaluation mode (running averages, no dropout),
/// in batches of `batch_size`.
EvalMetrics evaluate(const Model& model, const jute::optim::TrainState& state,
                     const jute::io::Dataset& data, std::int64_t batch_size = 1000);

// ---- the loop --------------------------------------------------------------------------------

enum class OptimizerKind { sgd, adamw };
std::string to_string(OptimizerKind kind);

struct Config {
  std::filesystem::path data_dir = default_data_dir;
  std::filesystem::path out_dir = "fashion-run";  // metrics.csv, curves.svg, checkpoints/
  ModelKind model = ModelKind::cnn;
  OptimizerKind optimizer = OptimizerKind::adamw;
  std::int64_t epochs = 10;
  std::int64_t batch_size = 128;
  double learning_rate = 0;  // peak of the warmup-cosine schedule; 0: 1e-3 (AdamW), 0.05 (SGD)
  double warmup_epochs = 0.5;
  double momentum = 0.9;       // SGD
  double weight_decay = 1e-4;  // AdamW
  std::int64_t seed = 0;
  bool resume = false;  // continue from the latest checkpoint in out_dir/checkpoints
  std::int64_t keep_checkpoints = 3;
  std::int64_t stop_after = 0;   // stop after this many epochs of this run (0: run to `epochs`)
  std::int64_t train_limit = 0;  // use only the first examples of each split (0: all)
  std::int64_t test_limit = 0;
  ProgressStyle progress = ProgressStyle::lines;
  bool print_table = true;  // tabulate the model at the start
  std::ostream* log = &std::cout;
};

/// The schedule's peak learning rate for `config` (its default when config.learning_rate is 0).
double peak_learning_rate(const Config& config);

/// The optimizer: SGD with momentum or AdamW, on a warmup-cosine schedule that rises from 0 to
/// the peak over `warmup_epochs` and decays to 0 at the end of the last epoch.
jute::optim::GradientTransformation make_optimizer(const Config& config,
                                                   std::int64_t steps_per_epoch);

struct RunResult {
  jute::optim::TrainState state;
  std::vector<EpochMetrics> history;  // every epoch of the run, including resumed ones
};

/// Loads the data, builds (or restores) the state and trains, writing metrics.csv, curves.svg
/// and a checkpoint per epoch into config.out_dir. Throws IOError for missing or corrupt data.
RunResult train(const Config& config);

/// train() with data already in memory (the tests' entry point).
RunResult train(const Config& config, const FashionMnist& data);

}  // namespace fashion
