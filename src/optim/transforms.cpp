// The building blocks: Optax's transform.py, transforms/_adding.py, _clipping.py,
// _accumulation.py (trace, ema) and factorized.py. The element-wise work of each is one call of a
// fused per-leaf formula (kernels.hpp); this file handles states, counts and reductions.
#include "jute/optim/transforms.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/trace.hpp"
#include "jute/errors.hpp"
#include "jute/ops.hpp"
#include "optim/fusion.hpp"
#include "optim/kernels.hpp"
#include "optim/leafwise.hpp"

namespace jute::optim {

using detail::int32_scalar;
using detail::Named;
using detail::read_count;
using detail::safe_increment;

namespace {

Tree empty_init(const Tree&) { return Tree(); }

/// A stateless transformation applying `f(g)` to every leaf of the updates.
GradientTransformation leafwise_stateless(const char* op, std::function<Array(const Array&)> f) {
  return {empty_init,
          [op, f = std::move(f)](const Tree& updates, Tree state, const std::optional<Tree>&) {
            return Update{detail::map_leaves1<1>(op, {Named{&updates, "updates"}},
                                                 [&](std::array<Array, 1>& a) { return f(a[0]); }),
                          std::move(state)};
          }};
}

/// A stateless transformation applying `f(g, p)` to every leaf of the updates and params.
GradientTransformation leafwise_with_params(const char* op,
                                            std::function<Array(const Array&, const Array&)> f) {
  return {empty_init, [op, f = std::move(f)](const Tree& updates, Tree state,
                                             const std::optional<Tree>& params) {
            const Tree& p = detail::require_params(op, params);
            return Update{
                detail::map_leaves1<2>(op, {Named{&updates, "updates"}, Named{&p, "params"}},
                                       [&](std::array<Array, 2>& a) { return f(a[0], a[1]); }),
                std::move(state)};
          }};
}

/// scale_by_adam's state.
Tree adam_state(std::int32_t count, Tree mu, Tree nu) {
  return Tree{{"count", int32_scalar(count)}, {"mu", std::move(mu)}, {"nu", std::move(nu)}};
}

}  // namespace

// ---- scaling ---------------------------------------------------------------------------------

GradientTransformation scale(double step_size) {
  return detail::scaling(
      empty_init,
      [step_size](const Tree& updates, Tree state, const std::optional<Tree>&) {
        return Update{detail::map_leaves1<1>("optim.scale", {Named{&updates, "updates"}},
                                             [&](std::array<Array, 1>& a) {
                                               return detail::scale_leaf(std::move(a[0]),
                                                                         step_size);
                                             }),
                      std::move(state)};
      },
      [step_size](const Tree&) { return step_size; }, [](const Tree& state) { return state; });
}

GradientTransformation scale_by_schedule(Schedule step_size_fn) {
  if (!step_size_fn) throw ValueError("[optim.scale_by_schedule] The schedule is empty.");
  const char* op = "optim.scale_by_schedule";
  auto factor = [op, step_size_fn](const Tree& state) {
    return step_size_fn(read_count(op, state));
  };
  auto next_state = [op](const Tree& state) {
    return Tree{{"count", int32_scalar(safe_increment(read_count(op, state)))}};
  };
  return detail::scaling(
      [](const Tree&) {
        return Tree{{"count", int32_scalar(0)}};
      },
      [op, factor, next_state](const Tree& updates, Tree state, const std::optional<Tree>&) {
        const double step_size = factor(state);
        Tree u =
            detail::map_leaves1<1>(op, {Named{&updates, "updates"}}, [&](std::array<Array, 1>& a) {
              return detail::scale_leaf(std::move(a[0]), step_size);
            });
        return Update{std::move(u), next_state(state)};
      },
      factor, next_state);
}

GradientTransformation scale_by_learning_rate(ScalarOrSchedule learning_rate, bool flip_sign) {
  const double m = flip_sign ? -1.0 : 1.0;
  if (learning_rate.is_schedule()) {
    return scale_by_schedule(
        [m, lr = learning_rate.schedule()](std::int64_t count) { return m * lr(count); });
  }
  return scale(m * learning_rate.value());
}

GradientTransformation scale_by_adam(const AdamOptions& o) {
  return detail::scalable(
      [o](const Tree& params) {
        return Tree{{"count", int32_scalar(0)},
                    {"mu", detail::zeros_like_tree(params, o.mu_dtype)},
                    {"nu", detail::zeros_like_tree(params)}};
      },
      [o](const Tree& updates, Tree state, const std::optional<Tree>&, double post) {
        const char* op = "optim.scale_by_adam";
        const std::int32_t t = safe_increment(read_count(op, state));
        auto [mu, nu] = detail::take_subtrees<2>(op, std::move(state), {"mu", "nu"});
        auto [u, mu2, nu2] =
            detail::map_leaves<3, 3>(op,
                                     {Named{&updates, "updates"}, Named{&mu, "state's mu", &mu},
                                      Named{&nu, "state's nu", &nu}},
                                     [&](std::array<Array, 3>& a) {
                                       const DType nu_dtype = a[2].dtype();
                                       auto r = detail::adam_leaf(std::move(a[0]), std::move(a[1]),
                                                                  std::move(a[2]), o, t, post);
                                       if (o.mu_dtype) r[1] = r[1].astype(*o.mu_dtype);
                                       r[2] = r[2].astype(nu_dtype);
                                       return r;
                                     });
        return Update{std::move(u), adam_state(t, std::move(mu2), std::move(nu2))};
      },
      [o](const Tree& updates, Tree state, Tree params, double post) {
        const char* op = "optim.scale_by_adam";
        const std::int32_t t = safe_increment(read_count(op, state));
        auto [mu, nu] = detail::take_subtrees<2>(op, std::move(state), {"mu", "nu"});
        auto [p2, mu2, nu2] = detail::map_leaves<3, 4>(
            op,
            {Named{&updates, "updates"}, Named{&params, "params", &params},
             Named{&mu, "state's mu", &mu}, Named{&nu, "state's nu", &nu}},
            [&](std::array<Array, 4>& a) {
              return detail::adam_apply_leaf(std::move(a[1]), std::move(a[0]), std::move(a[2]),
                                             std::move(a[3]), o, t, post);
            });
        return Applied{std::move(p2), adam_state(t, std::move(mu2), std::move(nu2))};
      });
}

GradientTransformation scale_by_rms(const RmsOptions& o) {
  return detail::scalable(
      [o](const Tree& params) {
        Tree nu = detail::full_like_tree(params, o.initial_scale);
        if (o.bias_correction) return Tree{{"count", int32_scalar(0)}, {"nu", std::move(nu)}};
        return Tree{{"nu", std::move(nu)}};
      },
      [o](const Tree& updates, Tree state, const std::optional<Tree>&, double post) {
        const char* op = "optim.scale_by_rms";
        const std::int32_t t = o.bias_correction ? safe_increment(read_count(op, state)) : 0;
        auto [nu] = detail::take_subtrees<1>(op, std::move(state), {"nu"});
        auto [u, nu2] = detail::map_leaves<2, 2>(
            op, {Named{&updates, "updates"}, Named{&nu, "state's nu", &nu}},
            [&](std::array<Array, 2>& a) {
              return detail::rms_leaf(std::move(a[0]), std::move(a[1]), o, t, post);
            });
        if (o.bias_correction)
          return Update{std::move(u), Tree{{"count", int32_scalar(t)}, {"nu", std::move(nu2)}}};
        return Update{std::move(u), Tree{{"nu", std::move(nu2)}}};
      });
}

GradientTransformation scale_by_stddev(const RmsOptions& o) {
  return detail::scalable(
      [o](const Tree& params) {
        Tree mu = detail::zeros_like_tree(params);
        Tree nu = detail::full_like_tree(params, o.initial_scale);
        if (o.bias_correction)
          return Tree{{"count", int32_scalar(0)}, {"mu", std::move(mu)}, {"nu", std::move(nu)}};
        return Tree{{"mu", std::move(mu)}, {"nu", std::move(nu)}};
      },
      [o](const Tree& updates, Tree state, const std::optional<Tree>&, double post) {
        const char* op = "optim.scale_by_stddev";
        const std::int32_t t = o.bias_correction ? safe_increment(read_count(op, state)) : 0;
        auto [mu, nu] = detail::take_subtrees<2>(op, std::move(state), {"mu", "nu"});
        auto [u, mu2, nu2] =
            detail::map_leaves<3, 3>(op,
                                     {Named{&updates, "updates"}, Named{&mu, "state's mu", &mu},
                                      Named{&nu, "state's nu", &nu}},
                                     [&](std::array<Array, 3>& a) {
                                       return detail::stddev_leaf(std::move(a[0]), std::move(a[1]),
                                                                  std::move(a[2]), o, t, post);
                                     });
        Tree s{{"mu", std::move(mu2)}, {"nu", std::move(nu2)}};
        if (o.bias_correction) s = s.set(Path{"count"}, int32_scalar(t));
        return Update{std::move(u), std::move(s)};
      });
}

GradientTransformation scale_by_rss(double initial_accumulator_value, double eps) {
  return detail::scalable(
      [initial_accumulator_value](const Tree& params) {
        return Tree{{"sum_of_squares", detail::full_like_tree(params, initial_accumulator_value)}};
      },
      [eps](const Tree& updates, Tree state, const std::optional<Tree>&, double post) {
        const char* op = "optim.scale_by_rss";
        auto [s] = detail::take_subtrees<1>(op, std::move(state), {"sum_of_squares"});
        auto [u, s2] = detail::map_leaves<2, 2>(
            op, {Named{&updates, "updates"}, Named{&s, "state's sum_of_squares", &s}},
            [&](std::array<Array, 2>& a) {
              return detail::rss_leaf(std::move(a[0]), std::move(a[1]), eps, post);
            });
        return Update{std::move(u), Tree{{"sum_of_squares", std::move(s2)}}};
      });
}

GradientTransformation scale_by_lion(const LionOptions& o) {
  return {[o](const Tree& params) {
            return Tree{{"count", int32_scalar(0)},
                        {"mu", detail::zeros_like_tree(params, o.mu_dtype)}};
          },
          [o](const Tree& updates, Tree state, const std::optional<Tree>&) {
            const char* op = "optim.scale_by_lion";
            const std::int32_t t = safe_increment(read_count(op, state));
            auto [mu] = detail::take_subtrees<1>(op, std::move(state), {"mu"});
            auto [u, mu2] = detail::map_leaves<2, 2>(
                op, {Named{&updates, "updates"}, Named{&mu, "state's mu", &mu}},
                [&](std::array<Array, 2>& a) {
                  auto r = detail::lion_leaf(std::move(a[0]), std::move(a[1]), o);
                  if (o.mu_dtype) r[1] = r[1].astype(*o.mu_dtype);
                  return r;
                });
            return Update{std::move(u), Tree{{"count", int32_scalar(t)}, {"mu", std::move(mu2)}}};
          }};
}

GradientTransformation scale_by_trust_ratio(double min_norm, double trust_coefficient, double eps) {
  return leafwise_with_params("optim.scale_by_trust_ratio", [=](const Array& u, const Array& p) {
    return detail::trust_ratio_leaf(u, p, min_norm, trust_coefficient, eps);
  });
}

GradientTransformation scale_by_param_block_rms(double min_scale) {
  return leafwise_with_params("optim.scale_by_param_block_rms",
                              [=](const Array& u, const Array& p) {
                                return detail::param_block_rms_leaf(u, p, min_scale);
                              });
}

GradientTransformation scale_by_sign() {
  return leafwise_stateless("optim.scale_by_sign",
                            [](const Array& g) { return detail::sign_leaf(g); });
}

// ---- adafactor's factored second moments -----------------------------------------------------

namespace {

/// The two dimensions Adafactor factors over (d1 second largest, d0 largest), if any.
std::optional<std::pair<int, int>> factored_dims(const Shape& shape, bool factored,
                                                 std::int64_t min_dim_size_to_factor) {
  if (!factored || shape.size() < 2) return std::nullopt;
  std::vector<int> order(shape.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return shape[a] < shape[b]; });
  const int d1 = order[order.size() - 2];
  const int d0 = order.back();
  if (shape[d1] < min_dim_size_to_factor) return std::nullopt;
  return std::pair{d1, d0};
}

Shape without_axis(const Shape& shape, int axis) {
  Shape s = shape;
  s.erase(s.begin() + axis);
  return s;
}

}  // namespace

