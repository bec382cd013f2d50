#include "fashion/report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "jute/errors.hpp"

namespace fashion {

namespace {

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

}  // namespace

ProgressStyle detect_progress_style(const std::ostream& stream) {
  if (&stream == &std::cout && isatty(STDOUT_FILENO)) return ProgressStyle::bar;
  return ProgressStyle::lines;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<std::int64_t>(std::llround(std::max(seconds, 0.0)));
  const std::int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return buf;
}

ProgressBar::ProgressBar(std::ostream& out, ProgressStyle style, std::int64_t epoch,
                         std::int64_t epochs, std::int64_t steps)
    : out_(out),
      style_(style),
      epoch_(epoch),
      epochs_(epochs),
      steps_(steps),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  next_line_ = std::max<std::int64_t>(steps_ / 10, 1);
}

std::string ProgressBar::line(std::int64_t epoch, std::int64_t epochs, std::int64_t done,
                              std::int64_t steps, double elapsed, double loss, double accuracy,
                              bool with_bar) {
  std::ostringstream s;
  s << "epoch " << epoch << "/" << epochs << " ";
  if (with_bar) {
    constexpr int width = 24;
    const auto filled = static_cast<int>(steps > 0 ? width * done / steps : width);
    s << "[" << std::string(static_cast<std::size_t>(filled), '=') << (filled < width ? ">" : "")
      << std::string(static_cast<std::size_t>(std::max(width - filled - 1, 0)), ' ') << "] ";
  }
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  s << done << "/" << steps << "  " << fixed(rate, 1) << " steps/s  loss " << fixed(loss, 4)
    << "  acc " << fixed(100 * accuracy, 2) << "%  ETA "
    << (rate > 0 ? format_duration(static_cast<double>(steps - done) / rate) : "?");
  return s.str();
}

void ProgressBar::update(std::int64_t done, double loss, double accuracy) {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  switch (style_) {
    case ProgressStyle::none:
      return;
    case ProgressStyle::bar:
      // Redraw at most ten times a second (and always at the end).
      if (done < steps_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = now;
      out_ << "\r" << line(epoch_, epochs_, done, steps_, elapsed, loss, accuracy, true) << "\x1b[K"
           << std::flush;
      return;
    case ProgressStyle::lines:
      if (done < next_line_ && done < steps_) return;
      while (next_line_ <= done) next_line_ += std::max<std::int64_t>(steps_ / 10, 1);
      out_ << line(epoch_, epochs_, done, steps_, elapsed, loss, accuracy, false) << "\n"
           << std::flush;
      return;
  }
}

void ProgressBar::finish() {
  if (style_ == ProgressStyle::bar) out_ << "\n" << std::flush;
}

std::string summary_line(const EpochMetrics& m, std::int64_t epochs) {
  std::ostringstream s;
  s << "epoch " << m.epoch << "/" << epochs << "  train loss " << fixed(m.train_loss, 4) << " acc "
    << fixed(100 * m.train_accuracy, 2) << "%  test loss " << fixed(m.test_loss, 4) << " acc "
    << fixed(100 * m.test_accuracy, 2) << "%  " << fixed(m.seconds, 1) << " s";
  return s.str();
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      throw jute::IOError("[fashion] Cannot write " + tmp.string() +
                          "; check that the run directory is writable and the disk not full.");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    throw jute::IOError("[fashion] Cannot rename " + tmp.string() + " to " + file.string() + ": " +
                        ec.message() + ".");
  }
}

void write_metrics_csv(const std::filesystem::path& file, const std::vector<EpochMetrics>& rows) {
  std::ostringstream s;
  s << std::setprecision(9);
  s << "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  for (const auto& r : rows) {
    s << r.epoch << "," << r.train_loss << "," << r.train_accuracy << "," << r.test_loss << ","
      << r.test_accuracy << "," << r.seconds << "\n";
  }
  write_text_file(file, s.str());
}

