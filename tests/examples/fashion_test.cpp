// jute-train-fashion's training code (docs/examples/fashion): the data reader and its errors,
// the report files, and reproducibility of whole training runs on tiny generated data sets.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "fashion/data.hpp"
#include "fashion/report.hpp"
#include "fashion/train.hpp"
#include "jute/errors.hpp"
#include "jute/io/checkpoint.hpp"
#include "jute/io/idx.hpp"
#include "jute/ops.hpp"
#include "jute/random.hpp"

namespace fs = std::filesystem;
using fashion::EpochMetrics;

namespace {

/// A fresh empty directory under the system's temporary directory, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("jute_fashion_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// The bytes of an IDX file of unsigned bytes with the given dimensions, whatever the number of
/// values (io::to_idx writes only consistent files).
std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims,
                                    const std::vector<std::uint8_t>& values) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::uint8_t>(d >> shift));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

jute::Array bytes_array(const std::vector<std::uint8_t>& values, const jute::Shape& shape) {
  return jute::Array::from_raw(values.data(), jute::uint8, shape, jute::uint8);
}

/// A tiny learnable Fashion-MNIST stand-in: example i has label i mod 10 and a bright 6×6
/// square whose position depends on the label, over a faint texture that depends on i.
void write_split(const fs::path& dir, const std::string& prefix, std::uint32_t n, bool gzip) {
  std::vector<std::uint8_t> images(static_cast<std::size_t>(n) * 28 * 28), labels(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t label = i % 10;
    labels[i] = static_cast<std::uint8_t>(label);
    for (std::uint32_t r = 0; r < 28; ++r) {
      for (std::uint32_t c = 0; c < 28; ++c) {
        const bool square = r / 7 == label / 4 + 1 && c / 6 == label % 4;
        images[(i * 28 + r) * 28 + c] =
            static_cast<std::uint8_t>(square ? 200 + (r + c + i) % 50 : (r * 3 + c * 5 + i) % 40);
      }
    }
  }
  const std::string ext = gzip ? ".gz" : "";
  const auto count = static_cast<std::int64_t>(n);
  jute::io::write_idx(dir / (prefix + "-images-idx3-ubyte" + ext),
                      bytes_array(images, {count, 28, 28}), gzip);
  jute::io::write_idx(dir / (prefix + "-labels-idx1-ubyte" + ext), bytes_array(labels, {count}),
                      gzip);
}

void write_dataset(const fs::path& dir, std::uint32_t train = 64, std::uint32_t test = 40,
                   bool gzip = true) {
  write_split(dir, "train", train, gzip);
  write_split(dir, "t10k", test, gzip);
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const jute::IOError& e) {
    return e.what();
  }
  return "(no IOError)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A quiet configuration for tiny runs.
fashion::Config tiny_config(const fs::path& data, const fs::path& out, fashion::ModelKind model) {
  fashion::Config c;
  c.data_dir = data;
  c.out_dir = out;
  c.model = model;
  c.epochs = 2;
  c.batch_size = 16;
  c.progress = fashion::ProgressStyle::none;
  c.print_table = false;
  static std::ostringstream sink;
  c.log = &sink;
  return c;
}

}  // namespace