GradientTransformation scale_by_factored_rms(const FactoredRmsOptions& o) {
  return {
      [o](const Tree& params) {
        auto placeholder = [](const Array& p) { return zeros({1}, p.dtype()); };
        auto v_row = tree_map(
            [&](const Array& p) {
              auto dims = factored_dims(p.shape(), o.factored, o.min_dim_size_to_factor);
              return dims ? zeros(without_axis(p.shape(), dims->second), p.dtype())
                          : placeholder(p);
            },
            params);
        auto v_col = tree_map(
            [&](const Array& p) {
              auto dims = factored_dims(p.shape(), o.factored, o.min_dim_size_to_factor);
              return dims ? zeros(without_axis(p.shape(), dims->first), p.dtype()) : placeholder(p);
            },
            params);
        auto v = tree_map(
            [&](const Array& p) {
              return factored_dims(p.shape(), o.factored, o.min_dim_size_to_factor) ? placeholder(p)
                                                                                    : zeros_like(p);
            },
            params);
        return Tree{{"count", int32_scalar(0)},
                    {"v_row", std::move(v_row)},
                    {"v_col", std::move(v_col)},
                    {"v", std::move(v)}};
      },
      [o](const Tree& updates, Tree state, const std::optional<Tree>& params) {
        const char* op = "optim.scale_by_factored_rms";
        const Tree& p = detail::require_params(op, params);
        const std::int32_t count = read_count(op, state);
        auto [v_row, v_col, v] =
            detail::take_subtrees<3>(op, std::move(state), {"v_row", "v_col", "v"});
        const auto table =
            detail::leaf_table(op, {Named{&updates, "updates"}, Named{&p, "params"}});
        detail::check_structure(op, updates, "updates", v_row, "state's v_row");
        detail::check_structure(op, updates, "updates", v_col, "state's v_col");
        detail::check_structure(op, updates, "updates", v, "state's v");
        const auto rows = leaves(v_row);
        const auto cols = leaves(v_col);
        const auto vs = leaves(v);
        // beta_t = 1 - (step - offset + 1)^-decay_rate, formed in float32 as Optax.
        const float t = static_cast<float>(static_cast<std::int64_t>(count) - o.step_offset + 1);
        const float beta = 1.0f - std::pow(t, static_cast<float>(-o.decay_rate));
        const float one_minus_beta = 1.0f - beta;
        const Array beta_a = Array::scalar(beta, float32);
        const Array one_minus_beta_a = Array::scalar(one_minus_beta, float32);
        std::vector<Array> u_out, row_out, col_out, v_out;
        for (std::size_t i = 0; i < table.size(); ++i) {
          const Array& g = table.columns[0][i];
          const Array& param = table.columns[1][i];
          const DType dt = param.dtype();
          auto dims = factored_dims(param.shape(), o.factored, o.min_dim_size_to_factor);
          const Shape want_v = dims ? Shape{1} : param.shape();
          if (vs[i].shape() != want_v ||
              rows[i].shape() != (dims ? without_axis(param.shape(), dims->second) : Shape{1}) ||
              cols[i].shape() != (dims ? without_axis(param.shape(), dims->first) : Shape{1})) {
            throw ShapeError(std::string("[") + op + "] The state's moments for " +
                             detail::leaf_path(updates, i) + " do not fit its shape " +
                             jute::detail::shape_str(param.shape()) +
                             "; pass the state that init returned for these params.");
          }
          if (!dims) {
            auto r = detail::factored_v_leaf(g, vs[i], beta, one_minus_beta, o.epsilon);
            u_out.push_back(std::move(r[0]));
            v_out.push_back(r[1].astype(dt));
            row_out.push_back(rows[i]);
            col_out.push_back(cols[i]);
            continue;
          }
          const auto [d1, d0] = *dims;
          const Array g2 = g * g + Array::scalar(o.epsilon, g.dtype());
          const Array new_row = (beta_a * rows[i] + one_minus_beta_a * mean(g2, d0)).astype(dt);
          const Array new_col = (beta_a * cols[i] + one_minus_beta_a * mean(g2, d1)).astype(dt);
          const int reduced_d1 = d1 > d0 ? d1 - 1 : d1;
          const Array row_col_mean = mean(new_row, reduced_d1, /*keepdims=*/true);
          const Array row_factor = rsqrt(new_row / row_col_mean);
          const Array col_factor = rsqrt(new_col);
          u_out.push_back(g * expand_dims(row_factor, d0) * expand_dims(col_factor, d1));
          row_out.push_back(new_row);
          col_out.push_back(new_col);
          v_out.push_back(vs[i]);
        }
        return Update{with_leaves(updates, u_out),
                      Tree{{"count", int32_scalar(safe_increment(count))},
                           {"v_row", with_leaves(v_row, row_out)},
                           {"v_col", with_leaves(v_col, col_out)},
                           {"v", with_leaves(v, v_out)}}};
      }};
}

