// jute/optim/schedules.hpp — hyperparameters as functions of the update count (Optax's schedules).
//
// A Schedule maps the number of updates already applied to a value: step 0 is the first update
// (Optax's convention: every stateful user — scale_by_schedule, add_decayed_weights with a
// schedule, inject_hyperparams, MultiSteps — calls it with the count before incrementing it).
//
// Arithmetic: the built-in schedules compute in float32 with the operations in Optax's order,
// as Optax does under JAX's default 32-bit mode. Their results are float32 values returned as
// double, equal to Optax's (e.g. warmup_cosine_decay_schedule(0.2, 1.21, 50, 100)(0) is
// 0.20000004768371582, not 0.2) up to the last bit of libm's cos/pow. Python-number
// subexpressions (`end_value / peak_value`, `1 - alpha`) are formed in double first and rounded
// once, as weakly typed Python floats are. A user schedule may return any double; the transform
// that uses it rounds it to each leaf's dtype.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace jute::optim {

/// A hyperparameter as a function of the update count (0 for the first update).
using Schedule = std::function<double(std::int64_t count)>;

/// A hyperparameter given as a number or as a Schedule: `adam(1e-3)` and
/// `adam(cosine_decay_schedule(1e-3, 1000))` both work, and so does a lambda
/// `[](std::int64_t count) { return 1e-3 / (1 + count); }`.
class ScalarOrSchedule {
 public:
  ScalarOrSchedule(double value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  /// ValueError for an empty std::function.
  ScalarOrSchedule(Schedule schedule);  // NOLINT(google-explicit-constructor)
  template <class F>
  requires(!std::is_arithmetic_v<std::decay_t<F>> && !std::is_same_v<std::decay_t<F>, Schedule> &&
           !std::is_same_v<std::decay_t<F>, ScalarOrSchedule> &&
           std::is_invocable_r_v<double, F&, std::int64_t>)
      ScalarOrSchedule(F f)  // NOLINT(google-explicit-constructor)
      : ScalarOrSchedule(Schedule(std::move(f))) {}

  bool is_schedule() const { return static_cast<bool>(schedule_); }
  /// The constant value (ValueError when this holds a schedule).
  double value() const;
  /// The schedule (ValueError when this holds a constant).
  const Schedule& schedule() const;
  /// The value at `count`: the constant, or the schedule evaluated there.
  double operator()(std::int64_t count) const { return schedule_ ? schedule_(count) : value_; }

 private:
  double value_ = 0.0;
  Schedule schedule_;
};

/// `value` at every step.
Schedule constant_schedule(double value);

/// `(init - end) * (1 - c/T)^power + end` with `c = clip(count - transition_begin, 0, T)`:
/// init before `transition_begin`, end from `transition_begin + T` on. A non-positive
/// `transition_steps` gives the constant `init_value`; a negative `transition_begin` counts as 0
/// (both as Optax).
Schedule polynomial_schedule(double init_value, double end_value, double power,
                             std::int64_t transition_steps, std::int64_t transition_begin = 0);

/// polynomial_schedule with power 1.
Schedule linear_schedule(double init_value, double end_value, std::int64_t transition_steps,
                         std::int64_t transition_begin = 0);

/// `init_value` multiplied by every `scale` whose boundary step the count has reached
/// (`count >= step`), cumulatively. ValueError for a negative scale.
Schedule piecewise_constant_schedule(
    double init_value, const std::map<std::int64_t, double>& boundaries_and_scales = {});

/// `init * rate^((count - transition_begin) / transition_steps)` (the exponent floored when
/// `staircase`), `init` up to `transition_begin`; with `end_value`, bounded below by it when the
/// rate is < 1 and above otherwise. A non-positive `transition_steps` or a zero rate gives the
/// constant `init_value`; a negative `transition_begin` counts as 0 (as Optax).
Schedule exponential_decay(double init_value, std::int64_t transition_steps, double decay_rate,
                           std::int64_t transition_begin = 0, bool staircase = false,
                           std::optional<double> end_value = std::nullopt);

/// `init * ((1 - alpha) * (0.5 * (1 + cos(pi * min(count, T) / T)))^exponent + alpha)`.
/// ValueError when `decay_steps <= 0`.
Schedule cosine_decay_schedule(double init_value, std::int64_t decay_steps, double alpha = 0.0,
                               double exponent = 1.0);

/// Linear warmup from `init_value` to `peak_value` over `warmup_steps`, then `peak_value`.
Schedule warmup_constant_schedule(double init_value, double peak_value, std::int64_t warmup_steps);

/// Linear warmup from `init_value` to `peak_value` over `warmup_steps`, then cosine decay to
/// `end_value` at step `decay_steps` — which counts the warmup too (Optax's convention). Gives
/// init at 0, peak at warmup_steps, end from decay_steps on. ValueError unless
/// `decay_steps > warmup_steps`.
Schedule warmup_cosine_decay_schedule(double init_value, double peak_value,
                                      std::int64_t warmup_steps, std::int64_t decay_steps,
                                      double end_value = 0.0, double exponent = 1.0);

/// Linear warmup to `peak_value` over `warmup_steps`, then exponential_decay from the peak
/// (counted from the end of the warmup).
Schedule warmup_exponential_decay_schedule(double init_value, double peak_value,
                                           std::int64_t warmup_steps, std::int64_t transition_steps,
                                           double decay_rate, std::int64_t transition_begin = 0,
                                           bool staircase = false,
                                           std::optional<double> end_value = std::nullopt);

/// Interpolation between the values of piecewise_interpolate_schedule.
enum class Interpolation { Linear, Cosine };

/// The values `init, init*s1, init*s1*s2, ...` at step 0 and at each boundary, interpolated
/// linearly or along half a cosine in between; the last value from the last boundary on.
/// ValueError for a negative scale.
Schedule piecewise_interpolate_schedule(
    Interpolation interpolation, double init_value,
    const std::map<std::int64_t, double>& boundaries_and_scales = {});

/// The one-cycle policy (Smith & Topin) with linear pieces: from `peak/div_factor` up to
/// `peak` at `pct_start*T`, down to `peak/div_factor` at `pct_final*T`, then to
/// `peak/(div_factor*final_div_factor)` at T. ValueError when `transition_steps <= 0`.
Schedule linear_onecycle_schedule(std::int64_t transition_steps, double peak_value,
                                  double pct_start = 0.3, double pct_final = 0.85,
                                  double div_factor = 25.0, double final_div_factor = 1e4);

/// The one-cycle policy with cosine pieces: from `peak/div_factor` up to `peak` at
/// `pct_start*T`, then down to `peak/(div_factor*final_div_factor)` at T. ValueError when
/// `transition_steps <= 0`.
Schedule cosine_onecycle_schedule(std::int64_t transition_steps, double peak_value,
                                  double pct_start = 0.3, double div_factor = 25.0,
                                  double final_div_factor = 1e4);

/// `schedules[0]` before `boundaries[0]`, then `schedules[i+1]` fed the step relative to
/// `boundaries[i]`. ValueError unless there is one boundary fewer than schedules.
Schedule join_schedules(std::vector<Schedule> schedules, std::vector<std::int64_t> boundaries);

/// One cycle of sgdr_schedule: the arguments of warmup_cosine_decay_schedule.
struct WarmupCosineCycle {
  double init_value = 0.0;
  double peak_value = 0.0;
  std::int64_t warmup_steps = 0;
  std::int64_t decay_steps = 0;
  double end_value = 0.0;
  double exponent = 1.0;
};

/// SGD with warm restarts (Loshchilov & Hutter): warmup-cosine cycles joined end to end.
/// ValueError for an empty list.
Schedule sgdr_schedule(const std::vector<WarmupCosineCycle>& cycles);

}  // namespace jute::optim
