// Optax's schedules, computed in float32 in Optax's order of operations (see schedules.hpp).
//
// Each formula below mirrors Optax's jnp expression: a Python number meeting a float32 array is
// rounded to float32 at that point (`f32(...)`), integer counts meet floats as float32, and
// everything after is float32 arithmetic. `-ffp-contract=off` keeps every product rounded before
// the sum that follows, as XLA does.
#include "jute/optim/schedules.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "jute/errors.hpp"

namespace jute::optim {

namespace {

float f32(double x) { return static_cast<float>(x); }
float f32(std::int64_t x) { return static_cast<float>(x); }

constexpr float kPi = std::numbers::pi_v<float>;

/// `x ** power` in float32: a whole power as lax.integer_pow (binary exponentiation, one rounding
/// per product; a negative power is the reciprocal), any other power with powf.
float power_f32(float x, double power) {
  if (power != std::floor(power) || std::abs(power) > 64.0) return std::pow(x, f32(power));
  auto y = static_cast<std::int64_t>(std::abs(power));
  float acc = 1.0f;
  bool first = true;
  while (y > 0) {
    if (y & 1) {
      acc = first ? x : acc * x;
      first = false;
    }
    y >>= 1;
    if (y > 0) x = x * x;
  }
  return power < 0 ? 1.0f / acc : acc;
}

void check_scales(const char* op, const std::map<std::int64_t, double>& boundaries_and_scales) {
  for (const auto& [step, scale] : boundaries_and_scales) {
    if (!(scale >= 0.0)) {
      throw ValueError(std::string("[") + op + "] The scale at step " + std::to_string(step) +
                       " is " + std::to_string(scale) + "; scale factors must be non-negative.");
    }
  }
}

}  // namespace

ScalarOrSchedule::ScalarOrSchedule(Schedule schedule) : schedule_(std::move(schedule)) {
  if (!schedule_) {
    throw ValueError(
        "[optim.ScalarOrSchedule] The schedule is an empty std::function; pass a callable or a "
        "number.");
  }
}

double ScalarOrSchedule::value() const {
  if (schedule_) {
    throw ValueError(
        "[optim.ScalarOrSchedule] This hyperparameter is a schedule, not a constant; evaluate it "
        "at a count instead.");
  }
  return value_;
}

const Schedule& ScalarOrSchedule::schedule() const {
  if (!schedule_) {
    throw ValueError(
        "[optim.ScalarOrSchedule] This hyperparameter is a constant, not a schedule; read value() "
        "instead.");
  }
  return schedule_;
}

Schedule constant_schedule(double value) {
  return [value](std::int64_t) { return value; };
}

Schedule polynomial_schedule(double init_value, double end_value, double power,
                             std::int64_t transition_steps, std::int64_t transition_begin) {
  if (transition_steps <= 0) return constant_schedule(init_value);
  transition_begin = std::max<std::int64_t>(transition_begin, 0);
  return [=](std::int64_t count) -> double {
    const std::int64_t c = std::clamp<std::int64_t>(count - transition_begin, 0, transition_steps);
    const float frac = 1.0f - f32(c) / f32(transition_steps);
    return f32(init_value - end_value) * power_f32(frac, power) + f32(end_value);
  };
}

Schedule linear_schedule(double init_value, double end_value, std::int64_t transition_steps,
                         std::int64_t transition_begin) {
  return polynomial_schedule(init_value, end_value, 1.0, transition_steps, transition_begin);
}

Schedule piecewise_constant_schedule(double init_value,
                                     const std::map<std::int64_t, double>& boundaries_and_scales) {
  check_scales("optim.piecewise_constant_schedule", boundaries_and_scales);
  if (boundaries_and_scales.empty()) return constant_schedule(init_value);
  return [init_value, boundaries_and_scales](std::int64_t count) -> double {
    // v = v * indicator + (1 - indicator) * scale * v, with indicator = max(0, sign(b - count)).
    float v = f32(init_value);
    for (const auto& [boundary, scale] : boundaries_and_scales) {
      const float indicator = boundary > count ? 1.0f : 0.0f;
      v = v * indicator + (1.0f - indicator) * f32(scale) * v;
    }
    return v;
  };
}

Schedule exponential_decay(double init_value, std::int64_t transition_steps, double decay_rate,
                           std::int64_t transition_begin, bool staircase,
                           std::optional<double> end_value) {
  if (transition_steps <= 0 || decay_rate == 0.0) return constant_schedule(init_value);
  transition_begin = std::max<std::int64_t>(transition_begin, 0);
  return [=](std::int64_t count) -> double {
    const std::int64_t decreased = count - transition_begin;
    float p = f32(decreased) / f32(transition_steps);
    if (staircase) p = std::floor(p);
    float v = decreased <= 0 ? f32(init_value) : f32(init_value) * std::pow(f32(decay_rate), p);
    if (end_value)
      v = decay_rate < 1.0 ? std::max(v, f32(*end_value)) : std::min(v, f32(*end_value));
    return v;
  };
}

Schedule cosine_decay_schedule(double init_value, std::int64_t decay_steps, double alpha,
                               double exponent) {
  if (decay_steps <= 0) {
    throw ValueError("[optim.cosine_decay_schedule] decay_steps is " + std::to_string(decay_steps) +
                     "; it must be positive.");
  }
  return [=](std::int64_t count) -> double {
    const float c = std::min(f32(count), f32(decay_steps));
    const float cosine_decay = 0.5f * (1.0f + std::cos(kPi * c / f32(decay_steps)));
    const float decayed = f32(1.0 - alpha) * power_f32(cosine_decay, exponent) + f32(alpha);
    return f32(init_value) * decayed;
  };
}

Schedule warmup_constant_schedule(double init_value, double peak_value, std::int64_t warmup_steps) {
  return linear_schedule(init_value, peak_value, warmup_steps);
}

Schedule warmup_cosine_decay_schedule(double init_value, double peak_value,
                                      std::int64_t warmup_steps, std::int64_t decay_steps,
                                      double end_value, double exponent) {
  if (decay_steps <= warmup_steps) {
    throw ValueError("[optim.warmup_cosine_decay_schedule] decay_steps (" +
                     std::to_string(decay_steps) + ") must exceed warmup_steps (" +
                     std::to_string(warmup_steps) + "); decay_steps counts the warmup steps too.");
  }
  const double alpha = peak_value == 0.0 ? 0.0 : end_value / peak_value;
  return join_schedules(
      {linear_schedule(init_value, peak_value, warmup_steps),
       cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)},
      {warmup_steps});
}

