// jute/testing/check_grads.hpp — automatic derivatives checked against finite differences, as
// jax.test_util.check_grads.
//
//   jute::testing::check_grads([](const Array& x) { return jute::tanh(x); }, x, /*order=*/2);
//
// The arguments are cast to float64 and the function is evaluated in float64 (write it so that it
// computes in the dtype of its inputs). For each order up to `order` and each mode:
//   "fwd": jvp(f, args, t) along a random tangent t equals the central difference
//          (f(args + eps·t) - f(args - eps·t)) / (2·eps), element by element;
//   "rev": ⟨t, vjp_fn(u)⟩ equals ⟨finite-difference J·t, u⟩ for random t and u.
// Order 2 checks the same of the jvp and vjp maps themselves (their derivatives, i.e. second
// derivatives of f), and so on. Each check draws its directions from a fresh generator seeded
// with `options.seed`, so a run is reproducible. A mismatch throws GradientCheckError naming the
// check ("JVP of VJP"), the worst element, the expected and computed values, and the error.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "jute/autodiff.hpp"

namespace jute::testing {

/// An automatic derivative disagrees with finite differences.
class GradientCheckError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Tolerances as JAX's defaults for float64. As in JAX, the bound for an output of n elements is
/// |got - expected| <= n·atol + n·rtol·|expected|.
struct CheckGradsOptions {
  double atol = 1e-5;
  double rtol = 1e-5;
  /// Finite-difference step.
  double eps = 1e-4;
  /// Seed of the random directions.
  std::uint64_t seed = 0;
};

/// Checks the derivatives of `f` at `args` up to `order` in `modes` ("fwd", "rev"). Throws
/// GradientCheckError on a mismatch, DtypeError for a non-float argument, ValueError for an
/// order < 1 or an unknown mode.
void check_grads(const ArraysFn& f, const std::vector<Array>& args, int order,
                 const std::vector<std::string>& modes = {"fwd", "rev"},
                 const CheckGradsOptions& options = {});
/// The same for a function of one Array.
void check_grads(const ArrayFn& f, const Array& x, int order,
                 const std::vector<std::string>& modes = {"fwd", "rev"},
                 const CheckGradsOptions& options = {});
/// The same for a function of a Tree (every leaf is an argument).
void check_grads(const TreeFn& f, const Tree& params, int order,
                 const std::vector<std::string>& modes = {"fwd", "rev"},
                 const CheckGradsOptions& options = {});

}  // namespace jute::testing