// ---- momentum --------------------------------------------------------------------------------

GradientTransformation trace(double decay, bool nesterov, std::optional<DType> accumulator_dtype) {
  return detail::scalable(
      [accumulator_dtype](const Tree& params) {
        return Tree{{"trace", detail::zeros_like_tree(params, accumulator_dtype)}};
      },
      [=](const Tree& updates, Tree state, const std::optional<Tree>&, double post) {
        const char* op = "optim.trace";
        auto [tr] = detail::take_subtrees<1>(op, std::move(state), {"trace"});
        auto [u, t2] = detail::map_leaves<2, 2>(
            op, {Named{&updates, "updates"}, Named{&tr, "state's trace", &tr}},
            [&](std::array<Array, 2>& a) {
              auto r = detail::trace_leaf(std::move(a[0]), std::move(a[1]), decay, nesterov, post);
              if (accumulator_dtype) r[1] = r[1].astype(*accumulator_dtype);
              return r;
            });
        return Update{std::move(u), Tree{{"trace", std::move(t2)}}};
      },
      [=](const Tree& updates, Tree state, Tree params, double post) {
        const char* op = "optim.trace";
        auto [tr] = detail::take_subtrees<1>(op, std::move(state), {"trace"});
        auto [p2, t2] = detail::map_leaves<2, 3>(
            op,
            {Named{&updates, "updates"}, Named{&params, "params", &params},
             Named{&tr, "state's trace", &tr}},
            [&](std::array<Array, 3>& a) {
              return detail::momentum_apply_leaf(std::move(a[1]), std::move(a[0]), std::move(a[2]),
                                                 decay, nesterov, post, accumulator_dtype);
            });
        return Applied{std::move(p2), Tree{{"trace", std::move(t2)}}};
      });
}

