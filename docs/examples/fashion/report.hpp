// fashion/report.hpp — what the training program shows and writes: a progress bar per epoch, the
// per-epoch summary line, metrics.csv and an SVG plot of the loss and accuracy curves.
//
// Nothing here knows about models: it formats numbers it is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace fashion {

/// One row of metrics.csv: the means over an epoch's training steps and the test-set figures.
struct EpochMetrics {
  std::int64_t epoch = 0;  // 1-based
  double train_loss = 0;
  double train_accuracy = 0;  // in [0, 1]
  double test_loss = 0;
  double test_accuracy = 0;
  double seconds = 0;  // wall time of the epoch's training steps and evaluation
};

/// How progress is shown: a bar redrawn in place (a terminal), a plain line every tenth of an
/// epoch (a log file or a pipe), or nothing.
enum class ProgressStyle { bar, lines, none };

/// `bar` when `stream` is standard output and that is a terminal, `lines` otherwise.
ProgressStyle detect_progress_style(const std::ostream& stream);

/// The progress of one epoch. `update` after every step with the running means; `finish` once.
///
///   epoch 1/10 [=========>          ] 212/468  38.1 steps/s  loss 0.4312  acc 84.51%  ETA 0:06
class ProgressBar {
 public:
  ProgressBar(std::ostream& out, ProgressStyle style, std::int64_t epoch, std::int64_t epochs,
              std::int64_t steps);
  void update(std::int64_t done, double loss, double accuracy);
  /// Ends the bar's line (a terminal) so the summary starts on a fresh one.
  void finish();

  /// The text of the bar for `done` of `steps` after `elapsed` seconds (no carriage return).
  static std::string line(std::int64_t epoch, std::int64_t epochs, std::int64_t done,
                          std::int64_t steps, double elapsed, double loss, double accuracy,
                          bool with_bar);

 private:
  std::ostream& out_;
  ProgressStyle style_;
  std::int64_t epoch_, epochs_, steps_;
  std::int64_t next_line_ = 0;  // the next step count that prints a plain line
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// "epoch 1/10  train loss 0.4312 acc 84.51%  test loss 0.3918 acc 85.90%  41.2 s".
std::string summary_line(const EpochMetrics& m, std::int64_t epochs);

/// "m:ss" or "h:mm:ss" of a number of seconds (rounded; negative counts as 0).
std::string format_duration(double seconds);

/// metrics.csv: a header and one row per epoch (full float precision, so curves are exact).
void write_metrics_csv(const std::filesystem::path& file, const std::vector<EpochMetrics>& rows);

/// An SVG image with two panels, loss and accuracy (%) against the epoch, train and test curves.
std::string plot_svg(const std::vector<EpochMetrics>& rows, const std::string& title);

/// Writes `text` to `file` through a temporary file and a rename, so a reader never sees half
/// a file (IOError when that fails).
void write_text_file(const std::filesystem::path& file, const std::string& text);

}  // namespace fashion
