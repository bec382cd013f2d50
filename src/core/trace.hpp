// Internal: how ops record themselves for autodiff.
//
// Recording happens only while a transformation (grad, vjp, jvp) traces a value: each trace owns
// one bit of a thread-local mask, a traced value's node carries the bits of the traces it depends
// on, and an op records a node only when one of its inputs carries an active bit. Outside any
// transformation `any_traced` is a null-pointer check per input, so forward passes cost nothing
// extra.
//
// An op records itself like this:
//
//   Array exp(Array x) {
//     Array out = ...compute...;
//     if (detail::any_traced(x))
//       out = detail::record("exp", out, {x}, [](const Array& g, const std::vector<Array>&,
//                                                const Array& y) { return std::vector<Array>{g * y}; });
//     return out;
//   }
//
// A rule receives the cotangent of the output, the op's inputs and its output, and returns one
// cotangent per input (a null Array for an input that gets none, e.g. an integer index). Rules are
// written with public ops, so they are themselves recorded when an outer trace is active — that
// is what makes grad(grad(f)) work. A rule must not capture the output (that would make a cycle);
// it receives it as an argument.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/array_impl.hpp"

namespace jute::detail {

using VjpRule = std::function<std::vector<Array>(const Array& cotangent,
                                                 const std::vector<Array>& inputs,
                                                 const Array& output)>;

struct Node {
  const char* op = "";
  std::vector<Array> inputs;               // the primal inputs, with their own nodes
  VjpRule vjp;                             // null for a traced input (a leaf)
  std::weak_ptr<const ArrayImpl> output;   // alive whenever the node is reachable in a backward pass
  std::uint64_t mask = 0;                  // the traces this value depends on
};

/// The bits of the traces active on this thread.
std::uint64_t& active_trace_mask();

/// The active trace bits `a` carries (0 when untraced or when its traces have ended).
inline std::uint64_t trace_bits(const Array& a) {
  const auto& impl = a.impl();
  return (impl && impl->node) ? (impl->node->mask & active_trace_mask()) : 0;
}

template <class... A>
bool any_traced(const A&... a) {
  return ((trace_bits(a) != 0) || ...);
}
inline bool any_traced_in(const std::vector<Array>& v) {
  for (const auto& a : v)
    if (trace_bits(a)) return true;
  return false;
}

/// Attaches a node for `op` to `out` (a new impl sharing out's buffer) when any input is traced;
/// otherwise returns `out` unchanged. Integer and bool outputs are never recorded.
Array record(const char* op, const Array& out, std::vector<Array> inputs, VjpRule rule);

/// Makes `x` a traced input of the trace owning `bit`. If `x` is traced by outer transformations
/// the new node is an identity of `x`, so outer traces still see through it; a backward pass of
/// `bit` stops there (the node carries `bit` but `x` does not).
Array make_traced_leaf(const Array& x, std::uint64_t bit);

}  // namespace jute::detail
