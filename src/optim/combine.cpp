// Combinators: chain, masked, multi_transform, apply_if_finite, MultiSteps, inject_hyperparams.
#include "jute/optim/combine.hpp"

#include <set>

#include "jute/errors.hpp"
#include "optim/fusion.hpp"
#include "optim/kernels.hpp"
#include "optim/leafwise.hpp"

namespace jute::optim {

using detail::int32_scalar;
using detail::read_count;
using detail::safe_increment;

namespace {

std::string joined(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) {
    if (!out.empty()) out += '/';
    out += k;
  }
  return out;
}

Array bool_scalar(bool b) { return Array::scalar(b ? 1.0 : 0.0, bool_); }

/// Applies `transforms` in order to the entries `keys` of the state. A transformation that can
/// absorb a factor followed by a pure scaling runs fused with it, in one pass (fusion.hpp).
Update run_in_order(const char* op, const std::vector<std::string>& keys,
                    const std::vector<GradientTransformation>& transforms, const Tree& updates,
                    Tree state, const std::optional<Tree>& params) {
  if (state.size() != keys.size()) {
    throw ValueError(std::string("[") + op + "] The state has " + std::to_string(state.size()) +
                     " entries but there are " + std::to_string(keys.size()) +
                     " transformations; pass the state that this transformation's init returned.");
  }
  // Each transformation gets its sub-state by value, and the whole state is released first, so
  // a sub-state the caller gave up can be updated in its own buffers.
  std::vector<Tree> subs;
  subs.reserve(keys.size());
  for (const auto& key : keys) subs.push_back(detail::state_tree(op, state, key.c_str()));
  state = Tree();
  Tree u = updates;
  std::vector<std::pair<std::string, TreeValue>> new_state;
  new_state.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const detail::FusionHooks* hooks = transforms[i].fusion().get();
    const detail::FusionHooks* next =
        i + 1 < keys.size() ? transforms[i + 1].fusion().get() : nullptr;
    if (hooks && hooks->update_scaled && next && next->factor) {
      const double factor = next->factor(subs[i + 1]);
      Update r = hooks->update_scaled(u, std::move(subs[i]), params, factor);
      u = std::move(r.updates);
      new_state.emplace_back(keys[i], std::move(r.state));
      new_state.emplace_back(keys[i + 1], next->next_state(subs[i + 1]));
      ++i;
      continue;
    }
    Update r = transforms[i].update_fn()(u, std::move(subs[i]), params);
    u = std::move(r.updates);
    new_state.emplace_back(keys[i], std::move(r.state));
  }
  return Update{std::move(u), Tree::from_entries(std::move(new_state))};
}

GradientTransformation sequence(const char* op, std::vector<std::string> keys,
                                std::vector<GradientTransformation> transforms) {
  return {
      [keys, transforms](const Tree& params) {
        std::vector<std::pair<std::string, TreeValue>> states;
        states.reserve(keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i)
          states.emplace_back(keys[i], transforms[i].init(params));
        return Tree::from_entries(std::move(states));
      },
      [op, keys, transforms](const Tree& updates, Tree state, const std::optional<Tree>& params) {
        return run_in_order(op, keys, transforms, updates, std::move(state), params);
      }};
}

// ---- masks -----------------------------------------------------------------------------------

/// The bool value of a mask leaf (ValueError naming the path unless it is a bool scalar).
bool mask_value(const Array& m, const std::vector<std::string>& path) {
  if (m.dtype() != bool_ || m.size() != 1) {
    throw ValueError("[optim.masked] The mask's leaf at " + joined(path) + " is " +
                     m.type_string() + "; mask leaves must be bool scalars.");
  }
  return m.item<bool>();
}

