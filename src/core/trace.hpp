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
//                                                const Array& y) { return std::vector<Array>{g *
//                                                y}; });
//     return out;
//   }
//
// A rule receives the cotangent of the output, the op's inputs and its output, and returns one
// cotangent per input (a null Array for an input that gets none, e.g. an integer index). Rules are
// written with public ops, so they are themselves recorded when an outer trace is active — that
// is what makes grad(grad(f)) work. A rule must be linear in the cotangent (jvp transposes it)
// and must not capture the output (that would make a cycle); it receives it as an argument.
//
// Bits are reused: when a transformation ends its bit is free for the next one, while values it
// traced may live on (a returned loss, an aux Tree, a vjp function called later). Each node
// therefore records the thread's trace clock when it was made, and a bit counts only on nodes made
// after the bit's current owner started; a stale bit from an ended trace is never mistaken for a
// live one.
#pragma once

#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/array_impl.hpp"

namespace jute::detail {

using VjpRule = std::function<std::vector<Array>(
    const Array& cotangent, const std::vector<Array>& inputs, const Array& output)>;

struct Node {
  const char* op = "";
  std::vector<Array> inputs;  // the primal inputs; those no trace follows are stored detached
  VjpRule vjp;                // null for a traced input (a leaf of its trace)
  std::uint64_t mask = 0;     // the traces this value depends on
  std::uint64_t serial = 0;   // the thread's trace clock when the node was made
  bool reads_output = true;   // the rule reads the output's value (see RuleReads)
};

/// What a rule reads besides the cotangent. By default the values of every input and of the
/// output, which the node then keeps alive. A rule that reads only shapes and dtypes (add, where's
/// branches, window sums) says so, and its node keeps shape-only aliases of those inputs (the
/// graph links, without the buffer), unless an input's own rule needs that value as its output:
/// a training step then frees each activation nobody's rule reads (a convolution's output before
/// its bias is added, a bias sum before relu), as LibTorch's autograd saves only what each
/// backward formula needs.
struct RuleReads {
  bool output = true;
  std::uint32_t values_of = ~std::uint32_t{0};  // bit i: input i's value (inputs 32+: always)
};

/// The thread-local tracing state.
struct TraceState {
  std::uint64_t active = 0;      // bits of the traces that are recording
  std::uint64_t held = 0;        // bits owned by a live trace (recording or running its backward)
  std::uint64_t clock = 0;       // ticks when a trace starts
  std::uint64_t start[64] = {};  // the clock when the current owner of each bit started
};

inline TraceState& trace_state() {
  thread_local TraceState state;
  return state;
}

/// The bits of the traces recording on this thread.
inline std::uint64_t& active_trace_mask() { return trace_state().active; }

/// The bits of `node` that name traces still recording (not stale bits of ended traces).
inline std::uint64_t live_bits(const Node& node) {
  const TraceState& st = trace_state();
  std::uint64_t bits = node.mask & st.active;
  for (std::uint64_t rest = bits; rest != 0; rest &= rest - 1)
    if (st.start[std::countr_zero(rest)] > node.serial) bits &= ~(rest & (~rest + 1));
  return bits;
}

/// The active trace bits `a` carries (0 when untraced or when its traces have ended).
inline std::uint64_t trace_bits(const Array& a) {
  const auto& impl = a.impl();
  return (impl && impl->node) ? live_bits(*impl->node) : 0;
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

/// True when `a` may need a cotangent in a derivative rule: it was produced under some trace.
/// Constants (no node) never do, so rules skip their work for them (a network's input, relu's 0).
inline bool may_need_cotangent(const Array& a) { return a.impl()->node != nullptr; }

/// Attaches a node for `op` to `out` (a new impl sharing out's buffer) when any input is traced;
/// otherwise returns `out` unchanged. Integer and bool outputs are never recorded.
Array record(const char* op, const Array& out, std::vector<Array> inputs, VjpRule rule,
             RuleReads reads = {});

/// True when a traced op whose rule does not read this operand's value (RuleReads) may write its
/// result into the operand's buffer: the operand is a temporary nobody else holds, and the rule of
/// the op that produced it does not read it either.
inline bool can_reuse_traced(const Array& a) {
  const auto& impl = a.impl();
  return impl && impl->buffer && impl.use_count() == 1 && impl->buffer.use_count() == 1 &&
         (!impl->node || !impl->node->reads_output);
}

/// Makes `x` a traced input of the trace owning `bit`. If `x` is traced by outer transformations
/// the new node is an identity of `x`, so outer traces still see through it; a backward pass of
/// `bit` stops there (the node carries `bit` but `x` does not).
Array make_traced_leaf(const Array& x, std::uint64_t bit);

/// `a` without its node when no recording trace follows it (frees an ended trace's graph);
/// `a` itself otherwise. Transformations pass the values they return through it.
Array release(const Array& a);

}  // namespace jute::detail