Schedule warmup_exponential_decay_schedule(double init_value, double peak_value,
                                           std::int64_t warmup_steps, std::int64_t transition_steps,
                                           double decay_rate, std::int64_t transition_begin,
                                           bool staircase, std::optional<double> end_value) {
  return join_schedules({linear_schedule(init_value, peak_value, warmup_steps),
                         exponential_decay(peak_value, transition_steps, decay_rate,
                                           transition_begin, staircase, end_value)},
                        {warmup_steps});
}

Schedule piecewise_interpolate_schedule(
    Interpolation interpolation, double init_value,
    const std::map<std::int64_t, double>& boundaries_and_scales) {
  check_scales("optim.piecewise_interpolate_schedule", boundaries_and_scales);
  // bounds = [0, b1, b2, ...]; values = cumprod([init, s1, s2, ...]) in float32.
  std::vector<std::int64_t> bounds{0};
  std::vector<float> values{f32(init_value)};
  for (const auto& [boundary, scale] : boundaries_and_scales) {
    bounds.push_back(boundary);
    values.push_back(values.back() * f32(scale));
  }
  return [interpolation, bounds = std::move(bounds),
          values = std::move(values)](std::int64_t count) -> double {
    // indicator.dot(interp) + (bounds[-1] <= count) * values[-1]: at most one interval holds
    // the count, so the dot product is that interval's interpolated value (or 0).
    float out = 0.0f;
    for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
      if (!(bounds[i] <= count && count < bounds[i + 1])) continue;
      const std::int64_t size = std::max<std::int64_t>(bounds[i + 1] - bounds[i], 1);
      const float pct = f32(count - bounds[i]) / f32(size);
      const float start = values[i];
      const float end = values[i + 1];
      out = interpolation == Interpolation::Linear
                ? (end - start) * pct + start
                : end + (start - end) / 2.0f * (std::cos(kPi * pct) + 1.0f);
    }
    return out + (bounds.back() <= count ? values.back() : 0.0f);
  };
}