/// Walks `mask` over `if_true` (whose structure the mask must be a prefix of): where the mask is
/// true the entry of `if_true`, where false the entry of `if_false`, or an empty Tree (Optax's
/// MaskedNode) when `if_false` is null.
Tree select_by_mask(const Tree& mask, const Tree& if_true, const Tree* if_false,
                    std::vector<std::string>& path, const char* what) {
  for (const auto& e : if_true) {
    if (mask.find(Path{e.key}) == nullptr) {
      path.push_back(e.key);
      throw ValueError("[optim.masked] The " + std::string(what) + " have an entry at " +
                       joined(path) +
                       " that the mask lacks; give a mask shaped like the params (or like a "
                       "prefix of them).");
    }
  }
  std::vector<std::pair<std::string, TreeValue>> out;
  out.reserve(mask.size());
  for (const auto& e : mask) {
    path.push_back(e.key);
    const TreeValue* t = if_true.find(Path{e.key});
    if (t == nullptr) {
      throw ValueError("[optim.masked] The mask has an entry at " + joined(path) + " that the " +
                       what +
                       " lack; give a mask shaped like the params (or like a prefix of "
                       "them).");
    }
    const TreeValue* f = if_false ? if_false->find(Path{e.key}) : nullptr;
    if (e.value.is_array()) {
      if (mask_value(e.value.array(), path))
        out.emplace_back(e.key, *t);
      else
        out.emplace_back(e.key, f ? *f : TreeValue(Tree()));
    } else {
      if (!t->is_tree()) {
        throw ValueError("[optim.masked] The mask has a sub-Tree at " + joined(path) +
                         " where the " + what +
                         " have a leaf; give a mask shaped like the "
                         "params (or like a prefix of them).");
      }
      const Tree* ft = (f && f->is_tree()) ? &f->tree() : nullptr;
      out.emplace_back(e.key, select_by_mask(e.value.tree(), t->tree(), ft, path, what));
    }
    path.pop_back();
  }
  return Tree::from_entries(std::move(out));
}

Tree mask_tree(const Tree& mask, const Tree& tree, const char* what) {
  std::vector<std::string> path;
  return select_by_mask(mask, tree, nullptr, path, what);
}

}  // namespace

// ---- chain -----------------------------------------------------------------------------------

GradientTransformation chain(std::vector<GradientTransformation> transforms) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < transforms.size(); ++i) keys.push_back(std::to_string(i));
  GradientTransformation chained = sequence("optim.chain", std::move(keys), transforms);
  return detail::applying_chain(std::move(chained), transforms);
}

GradientTransformation named_chain(
    std::vector<std::pair<std::string, GradientTransformation>> transforms) {
  std::vector<std::string> keys;
  std::vector<GradientTransformation> txs;
  std::set<std::string> seen;
  for (auto& [name, tx] : transforms) {
    if (name.empty() || !seen.insert(name).second) {
      throw ValueError("[optim.named_chain] The name \"" + name +
                       "\" is empty or repeated; give every transformation its own name.");
    }
    keys.push_back(name);
    txs.push_back(std::move(tx));
  }
  return sequence("optim.named_chain", std::move(keys), std::move(txs));
}

// ---- masked ----------------------------------------------------------------------------------

Mask::Mask(Tree mask) : tree_(std::move(mask)) {}

Mask::Mask(TreeFn fn) : fn_(std::move(fn)) {
  if (!fn_) throw ValueError("[optim.Mask] The mask function is empty; give a callable.");
}

Mask Mask::from_leaf_fn(LeafFn fn) {
  if (!fn) throw ValueError("[optim.Mask] The leaf predicate is empty; give a callable.");
  Mask m;
  m.fn_ = [fn = std::move(fn)](const Tree& tree) {
    return tree_map_with_path(
        [&](const std::string& path, const Array& leaf) { return bool_scalar(fn(path, leaf)); },
        tree);
  };
  return m;
}

Tree Mask::resolve(const Tree& tree) const { return tree_ ? *tree_ : fn_(tree); }

