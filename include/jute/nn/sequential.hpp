// jute/nn/sequential.hpp — flax.linen.Sequential: layers applied in order, the output of one the
// input of the next.
//
//   jute::nn::Sequential mlp{{jute::nn::Dense{64}, jute::nn::relu, jute::nn::Dense{10}}};
//   auto vars = jute::nn::init(mlp, key, x);   // params/layers_0/{kernel,bias},
//   params/layers_2/... auto y = s.child(mlp, x);                  // inside a module:
//   params/.../Sequential_0/layers_0
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "jute/array.hpp"
#include "jute/nn/scope.hpp"

namespace jute::nn {

/// flax.linen.Sequential over Array → Array layers. Each entry is either a module (a struct whose
/// call operator takes `(Scope&, const Array&)`), called as the child `layers_<i>`, or a plain
/// function of one Array (an activation, a lambda, a pooling call), which owns no variables. The
/// index i counts every entry, functions included, as Flax's names for a list attribute: for
/// {Dense, relu, Dense} the params are `layers_0` and `layers_2`. Names depend on the position:
/// inserting a layer renames the ones after it. No layers is a ValueError when called.
struct Sequential {
  static constexpr const char* name = "Sequential";

  /// One entry of the sequence (converted implicitly from a module or a function).
  class Layer {
   public:
    template <class M>
    requires(!std::is_same_v<std::decay_t<M>, Layer> &&
             (std::is_invocable_r_v<Array, const std::decay_t<M>&, Scope&, const Array&> ||
              std::is_invocable_r_v<Array, const std::decay_t<M>&, const Array&>))
        Layer(M&& layer) {  // NOLINT(google-explicit-constructor)
      using T = std::decay_t<M>;
      if constexpr (std::is_invocable_r_v<Array, const T&, Scope&, const Array&>) {
        call_ = [m = T(std::forward<M>(layer))](Scope& s, const std::string& child_name,
                                                const Array& x) -> Array {
          return s.child(child_name, m, x);
        };
      } else {
        call_ = [f = T(std::forward<M>(layer))](Scope&, const std::string&,
                                                const Array& x) -> Array { return f(x); };
      }
    }
    /// Runs the entry as the child `child_name` of `s` (a function ignores both).
    Array operator()(Scope& s, const std::string& child_name, const Array& x) const {
      return call_(s, child_name, x);
    }

   private:
    std::function<Array(Scope&, const std::string&, const Array&)> call_;
  };

  std::vector<Layer> layers;

  Array operator()(Scope& s, const Array& x) const;
};

}  // namespace jute::nn