GradientTransformation ema(double decay, bool debias, std::optional<DType> accumulator_dtype) {
  return {[accumulator_dtype](const Tree& params) {
            return Tree{{"count", int32_scalar(0)},
                        {"ema", detail::zeros_like_tree(params, accumulator_dtype)}};
          },
          [=](const Tree& updates, Tree state, const std::optional<Tree>&) {
            const char* op = "optim.ema";
            const std::int32_t t = safe_increment(read_count(op, state));
            auto [e] = detail::take_subtrees<1>(op, std::move(state), {"ema"});
            auto [u, e2] = detail::map_leaves<2, 2>(
                op, {Named{&updates, "updates"}, Named{&e, "state's ema", &e}},
                [&](std::array<Array, 2>& a) {
                  auto r =
                      detail::ema_leaf(std::move(a[0]), std::move(a[1]), decay, debias ? t : 0);
                  if (accumulator_dtype) r[1] = r[1].astype(*accumulator_dtype);
                  return r;
                });
            return Update{std::move(u), Tree{{"count", int32_scalar(t)}, {"ema", std::move(e2)}}};
          }};
}

// ---- adding and clipping ---------------------------------------------------------------------

GradientTransformation add_decayed_weights(ScalarOrSchedule weight_decay,
                                           std::optional<Mask> mask) {
  GradientTransformation tx = detail::scalable(
      [weight_decay](const Tree&) {
        return weight_decay.is_schedule() ? Tree{{"count", int32_scalar(0)}} : Tree();
      },
      [weight_decay](const Tree& updates, Tree state, const std::optional<Tree>& params,
                     double post) {
        const char* op = "optim.add_decayed_weights";
        const Tree& p = detail::require_params(op, params);
        double s = 0.0;
        Tree new_state = std::move(state);
        if (weight_decay.is_schedule()) {
          const std::int32_t count = read_count(op, new_state);
          s = weight_decay(count);
          new_state = Tree{{"count", int32_scalar(safe_increment(count))}};
        } else {
          s = weight_decay.value();
        }
        if (!weight_decay.is_schedule() && s == 0.0) {
          // A constant 0 passes the updates through (then only a fused factor applies).
          if (post == 1.0) return Update{updates, new_state};
          return Update{detail::map_leaves1<1>(op, {Named{&updates, "updates"}},
                                               [&](std::array<Array, 1>& a) {
                                                 return detail::scale_leaf(std::move(a[0]), post);
                                               }),
                        new_state};
        }
        Tree u = detail::map_leaves1<2>(
            op, {Named{&updates, "updates"}, Named{&p, "params"}}, [&](std::array<Array, 2>& a) {
              return detail::add_scaled_leaf(std::move(a[0]), std::move(a[1]), s, post);
            });
        return Update{std::move(u), std::move(new_state)};
      });
  if (mask) return masked(std::move(tx), std::move(*mask));
  return tx;
}