GradientTransformation masked(GradientTransformation inner, Mask mask) {
  return {
      [inner, mask](const Tree& params) {
        return Tree{{"inner_state", inner.init(mask_tree(mask.resolve(params), params, "params"))}};
      },
      [inner, mask](const Tree& updates, Tree state, const std::optional<Tree>& params) {
        const Tree m = mask.resolve(updates);
        const Tree masked_updates = mask_tree(m, updates, "updates");
        std::optional<Tree> masked_params;
        if (params) masked_params = mask_tree(m, *params, "params");
        auto [inner_state] =
            detail::take_subtrees<1>("optim.masked", std::move(state), {"inner_state"});
        Update r = inner.update_fn()(masked_updates, std::move(inner_state), masked_params);
        std::vector<std::string> path;
        Tree merged = select_by_mask(m, r.updates, &updates, path, "inner updates");
        return Update{std::move(merged), Tree{{"inner_state", std::move(r.state)}}};
      }};
}

GradientTransformation freeze(Mask mask) { return masked(set_to_zero(), std::move(mask)); }

// ---- multi_transform -------------------------------------------------------------------------

ParamLabels::ParamLabels(std::map<std::string, std::string> by_path)
    : by_path_(std::move(by_path)) {}

ParamLabels::ParamLabels(LeafFn fn) : fn_(std::move(fn)) {
  if (!fn_) throw ValueError("[optim.ParamLabels] The label function is empty; give a callable.");
}

std::string ParamLabels::label(const std::string& path, const Array& leaf) const {
  if (fn_) return fn_(path, leaf);
  std::string prefix = path;
  while (true) {
    if (auto it = by_path_.find(prefix); it != by_path_.end()) return it->second;
    const auto slash = prefix.rfind('/');
    if (slash == std::string::npos) break;
    prefix.resize(slash);
  }
  throw ValueError("[optim.multi_transform] The parameter " + path +
                   " has no label; give a label for its path or for a prefix of it.");
}

namespace {

/// The mask of the leaves labelled `group`, after checking every label has a transformation.
Tree label_mask(const ParamLabels& labels, const Tree& tree, const std::string& group) {
  return tree_map_with_path(
      [&](const std::string& path, const Array& leaf) {
        return bool_scalar(labels.label(path, leaf) == group);
      },
      tree);
}

void check_labels(const ParamLabels& labels, const Tree& tree,
                  const std::map<std::string, GradientTransformation>& transforms) {
  for (const auto& [path, leaf] : flatten(tree)) {
    const std::string l = labels.label(path, leaf);
    if (transforms.count(l) == 0) {
      std::string known;
      for (const auto& [k, tx] : transforms) {
        if (!known.empty()) known += ", ";
        known += "\"" + k + "\"";
      }
      throw ValueError("[optim.multi_transform] The parameter " + path + " has the label \"" + l +
                       "\", which has no transformation (transformations: " +
                       (known.empty() ? "none" : known) + "); give one for every label.");
    }
  }
}

}  // namespace

GradientTransformation multi_transform(std::map<std::string, GradientTransformation> transforms,
                                       ParamLabels labels) {
  return {
      [transforms, labels](const Tree& params) {
        check_labels(labels, params, transforms);
        std::vector<std::pair<std::string, TreeValue>> states;
        for (const auto& [group, tx] : transforms)
          states.emplace_back(group, masked(tx, label_mask(labels, params, group)).init(params));
        return Tree{{"inner_states", Tree::from_entries(std::move(states))}};
      },
      [transforms, labels](const Tree& updates, Tree state, const std::optional<Tree>& params) {
        const char* op = "optim.multi_transform";
        check_labels(labels, updates, transforms);
        std::vector<Tree> inner;
        const Tree& inner_states = detail::state_tree(op, state, "inner_states");
        for (const auto& [group, tx] : transforms)
          inner.push_back(detail::state_tree(op, inner_states, group.c_str()));
        state = Tree();
        Tree u = updates;
        std::vector<std::pair<std::string, TreeValue>> states;
        std::size_t i = 0;
        for (const auto& [group, tx] : transforms) {
          Update r = masked(tx, label_mask(labels, updates, group))
                         .update_fn()(u, std::move(inner[i++]), params);
          u = std::move(r.updates);
          states.emplace_back(group, std::move(r.state));
        }
        return Update{std::move(u), Tree{{"inner_states", Tree::from_entries(std::move(states))}}};
      }};
}