TEST_SUITE("examples.fashion") {
  TEST_CASE("data: the four IDX files, gzip-compressed or not, as f32 images and i32 labels") {
    for (bool gzip : {true, false}) {
      TempDir dir;
      write_dataset(dir.path, 30, 20, gzip);
      const auto data = fashion::load_fashion_mnist(dir.path);
      CHECK(data.train.size() == 30);
      CHECK(data.test.size() == 20);
      CHECK(data.train.examples().get("image").type_string() == "u8[30,28,28,1]");
      const jute::Tree batch = data.train.batches({.batch_size = 16})[0];
      CHECK(batch.get("image").type_string() == "f32[16,28,28,1]");
      CHECK(batch.get("label").type_string() == "i32[16]");
      CHECK(batch.get("label").at<int>({13}) == 3);
      // Example 0, label 0: the square at rows 7..13, columns 0..5; pixel (7, 0) is 200 + 7.
      CHECK(batch.get("image").at<float>({0, 7, 0, 0}) == 207.0f / 255.0f);
      CHECK(batch.get("image").at<float>({0, 0, 1, 0}) == 5.0f / 255.0f);
      const auto limited = fashion::load_fashion_mnist(dir.path, 12, 5);
      CHECK(limited.train.size() == 12);
      CHECK(limited.test.size() == 5);
    }
  }

  TEST_CASE(
      "data: a missing directory, a missing file and corrupt files are IOErrors that say so") {
    TempDir dir;
    const auto missing = dir.path / "nowhere";
    const std::string no_dir = error_of([&] { fashion::load_fashion_mnist(missing); });
    CHECK(contains(no_dir, "[fashion] The data directory " + missing.string() + " does not exist"));
    CHECK(contains(no_dir, "dataset-fashion-mnist"));

    write_dataset(dir.path);
    fs::remove(dir.path / "t10k-labels-idx1-ubyte.gz");
    CHECK(contains(error_of([&] { fashion::load_fashion_mnist(dir.path); }),
                   "t10k-labels-idx1-ubyte nor its .gz exists"));

    // A gzip stream cut in half.
    write_dataset(dir.path);
    const auto images = dir.path / "train-images-idx3-ubyte.gz";
    fs::resize_file(images, fs::file_size(images) / 2);
    const std::string cut = error_of([&] { fashion::load_fashion_mnist(dir.path); });
    CHECK(contains(cut, images.string()));
    CHECK(contains(cut, "is not a valid IDX file"));

    // Bytes that are no gzip stream and no IDX header.
    jute::io::write_file_atomic(images, std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'});
    CHECK(contains(error_of([&] { fashion::load_fashion_mnist(dir.path); }),
                   images.string() + " is not a valid IDX file"));

    // A header promising more images than the file holds.
    jute::io::write_file_atomic(images, idx_bytes({64, 28, 28}, std::vector<std::uint8_t>(100, 1)));
    CHECK(contains(error_of([&] { fashion::load_fashion_mnist(dir.path); }),
                   images.string() + " is not a valid IDX file"));

    // Labels that do not match the images.
    write_dataset(dir.path);
    jute::io::write_idx(dir.path / "train-labels-idx1-ubyte.gz", jute::zeros({63}, jute::uint8),
                        true);
    CHECK(contains(error_of([&] { fashion::load_fashion_mnist(dir.path); }),
                   "values for 64 images in"));

    // A label outside 0..9.
    write_dataset(dir.path);
    jute::io::write_idx(dir.path / "train-labels-idx1-ubyte.gz", jute::full({64}, 10, jute::uint8),
                        true);
    CHECK(
        contains(error_of([&] { fashion::load_fashion_mnist(dir.path); }), "are not all in 0..9"));
  }

  TEST_CASE("report: durations, the progress line, the summary and metrics.csv") {
    CHECK(fashion::format_duration(0) == "0:00");
    CHECK(fashion::format_duration(61.4) == "1:01");
    CHECK(fashion::format_duration(3725) == "1:02:05");
    CHECK(fashion::ProgressBar::line(1, 10, 6, 24, 2.0, 0.5, 0.75, true) ==
          "epoch 1/10 [======>                 ] 6/24  3.0 steps/s  loss 0.5000  acc 75.00%  ETA "
          "0:06");
    CHECK(fashion::ProgressBar::line(2, 2, 24, 24, 4.0, 0.25, 0.5, false) ==
          "epoch 2/2 24/24  6.0 steps/s  loss 0.2500  acc 50.00%  ETA 0:00");
    const EpochMetrics m{3, 0.41234, 0.851, 0.39, 0.8666, 12.34};
    CHECK(fashion::summary_line(m, 10) ==
          "epoch 3/10  train loss 0.4123 acc 85.10%  test loss 0.3900 acc 86.66%  12.3 s");

    // Plain lines: one per tenth of the epoch.
    std::ostringstream out;
    fashion::ProgressBar bar(out, fashion::ProgressStyle::lines, 1, 1, 20);
    for (int step = 1; step <= 20; ++step) bar.update(step, 1.0, 0.5);
    bar.finish();
    const std::string text = out.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == 10);
    CHECK(text.find('\r') == std::string::npos);

    // A terminal: the bar is redrawn in place (at most ten times a second, always at the end)
    // on one line, which finish() ends; no output at all with ProgressStyle::none.
    std::ostringstream tty;
    fashion::ProgressBar redrawn(tty, fashion::ProgressStyle::bar, 2, 3, 4);
    for (int step = 1; step <= 4; ++step) redrawn.update(step, 0.5, 0.25);
    redrawn.finish();
    const std::string drawn = tty.str();
    CHECK(drawn.rfind('\r') != std::string::npos);
    CHECK(drawn.find("epoch 2/3 [========================] 4/4") != std::string::npos);
    CHECK(std::count(drawn.begin(), drawn.end(), '\n') == 1);
    CHECK(drawn.back() == '\n');
    std::ostringstream quiet;
    fashion::ProgressBar silent(quiet, fashion::ProgressStyle::none, 1, 1, 4);
    for (int step = 1; step <= 4; ++step) silent.update(step, 0.5, 0.25);
    silent.finish();
    CHECK(quiet.str().empty());

    TempDir dir;
    fashion::write_metrics_csv(dir.path / "metrics.csv", {m, {4, 0.5, 0.25, 0.125, 1, 2}});
    std::ifstream in(dir.path / "metrics.csv");
    std::stringstream csv;
    csv << in.rdbuf();
    CHECK(csv.str() ==
          "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
          "3,0.41234,0.851,0.39,0.8666,12.34\n"
          "4,0.5,0.25,0.125,1,2\n");
    CHECK_FALSE(fs::exists(dir.path / "metrics.csv.tmp"));
  }

  TEST_CASE("report: the SVG plot has a loss and an accuracy panel with train and test curves") {
    const std::vector<EpochMetrics> rows = {{1, 0.6, 0.78, 0.5, 0.82, 10},
                                            {2, 0.4, 0.86, 0.42, 0.85, 10},
                                            {3, 0.3, 0.89, 0.36, 0.88, 10}};
    const std::string svg = fashion::plot_svg(rows, "Fashion-MNIST");
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    CHECK(contains(svg, ">loss</text>"));
    CHECK(contains(svg, ">accuracy (%)</text>"));
    std::size_t polylines = 0;
    for (std::size_t at = svg.find("<polyline"); at != std::string::npos;
         at = svg.find("<polyline", at + 1)) {
      ++polylines;
    }
    CHECK(polylines == 4);
    CHECK(contains(fashion::plot_svg({}, "empty"), "no epoch finished yet"));
  }

  TEST_CASE("train_step is pure: the same inputs give the same bits and the input is unchanged") {
    TempDir dir;
    write_dataset(dir.path, 32, 10);
    const auto data = fashion::load_fashion_mnist(dir.path);
    const fashion::Model model(fashion::ModelKind::cnn_bn);
    const jute::Tree first = data.train.batches({.batch_size = 16})[0];
    const auto sample = first.get("image");
    const auto vars = model.init(jute::random::key(0), sample);
    CHECK(vars.collections() == std::vector<std::string>{"batch_stats", "params"});
    const auto state = jute::optim::TrainState::create(
        vars.collection("params"), jute::optim::adamw(1e-3), vars.without_collection("params"));
    const jute::Tree before = state.to_tree();
    const fashion::Batch batch{sample, first.get("label")};
    const auto a = fashion::train_step(model, state, batch, jute::random::key(7));
    const auto b = fashion::train_step(model, state, batch, jute::random::key(7));
    CHECK(state.to_tree() == before);
    CHECK(a.state.to_tree() == b.state.to_tree());
    CHECK(a.metrics == b.metrics);
    CHECK(a.state.step().item<int>() == 1);
    // The step changed the params and the running averages; another dropout key changes the
    // params differently.
    CHECK(a.state.params() != state.params());
    CHECK(a.state.collections().subtree("batch_stats") !=
          state.collections().subtree("batch_stats"));
    const auto c = fashion::train_step(model, state, batch, jute::random::key(8));
    CHECK(c.state.params() != a.state.params());
  }

  TEST_CASE("train: the same seed gives bit-identical parameters; another seed does not") {
    TempDir data, out;
    write_dataset(data.path);
    for (auto kind : {fashion::ModelKind::mlp, fashion::ModelKind::cnn_bn}) {
      CAPTURE(fashion::to_string(kind));
      auto config = tiny_config(data.path, out.path / "a", kind);
      const auto first = fashion::train(config);
      config.out_dir = out.path / "b";
      const auto second = fashion::train(config);
      CHECK(first.state.to_tree() == second.state.to_tree());
      CHECK(first.state.step().item<int>() == 8);  // 2 epochs of 64 / 16 steps
      REQUIRE(first.history.size() == 2);
      CHECK(first.history[1].train_loss == second.history[1].train_loss);
      CHECK(first.history[1].test_accuracy == second.history[1].test_accuracy);
      config.seed = 1;
      config.out_dir = out.path / "c";
      CHECK(fashion::train(config).state.params() != first.state.params());
      CHECK(fs::exists(out.path / "a" / "metrics.csv"));
      CHECK(fs::exists(out.path / "a" / "curves.svg"));
    }
  }

  TEST_CASE("train: the tiny data set is learned (loss falls, test accuracy rises)") {
    TempDir data, out;
    write_dataset(data.path, 160, 40);
    auto config = tiny_config(data.path, out.path, fashion::ModelKind::mlp);
    config.epochs = 4;
    const auto result = fashion::train(config);
    REQUIRE(result.history.size() == 4);
    CHECK(result.history.back().train_loss < result.history.front().train_loss);
    CHECK(result.history.back().test_accuracy > 0.9);
  }

  TEST_CASE("train: stopped after epoch 1 and resumed gives the bits of an uninterrupted run") {
    TempDir data, out;
    write_dataset(data.path);
    for (auto kind : {fashion::ModelKind::cnn_bn, fashion::ModelKind::mlp}) {
      CAPTURE(fashion::to_string(kind));
      auto config = tiny_config(data.path, out.path / "whole", kind);
      config.optimizer = kind == fashion::ModelKind::mlp ? fashion::OptimizerKind::sgd
                                                         : fashion::OptimizerKind::adamw;
      const auto whole = fashion::train(config);

      config.out_dir = out.path / "parts";
      config.stop_after = 1;
      const auto first = fashion::train(config);
      REQUIRE(first.history.size() == 1);
      CHECK(first.state.step().item<int>() == 4);
      config.resume = true;
      config.stop_after = 0;
      const auto resumed = fashion::train(config);
      CHECK(resumed.state.to_tree() == whole.state.to_tree());
      REQUIRE(resumed.history.size() == 2);
      CHECK(resumed.history[0].train_loss == whole.history[0].train_loss);
      CHECK(resumed.history[1].test_loss == whole.history[1].test_loss);
      // metrics.csv of the resumed run holds both epochs.
      std::ifstream csv(out.path / "parts" / "metrics.csv");
      const std::string text((std::istreambuf_iterator<char>(csv)),
                             std::istreambuf_iterator<char>());
      CHECK(std::count(text.begin(), text.end(), '\n') == 3);
    }
  }

  TEST_CASE("train: a checkpoint per epoch, the newest 3 kept; resume errors") {
    TempDir data, out;
    write_dataset(data.path);
    auto config = tiny_config(data.path, out.path, fashion::ModelKind::mlp);
    config.epochs = 5;
    fashion::train(config);
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(out.path / "checkpoints")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"checkpoint_3", "checkpoint_4", "checkpoint_5"});

    // A finished run resumed does nothing more.
    config.resume = true;
    CHECK(fashion::train(config).history.size() == 5);

    // Another model's checkpoint names the first difference.
    config.model = fashion::ModelKind::cnn;
    try {
      fashion::train(config);
      FAIL("no error");
    } catch (const jute::ValueError& e) {
      CHECK(contains(e.what(), "does not fit --model cnn --optimizer adamw"));
    }

    // A truncated checkpoint.
    config.model = fashion::ModelKind::mlp;
    const auto latest = out.path / "checkpoints" / "checkpoint_5";
    fs::resize_file(latest, fs::file_size(latest) - 10);
    CHECK_THROWS_AS(fashion::train(config), jute::io::FormatError);

    // --resume in a directory without checkpoints.
    config.out_dir = out.path / "empty";
    CHECK(contains(error_of([&] { fashion::train(config); }), "--resume found no checkpoint in"));
  }
}
