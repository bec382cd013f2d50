// jute/nn/scope.hpp — what a module sees while it runs: its variables, its rng streams, its
// children.
//
// A module is a plain struct: its fields are hyperparameters and its call operator takes a
// `Scope&` and the inputs. Everything the module owns lives in the Variables tree at a path that
// mirrors the module nesting (`params/Encoder_0/Dense_1/kernel`). The semantics are Flax linen's
// (see docs/nn.md), minus its rough edges: a missing rng stream is an error (no silent fallback
// to "params"), and every error names the variable's full path and collection.
//
//   struct Dense {
//     static constexpr const char* name = "Dense";   // the type name used for auto-naming
//     std::int64_t features;
//     jute::Array operator()(jute::nn::Scope& s, const jute::Array& x) const {
//       auto kernel = s.param("kernel", lecun_normal(), {x.shape(-1), features});
//       return jute::matmul(x, kernel) + s.param("bias", zeros_init(), {features});
//     }
//   };
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/errors.hpp"
#include "jute/tree.hpp"

namespace jute::nn {

/// `(key, shape, dtype) -> Array`, as jax.nn.initializers (see jute/nn/initializers.hpp).
using Initializer = std::function<Array(const Array& key, const Shape& shape, DType dtype)>;

/// Which collections an apply may change (Flax's mutability filter): none (the default), all, a
/// list of names, or all but a list ("DenyList").
class Mutable {
 public:
  /// No collection is mutable.
  Mutable() = default;
  /// `true`: every collection; `false`: none.
  Mutable(bool all);  // NOLINT(google-explicit-constructor)
  Mutable(std::initializer_list<std::string> names);
  Mutable(std::vector<std::string> names);  // NOLINT(google-explicit-constructor)
  static Mutable all() { return Mutable(true); }
  static Mutable none() { return Mutable(false); }
  static Mutable all_but(std::vector<std::string> names);

  bool contains(std::string_view collection) const;
  bool is_all() const { return deny_ && names_.empty(); }
  bool is_none() const { return !deny_ && names_.empty(); }

  /// Filter algebra as flax.core.scope's union_filters / intersect_filters / subtract_filters.
  friend Mutable operator|(const Mutable& a, const Mutable& b);
  friend Mutable operator&(const Mutable& a, const Mutable& b);
  friend Mutable operator-(const Mutable& a, const Mutable& b);
  friend bool operator==(const Mutable& a, const Mutable& b) {
    return a.deny_ == b.deny_ && a.names_ == b.names_;
  }
  /// "all", "none", "{batch_stats, cache}" or "all but {intermediates}".
  std::string to_string() const;

 private:
  Mutable(bool deny, std::set<std::string> names) : deny_(deny), names_(std::move(names)) {}
  bool deny_ = false;  // false: names_ are the mutable ones; true: all but names_
  std::set<std::string> names_;
};

/// One key per rng stream, e.g. {{"params", k1}, {"dropout", k2}}.
using Rngs = std::map<std::string, Array>;

namespace detail {
struct Frame;
}

class Scope;

/// A handle on one variable of a non-params collection (`Scope::variable`): read it with
/// `value()`, write it with `set()` (legal only when its collection is mutable).
class VariableRef {
 public:
  /// The current value (a cheap copy: later writes do not change it).
  Array value() const;
  /// ModifyScopeVariableError when the collection is immutable in this apply.
  void set(Array value) const;
  bool is_mutable() const;
  const std::string& collection() const { return collection_; }
  const std::string& name() const { return name_; }

 private:
  friend class Scope;
  VariableRef(Scope* scope, std::string collection, std::string name)
      : scope_(scope), collection_(std::move(collection)), name_(std::move(name)) {}
  Scope* scope_;
  std::string collection_;
  std::string name_;
};

/// The view one module call has of the variables, the rngs and its children.
class Scope {
 public:
  /// A parameter in "params": the stored value when it exists (its shape must equal `shape`,
  /// else ScopeParamShapeError), otherwise — while initializing — `init(make_rng("params"),
  /// shape, dtype)`. Each creation draws one key from the "params" stream even when the
  /// initializer ignores it, as Flax does, so the same key gives Flax's parameters.
  Array param(std::string_view name, const Initializer& init, const Shape& shape,
              DType dtype = float32);

  /// A variable of `collection` (any collection but "params"): created with `init()` when absent
  /// and the collection is mutable; ScopeVariableNotFoundError when absent and immutable.
  VariableRef variable(std::string_view collection, std::string_view name,
                       const std::function<Array()>& init);

  bool has_variable(std::string_view collection, std::string_view name) const;
  /// The stored value (ScopeVariableNotFoundError / ScopeCollectionNotFound when absent).
  Array get_variable(std::string_view collection, std::string_view name) const;
  /// Writes a variable directly (ModifyScopeVariableError when immutable).
  void put_variable(std::string_view collection, std::string_view name, Array value);
  bool is_mutable_collection(std::string_view collection) const;
  bool is_initializing() const;