GradientTransformation partition(std::map<std::string, GradientTransformation> transforms,
                                 ParamLabels labels) {
  return multi_transform(std::move(transforms), std::move(labels));
}

// ---- apply_if_finite -------------------------------------------------------------------------

GradientTransformation apply_if_finite(GradientTransformation inner,
                                       std::int32_t max_consecutive_errors) {
  return {[inner](const Tree& params) {
            return Tree{{"notfinite_count", int32_scalar(0)},
                        {"last_finite", bool_scalar(true)},
                        {"total_notfinite", int32_scalar(0)},
                        {"inner_state", inner.init(params)}};
          },
          [inner, max_consecutive_errors](const Tree& updates, Tree state,
                                          const std::optional<Tree>& params) {
            const char* op = "optim.apply_if_finite";
            bool finite = true;
            for (const Array& leaf : leaves(updates))
              finite = finite && detail::count_not_finite(leaf) == 0;
            const std::int32_t notfinite =
                finite ? 0 : safe_increment(read_count(op, state, "notfinite_count"));
            std::int32_t total = read_count(op, state, "total_notfinite");
            if (!finite) total = safe_increment(total);
            auto [inner_state] = detail::take_subtrees<1>(op, std::move(state), {"inner_state"});
            Update r = (finite || notfinite > max_consecutive_errors)
                           ? inner.update_fn()(updates, std::move(inner_state), params)
                           : Update{detail::zeros_like_tree(updates), std::move(inner_state)};
            return Update{std::move(r.updates), Tree{{"notfinite_count", int32_scalar(notfinite)},
                                                     {"last_finite", bool_scalar(finite)},
                                                     {"total_notfinite", int32_scalar(total)},
                                                     {"inner_state", std::move(r.state)}}};
          }};
}

// ---- MultiSteps ------------------------------------------------------------------------------

std::pair<bool, Tree> skip_not_finite(const Tree& updates, std::int32_t,
                                      const std::optional<Tree>&) {
  std::int64_t n = 0;
  for (const Array& leaf : leaves(updates)) n += detail::count_not_finite(leaf);
  return {n > 0, Tree{{"should_skip", bool_scalar(n > 0)}, {"num_not_finite", int32_scalar(n)}}};
}

ShouldSkipUpdateFn skip_large_updates(double max_squared_norm) {
  return [max_squared_norm](const Tree& updates, std::int32_t, const std::optional<Tree>&) {
    const Array norm_sq = detail::tree_sum_of_squares(leaves(updates));
    const bool skip =
        !(norm_sq.item<double>() < detail::round_to(max_squared_norm, norm_sq.dtype()));
    return std::pair{skip, Tree{{"should_skip", bool_scalar(skip)}, {"norm_squared", norm_sq}}};
  };
}

MultiSteps::MultiSteps(GradientTransformation opt,
                       std::function<std::int64_t(std::int64_t)> every_k_schedule,
                       bool use_grad_mean, ShouldSkipUpdateFn should_skip_update_fn,
                       DType accumulator_dtype)
    : opt_(std::move(opt)),
      every_k_(std::move(every_k_schedule)),
      use_grad_mean_(use_grad_mean),
      should_skip_(std::move(should_skip_update_fn)),
      accumulator_dtype_(accumulator_dtype) {
  if (!every_k_) throw ValueError("[optim.MultiSteps] every_k_schedule is empty; give a callable.");
  if (!is_floating(accumulator_dtype_)) {
    throw DtypeError("[optim.MultiSteps] The accumulator dtype is " +
                     std::string(name(accumulator_dtype_)) + "; use float32 or float64.");
  }
}