GradientTransformation clip(double max_delta) {
  return leafwise_stateless(
      "optim.clip", [max_delta](const Array& g) { return detail::clip_leaf(g, max_delta); });
}

Array global_norm(const Tree& tree) {
  return detail::sqrt_leaf(detail::tree_sum_of_squares(leaves(tree)));
}

GradientTransformation clip_by_global_norm(double max_norm) {
  return {empty_init, [max_norm](const Tree& updates, Tree state, const std::optional<Tree>&) {
            const Array norm = global_norm(updates);
            // trigger = norm < max_norm, compared in the norm's dtype; a NaN norm rescales.
            if (norm.item<double>() < detail::round_to(max_norm, norm.dtype())) {
              return Update{updates, std::move(state)};
            }
            Tree u = detail::map_leaves1<1>(
                "optim.clip_by_global_norm", {Named{&updates, "updates"}},
                [&](std::array<Array, 1>& a) {
                  return detail::clip_by_norm_leaf(std::move(a[0]), norm, max_norm);
                });
            return Update{std::move(u), std::move(state)};
          }};
}

GradientTransformation clip_by_block_rms(double threshold) {
  return leafwise_stateless("optim.clip_by_block_rms", [threshold](const Array& u) {
    return detail::block_rms_clip_leaf(u, threshold);
  });
}

GradientTransformation centralize() {
  return leafwise_stateless("optim.centralize", [](const Array& g) {
    if (g.ndim() <= 1) return g;
    std::vector<int> axes(static_cast<std::size_t>(g.ndim() - 1));
    std::iota(axes.begin(), axes.end(), 1);
    return g - mean(g, Axes(axes), /*keepdims=*/true);
  });
}

}  // namespace jute::optim