  /// A fresh key from `stream`: fold_in(root key of the stream, SHA-1 hash of this scope's path
  /// and a per-(path, stream) counter), exactly Flax linen's derivation. InvalidRngError when
  /// the stream was not supplied to init/apply.
  Array make_rng(std::string_view stream);
  bool has_rng(std::string_view stream) const;

  /// Appends `value` to the tuple `name` in `collection` (stored as {"0": v0, "1": v1, ...})
  /// when the collection is mutable; returns whether it did. ("intermediates" is not mutable
  /// during init, so sow is a no-op there, as in Flax.)
  bool sow(std::string_view collection, std::string_view name, const Array& value);

  /// Calls a submodule, auto-named "<Type>_<k>" with k counting per type in this call
  /// (Dense_0, Dense_1, ...). Returns whatever the module returns.
  template <class M, class... Args>
  requires(!std::is_convertible_v<const M&, std::string_view>) auto child(const M& module,
                                                                          Args&&... args) {
    static_assert(has_type_name<M>(),
                  "A jute module needs `static constexpr const char* name = \"TypeName\";` (or, "
                  "in a class local to a function, `static const char* name() { return ...; }`)");
    Scope sub = make_child(auto_name(type_name_of<M>()), type_name_of<M>());
    return call(sub, module, std::forward<Args>(args)...);
  }
  /// Calls a submodule under an explicit name. Calling the same name again (with the same
  /// module type) reuses its variables.
  template <class M, class... Args>
  auto child(std::string_view name, const M& module, Args&&... args) {
    Scope sub = make_child(std::string(name), type_name_of<M>());
    return call(sub, module, std::forward<Args>(args)...);
  }

  /// The module path, e.g. {"Encoder_0", "Dense_1"} (empty at the root).
  const std::vector<std::string>& path() const { return path_; }
  /// Flax's path text: "/Encoder_0/Dense_1", "/" at the root.
  std::string path_text() const;

  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  Scope(Scope&&) noexcept;
  ~Scope();

  /// Internal: a root scope over a frame (used by init/apply).
  Scope(std::shared_ptr<detail::Frame> frame, std::vector<std::string> path);

 private:
  friend class VariableRef;
  template <class M>
  static constexpr bool has_type_name() {
    return requires { M::name(); }
    || requires { M::name; };
  }

 public:
  /// The module's type name: `M::name` (a static member) or `M::name()` (a static function, for
  /// classes local to a function, which cannot have static data members); "Module" otherwise.
  template <class M>
  static const char* type_name_of() {
    if constexpr (requires { M::name(); })
      return M::name();
    else if constexpr (requires { M::name; })
      return M::name;
    else
      return "Module";
  }

 private:
  std::string auto_name(const char* type);
  Scope make_child(std::string name, const char* type);
  /// Records a finished child call for tabulate (no-op unless tabulating).
  void note_call(const Scope& sub, const char* type, std::string output_description);
  template <class M, class... Args>
  auto call(Scope& sub, const M& module, Args&&... args) {
    if constexpr (std::is_void_v<decltype(module(sub, std::forward<Args>(args)...))>) {
      module(sub, std::forward<Args>(args)...);
      if (tabulating()) note_call(sub, type_name_of<M>(), "");
    } else {
      auto out = module(sub, std::forward<Args>(args)...);
      if (tabulating()) note_call(sub, type_name_of<M>(), describe(out));
      return out;
    }
  }
  bool tabulating() const;

  std::shared_ptr<detail::Frame> frame_;
  std::vector<std::string> path_;
  std::map<std::string, int> type_cursors_;         // auto-naming, per type, per call
  std::map<std::string, std::string> child_types_;  // explicit child names used in this call
  std::set<std::pair<std::string, std::string>> declared_;  // (collection, name) in this call
  std::set<std::string> variable_names_;                    // names of those, any collection

 public:
  /// A one-line description of a module's output for tabulate: "f32[16,4]", "(f32[2], i32[])".
  template <class T>
  static std::string describe(const T& value);
};

/// Describes Arrays, Trees, tuples/pairs of them and anything else as "?".
std::string describe_value(const Array& a);
std::string describe_value(const Tree& t);
template <class T>
std::string Scope::describe(const T& value) {
  if constexpr (std::is_same_v<std::decay_t<T>, Array> ||
                std::is_base_of_v<Tree, std::decay_t<T>>) {
    return describe_value(value);
  } else if constexpr (requires { std::tuple_size<std::decay_t<T>>::value; }) {
    std::string s = "(";
    std::apply(
        [&](const auto&... e) {
          std::size_t i = 0;
          ((s += (i++ ? ", " : "") + describe(e)), ...);
        },
        value);
    return s + ")";
  } else {
    return "?";
  }
}

}  // namespace jute::nn
