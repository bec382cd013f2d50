// jute-train-fashion — trains a Fashion-MNIST classifier (docs/quickstart.md walks through it).
//
//   jute-train-fashion                          # the CNN, AdamW, 10 epochs, into ./fashion-run
//   jute-train-fashion --model mlp --optimizer sgd --epochs 5 --out runs/mlp
//   jute-train-fashion --out runs/mlp --resume  # continue from the latest checkpoint
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "fashion/train.hpp"

int main(int argc, char** argv) {
  fashion::Config config;
  std::string model = "cnn", optimizer = "adamw", progress = "auto";

  CLI::App app{
      "Trains a Fashion-MNIST classifier with jute: a pure train step, AdamW or SGD on a "
      "warmup-cosine schedule, a checkpoint per epoch."};
  app.add_option("--data", config.data_dir,
                 "directory with the four Fashion-MNIST IDX files (.gz or not)")
      ->capture_default_str();
  app.add_option("--out", config.out_dir, "run directory: metrics.csv, curves.svg and checkpoints/")
      ->capture_default_str();
  app.add_option("--model", model, "mlp, cnn, or cnn-bn (BatchNorm and Dropout)")
      ->check(CLI::IsMember({"mlp", "cnn", "cnn-bn"}))
      ->capture_default_str();
  app.add_option("--optimizer", optimizer, "adamw, or sgd (with momentum)")
      ->check(CLI::IsMember({"adamw", "sgd"}))
      ->capture_default_str();
  app.add_option("--epochs", config.epochs, "number of epochs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--batch-size", config.batch_size, "examples per step")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--lr", config.learning_rate,
                 "peak learning rate of the warmup-cosine schedule (default: 1e-3 for AdamW, "
                 "0.05 for SGD)")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup-epochs", config.warmup_epochs, "epochs of linear warmup")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--momentum", config.momentum, "SGD momentum")->capture_default_str();
  app.add_option("--weight-decay", config.weight_decay, "AdamW weight decay")
      ->capture_default_str();
  app.add_option("--seed", config.seed, "seed of every random choice (init, shuffles, dropout)")
      ->capture_default_str();
  app.add_flag("--resume", config.resume, "continue from the latest checkpoint in --out");
  app.add_option("--keep", config.keep_checkpoints, "checkpoints to keep")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--stop-after", config.stop_after,
                 "stop after this many epochs of this run (the schedule still spans --epochs); "
                 "continue later with --resume")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--train-limit", config.train_limit,
                 "use only the first N training examples (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--test-limit", config.test_limit, "use only the first N test examples (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--progress", progress,
                 "auto (a bar on a terminal, plain lines otherwise), bar, lines or none")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  config.model = model == "mlp"   ? fashion::ModelKind::mlp
                 : model == "cnn" ? fashion::ModelKind::cnn
                                  : fashion::ModelKind::cnn_bn;
  config.optimizer =
      optimizer == "sgd" ? fashion::OptimizerKind::sgd : fashion::OptimizerKind::adamw;
  config.progress = progress == "auto"    ? fashion::detect_progress_style(std::cout)
                    : progress == "bar"   ? fashion::ProgressStyle::bar
                    : progress == "lines" ? fashion::ProgressStyle::lines
                                          : fashion::ProgressStyle::none;
  try {
    const fashion::RunResult result = fashion::train(config);
    if (!result.history.empty()) {
      const auto& last = result.history.back();
      std::cout << "test accuracy " << 100 * last.test_accuracy << "% after epoch " << last.epoch
                << "; metrics.csv, curves.svg and checkpoints/ are in " << config.out_dir.string()
                << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "jute-train-fashion: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