MultiSteps::MultiSteps(GradientTransformation opt, std::int64_t every_k, bool use_grad_mean,
                       ShouldSkipUpdateFn should_skip_update_fn, DType accumulator_dtype)
    : MultiSteps(
          std::move(opt), [every_k](std::int64_t) { return every_k; }, use_grad_mean,
          std::move(should_skip_update_fn), accumulator_dtype) {
  if (every_k < 1) {
    throw ValueError("[optim.MultiSteps] every_k is " + std::to_string(every_k) +
                     "; take at least 1 mini-step per update.");
  }
}

Tree MultiSteps::init(const Tree& params) const {
  Tree skip_state;
  if (should_skip_) skip_state = should_skip_(detail::zeros_like_tree(params), 0, params).second;
  return Tree{{"mini_step", int32_scalar(0)},
              {"gradient_step", int32_scalar(0)},
              {"inner_opt_state", opt_.init(params)},
              {"acc_grads", detail::zeros_like_tree(params, accumulator_dtype_)},
              {"skip_state", std::move(skip_state)}};
}

Update MultiSteps::update(const Tree& updates, Tree state,
                          const std::optional<Tree>& params) const {
  const char* op = "optim.MultiSteps";
  if (params) detail::check_structure(op, *params, "params", updates, "updates");
  const std::int32_t mini = read_count(op, state, "mini_step");
  const std::int32_t gradient_step = read_count(op, state, "gradient_step");
  const std::int64_t k = every_k_(gradient_step);
  if (k < 1) {
    throw ValueError("[optim.MultiSteps] every_k_schedule(" + std::to_string(gradient_step) +
                     ") is " + std::to_string(k) + "; it must be at least 1.");
  }
  Tree skip_state = detail::state_tree(op, state, "skip_state");
  if (should_skip_) {
    auto [skip, s] = should_skip_(updates, gradient_step, params);
    skip_state = std::move(s);
    if (skip) {
      return Update{detail::zeros_like_tree(updates), state.set(Path{"skip_state"}, skip_state)};
    }
  }
  auto [acc, inner_state] =
      detail::take_subtrees<2>(op, std::move(state), {"acc_grads", "inner_opt_state"});
  const bool mean = use_grad_mean_;
  const Tree acc2 = detail::map_leaves1<2>(
      op, {detail::Named{&updates, "updates"}, detail::Named{&acc, "state's acc_grads", &acc}},
      [&](std::array<Array, 2>& a) {
        return detail::accumulate_leaf(std::move(a[0]), std::move(a[1]), mini, mean);
      });
  const bool emit = mini == k - 1;
  const auto next_mini = static_cast<std::int32_t>(safe_increment(mini) % k);
  if (!emit) {
    return Update{detail::zeros_like_tree(updates),
                  Tree{{"mini_step", int32_scalar(next_mini)},
                       {"gradient_step", int32_scalar(gradient_step)},
                       {"inner_opt_state", std::move(inner_state)},
                       {"acc_grads", detail::cast_tree(acc2, accumulator_dtype_)},
                       {"skip_state", std::move(skip_state)}}};
  }
  const Tree acc_like_updates = detail::map_leaves1<2>(
      op, {detail::Named{&acc2, "accumulated updates"}, detail::Named{&updates, "updates"}},
      [](std::array<Array, 2>& a) { return a[0].astype(a[1].dtype()); });
  Update r = opt_.update_fn()(acc_like_updates, std::move(inner_state), params);
  return Update{std::move(r.updates),
                Tree{{"mini_step", int32_scalar(next_mini)},
                     {"gradient_step", int32_scalar(safe_increment(gradient_step))},
                     {"inner_opt_state", std::move(r.state)},
                     {"acc_grads", detail::zeros_like_tree(acc2, accumulator_dtype_)},
                     {"skip_state", std::move(skip_state)}}};
}

