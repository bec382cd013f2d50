// jute/testing/state_properties.hpp — ready-made checks of the laws every model's state obeys.
//
// Call them from your own tests, typically inside a RapidCheck property over random inputs:
//
//   CHECK(rc::check("my model's state laws", [](std::vector<float> xs) {
//     auto x = ...an input built from xs...;
//     auto vars = jute::nn::init(model, jute::random::key(0), x);
//     jute::testing::check_apply_is_pure(model, vars, x);
//     jute::testing::check_updates_only(model, vars, {"batch_stats"}, x);
//     jute::testing::check_init_is_pure(model, jute::random::key(0), x);
//     jute::testing::check_init_depends_on_key(model, jute::random::key(0), jute::random::key(1),
//     x);
//   }));
//
// Each check throws jute::testing::StatePropertyError (a std::runtime_error, so RapidCheck and
// doctest report it as a failure) with a sentence saying which law broke.
#pragma once

#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "jute/nn/module.hpp"
#include "jute/ops.hpp"
#include "jute/tree.hpp"

namespace jute::testing {

/// A model broke one of the state laws.
class StatePropertyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

inline void require(bool ok, const std::string& law) {
  if (!ok) throw StatePropertyError("[state property] " + law);
}

/// Exact equality of model outputs: Arrays (NaN equal to NaN), Trees, tuples and pairs of them,
/// and anything with operator==.
template <class T>
bool same_output(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Array>) {
    return array_equal(a, b, /*equal_nan=*/true);
  } else if constexpr (std::is_base_of_v<Tree, T>) {
    return a == b;
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    return std::apply(
        [&](const auto&... x) {
          return std::apply([&](const auto&... y) { return (same_output(x, y) && ...); }, b);
        },
        a);
  } else if constexpr (requires {
                         typename T::value_type;
                         a.size();
                         a.begin();
                       }) {
    if (a.size() != b.size()) return false;
    auto bi = b.begin();
    for (const auto& x : a)
      if (!same_output(x, *bi++)) return false;
    return true;
  } else {
    return a == b;
  }
}

}  // namespace detail

/// With nothing mutable, apply returns an empty `updated`, leaves the input Variables unchanged,
/// and gives the same output twice (apply is a deterministic function of its arguments).
template <class M, class... Args>
void check_apply_is_pure(const M& model, const Variables& variables, const Args&... args) {
  const Variables snapshot = variables;
  auto first = nn::apply_with(model, variables, nn::ApplyOptions{}, args...);
  detail::require(first.updated.empty(),
                  "apply with no mutable collection returned a non-empty `updated`.");
  detail::require(variables == snapshot, "apply changed the Variables it was given.");
  auto second = nn::apply_with(model, variables, nn::ApplyOptions{}, args...);
  detail::require(detail::same_output(first.output, second.output),
                  "two applies with the same variables and inputs gave different outputs.");
}

/// With `mutable_` declared, `updated` holds exactly the collections that match it and exist
/// after the call (no others), the input Variables stay unchanged, and every collection that is
/// not mutable is unchanged in the merged result (in particular "params" when only
/// "batch_stats" may change).
template <class M, class... Args>
void check_updates_only(const M& model, const Variables& variables, const nn::Mutable& mutable_,
                        const Args&... args) {
  const Variables snapshot = variables;
  auto result = nn::apply_with(model, variables, nn::ApplyOptions{.mutable_ = mutable_}, args...);
  for (const auto& name : result.updated.collections())
    detail::require(mutable_.contains(name), "`updated` holds collection \"" + name +
                                                 "\", which is not mutable (" +
                                                 mutable_.to_string() + ").");
  for (const auto& name : variables.collections())
    if (mutable_.contains(name))
      detail::require(
          result.updated.has_collection(name),
          "mutable collection \"" + name + "\" was given but is missing from `updated`.");
  detail::require(variables == snapshot, "apply changed the Variables it was given.");
  const Variables merged = variables.merge(result.updated);
  for (const auto& name : variables.collections())
    if (!mutable_.contains(name))
      detail::require(merged.collection(name) == variables.collection(name),
                      "immutable collection \"" + name + "\" changed.");
}

/// init is a pure function of the key: the same key gives equal Variables.
template <class M, class... Args>
void check_init_is_pure(const M& model, const Array& key, const Args&... args) {
  const Variables a = nn::init(model, key, args...);
  const Variables b = nn::init(model, key, args...);
  detail::require(a == b, "init with the same key gave different Variables.");
}

/// For a model with randomly initialized parameters: two different keys give Variables of the
/// same structure but different "params".
template <class M, class... Args>
void check_init_depends_on_key(const M& model, const Array& key, const Array& other_key,
                               const Args&... args) {
  const Variables a = nn::init(model, key, args...);
  const Variables c = nn::init(model, other_key, args...);
  detail::require(same_structure(a, c), "init with another key gave a different structure.");
  detail::require(a.has_collection("params") && a.collection("params") != c.collection("params"),
                  "init with two different keys gave the same params.");
}

}  // namespace jute::testing