namespace {

/// Tick values: about five "nice" steps (1, 2 or 5 times a power of ten) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double f : {1.0, 2.0, 5.0, 10.0}) {
    if (f * mag >= raw) {
      step = f * mag;
      break;
    }
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

std::string number_text(double v) {
  std::ostringstream s;
  s << std::setprecision(4) << (std::abs(v) < 1e-12 ? 0.0 : v);
  return s.str();
}

struct Series {
  std::string label;
  std::string color;
  std::function<double(const EpochMetrics&)> value;
};

/// One panel at (x0, y0) of size w × h: axes, ticks, grid and one polyline per series.
void panel(std::ostringstream& svg, const std::vector<EpochMetrics>& rows, double x0, double y0,
           double w, double h, const std::string& title, const std::vector<Series>& series,
           double lo, double hi) {
  const double e0 = static_cast<double>(rows.front().epoch);
  const double e1 = std::max(static_cast<double>(rows.back().epoch), e0 + 1);
  auto px = [&](double e) { return x0 + (e - e0) / (e1 - e0) * w; };
  auto py = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };
  svg << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 - 10
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << title << "</text>\n";
  for (double t : nice_ticks(lo, hi)) {
    svg << "<line x1=\"" << x0 << "\" x2=\"" << x0 + w << "\" y1=\"" << py(t) << "\" y2=\"" << py(t)
        << "\" stroke=\"#ddd\"/>\n";
    svg << "<text x=\"" << x0 - 6 << "\" y=\"" << py(t) + 4 << "\" text-anchor=\"end\">"
        << number_text(t) << "</text>\n";
  }
  const auto n = static_cast<std::int64_t>(e1 - e0);
  const std::int64_t every = std::max<std::int64_t>(1, (n + 9) / 10);
  for (std::int64_t e = static_cast<std::int64_t>(e0); e <= static_cast<std::int64_t>(e1);
       e += every) {
    const double x = px(static_cast<double>(e));
    svg << "<line x1=\"" << x << "\" x2=\"" << x << "\" y1=\"" << y0 + h << "\" y2=\"" << y0 + h + 4
        << "\" stroke=\"#333\"/>\n";
    svg << "<text x=\"" << x << "\" y=\"" << y0 + h + 18 << "\" text-anchor=\"middle\">" << e
        << "</text>\n";
  }
  svg << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 + h + 36
      << "\" text-anchor=\"middle\">epoch</text>\n";
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    svg << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\" points=\"";
    for (const auto& r : rows) {
      svg << px(static_cast<double>(r.epoch)) << "," << py(s.value(r)) << " ";
    }
    svg << "\"/>\n";
    for (const auto& r : rows) {
      svg << "<circle cx=\"" << px(static_cast<double>(r.epoch)) << "\" cy=\"" << py(s.value(r))
          << "\" r=\"3\" fill=\"" << s.color << "\"/>\n";
    }
    const double ly = y0 + 16 + 18 * static_cast<double>(k);
    svg << "<line x1=\"" << x0 + w - 90 << "\" x2=\"" << x0 + w - 70 << "\" y1=\"" << ly - 4
        << "\" y2=\"" << ly - 4 << "\" stroke=\"" << s.color << "\" stroke-width=\"2\"/>\n";
    svg << "<text x=\"" << x0 + w - 64 << "\" y=\"" << ly << "\">" << s.label << "</text>\n";
  }
}

/// [lo, hi] of the series over the rows, widened by 5% (and to a non-empty range).
std::pair<double, double> range_of(const std::vector<EpochMetrics>& rows,
                                   const std::vector<Series>& series) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& r : rows) {
    for (const auto& s : series) {
      const double v = s.value(r);
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
  }
  if (!std::isfinite(lo)) return {0, 1};
  const double pad = std::max((hi - lo) * 0.05, 1e-3);
  return {lo - pad, hi + pad};
}

}  // namespace

std::string plot_svg(const std::vector<EpochMetrics>& rows, const std::string& title) {
  constexpr double width = 960, height = 400, w = 380, h = 270, top = 70;
  std::ostringstream svg;
  svg << std::setprecision(6);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">"
      << title << "</text>\n";
  if (rows.empty()) {
    svg << "<text x=\"" << width / 2 << "\" y=\"" << height / 2
        << "\" text-anchor=\"middle\">no epoch finished yet</text>\n</svg>\n";
    return svg.str();
  }
  const std::vector<Series> loss = {
      {"train", "#1f77b4", [](const EpochMetrics& r) { return r.train_loss; }},
      {"test", "#d62728", [](const EpochMetrics& r) { return r.test_loss; }}};
  const std::vector<Series> accuracy = {
      {"train", "#1f77b4", [](const EpochMetrics& r) { return 100 * r.train_accuracy; }},
      {"test", "#d62728", [](const EpochMetrics& r) { return 100 * r.test_accuracy; }}};
  auto [loss_lo, loss_hi] = range_of(rows, loss);
  auto [acc_lo, acc_hi] = range_of(rows, accuracy);
  panel(svg, rows, 70, top, w, h, "loss", loss, std::max(loss_lo, 0.0), loss_hi);
  panel(svg, rows, 70 + w + 110, top, w, h, "accuracy (%)", accuracy, acc_lo,
        std::min(acc_hi, 100.0));
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace fashion