bool MultiSteps::has_updated(const Tree& state) const {
  return read_count("optim.MultiSteps", state, "mini_step") == 0 &&
         read_count("optim.MultiSteps", state, "gradient_step") > 0;
}

GradientTransformation MultiSteps::gradient_transformation() const {
  MultiSteps self = *this;
  return {[self](const Tree& params) { return self.init(params); },
          [self](const Tree& updates, Tree state, const std::optional<Tree>& params) {
            return self.update(updates, std::move(state), params);
          }};
}

// ---- inject_hyperparams ----------------------------------------------------------------------

namespace {

/// The widest float dtype among the leaves (float32 when there is none).
DType widest_float(const Tree& t) {
  DType dt = float32;
  for (const Array& leaf : leaves(t))
    if (leaf.dtype() == float64) dt = float64;
  return dt;
}

}  // namespace

GradientTransformation inject_hyperparams(
    std::function<GradientTransformation(const Hyperparams&)> factory,
    std::map<std::string, ScalarOrSchedule> hyperparams, std::optional<DType> hyperparam_dtype) {
  if (!factory)
    throw ValueError("[optim.inject_hyperparams] The factory is empty; give a callable.");
  if (hyperparam_dtype && !is_floating(*hyperparam_dtype)) {
    throw DtypeError("[optim.inject_hyperparams] hyperparam_dtype is " +
                     std::string(name(*hyperparam_dtype)) + "; use float32 or float64.");
  }
  return {[=](const Tree& params) {
            const DType dt = hyperparam_dtype.value_or(widest_float(params));
            std::vector<std::pair<std::string, TreeValue>> hp, hs;
            Hyperparams values;
            for (const auto& [name, v] : hyperparams) {
              const Array a = Array::scalar(v(0), dt);
              values[name] = a.item<double>();
              hp.emplace_back(name, a);
              if (v.is_schedule()) hs.emplace_back(name, Tree{{"count", int32_scalar(0)}});
            }
            return Tree{{"count", int32_scalar(0)},
                        {"hyperparams", Tree::from_entries(std::move(hp))},
                        {"hyperparams_states", Tree::from_entries(std::move(hs))},
                        {"inner_state", factory(values).init(params)}};
          },
          [=](const Tree& updates, Tree state, const std::optional<Tree>& params) {
            const char* op = "optim.inject_hyperparams";
            const DType dt = hyperparam_dtype.value_or(widest_float(params ? *params : updates));
            const Tree& stored = detail::state_tree(op, state, "hyperparams");
            const Tree& sched_states = detail::state_tree(op, state, "hyperparams_states");
            std::vector<std::pair<std::string, TreeValue>> hp, hs;
            Hyperparams values;
            for (const auto& [name, v] : hyperparams) {
              Array a;
              if (v.is_schedule()) {
                const Tree& s = detail::state_tree(op, sched_states, name.c_str());
                const std::int32_t c = read_count(op, s);
                a = Array::scalar(v(c), dt);
                hs.emplace_back(name, Tree{{"count", int32_scalar(safe_increment(c))}});
              } else {
                a = detail::state_array(op, stored, name.c_str());  // the user may have set it
              }
              values[name] = a.item<double>();
              hp.emplace_back(name, a);
            }
            const std::int32_t count = read_count(op, state);
            auto [inner_state] = detail::take_subtrees<1>(op, std::move(state), {"inner_state"});
            Update r = factory(values).update_fn()(updates, std::move(inner_state), params);
            return Update{std::move(r.updates),
                          Tree{{"count", int32_scalar(safe_increment(count))},
                               {"hyperparams", Tree::from_entries(std::move(hp))},
                               {"hyperparams_states", Tree::from_entries(std::move(hs))},
                               {"inner_state", std::move(r.state)}}};
          }};
}

}  // namespace jute::optim