Schedule linear_onecycle_schedule(std::int64_t transition_steps, double peak_value,
                                  double pct_start, double pct_final, double div_factor,
                                  double final_div_factor) {
  if (transition_steps <= 0) {
    throw ValueError("[optim.linear_onecycle_schedule] transition_steps is " +
                     std::to_string(transition_steps) + "; it must be positive.");
  }
  // A Python dict literal: a later entry with the same step replaces an earlier one.
  std::map<std::int64_t, double> scales;
  scales[static_cast<std::int64_t>(pct_start * static_cast<double>(transition_steps))] = div_factor;
  scales[static_cast<std::int64_t>(pct_final * static_cast<double>(transition_steps))] =
      1.0 / div_factor;
  scales[transition_steps] = 1.0 / final_div_factor;
  return piecewise_interpolate_schedule(Interpolation::Linear, peak_value / div_factor, scales);
}

Schedule cosine_onecycle_schedule(std::int64_t transition_steps, double peak_value,
                                  double pct_start, double div_factor, double final_div_factor) {
  if (transition_steps <= 0) {
    throw ValueError("[optim.cosine_onecycle_schedule] transition_steps is " +
                     std::to_string(transition_steps) + "; it must be positive.");
  }
  std::map<std::int64_t, double> scales;
  scales[static_cast<std::int64_t>(pct_start * static_cast<double>(transition_steps))] = div_factor;
  scales[transition_steps] = 1.0 / (div_factor * final_div_factor);
  return piecewise_interpolate_schedule(Interpolation::Cosine, peak_value / div_factor, scales);
}

Schedule join_schedules(std::vector<Schedule> schedules, std::vector<std::int64_t> boundaries) {
  if (schedules.empty() || boundaries.size() + 1 != schedules.size()) {
    throw ValueError(
        "[optim.join_schedules] Got " + std::to_string(schedules.size()) + " schedules and " +
        std::to_string(boundaries.size()) +
        " boundaries; give one boundary fewer than schedules (at least one schedule).");
  }
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    if (!schedules[i]) {
      throw ValueError("[optim.join_schedules] Schedule " + std::to_string(i) +
                       " is an empty std::function; pass callables.");
    }
  }
  return [schedules = std::move(schedules),
          boundaries = std::move(boundaries)](std::int64_t step) -> double {
    double out = schedules[0](step);
    for (std::size_t i = 0; i < boundaries.size(); ++i) {
      if (!(step < boundaries[i])) out = schedules[i + 1](step - boundaries[i]);
    }
    // jnp.where gives a float32 array even when both branches are Python numbers.
    return boundaries.empty() ? out : f32(out);
  };
}

Schedule sgdr_schedule(const std::vector<WarmupCosineCycle>& cycles) {
  if (cycles.empty()) {
    throw ValueError("[optim.sgdr_schedule] No cycles were given; give at least one.");
  }
  std::vector<Schedule> schedules;
  std::vector<std::int64_t> boundaries;
  std::int64_t step = 0;
  for (const auto& c : cycles) {
    schedules.push_back(warmup_cosine_decay_schedule(c.init_value, c.peak_value, c.warmup_steps,
                                                     c.decay_steps, c.end_value, c.exponent));
    step += c.decay_steps;
    boundaries.push_back(step);
  }
  boundaries.pop_back();
  return join_schedules(std::move(schedules), std::move(boundaries));
}

}  // namespace jute::optim
