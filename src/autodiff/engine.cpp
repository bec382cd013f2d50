// The reverse pass: a topological sort of the nodes that depend on one trace, then a loop that
// calls each node's rule and accumulates cotangents. The rules live with the ops (src/ops/).
#include "autodiff/engine.hpp"

#include <unordered_map>
#include <unordered_set>

#include "jute/ops.hpp"

namespace jute::detail {

TraceScope::TraceScope() {
  TraceState& st = trace_state();
  if (~st.held == 0)
    throw ValueError(
        "[autodiff] More than 64 nested transformations are active; nest fewer "
        "grad/vjp/jvp calls.");
  id_.bit = ~st.held & (st.held + 1);  // the lowest free bit
  id_.start = ++st.clock;
  st.start[std::countr_zero(id_.bit)] = id_.start;
  st.held |= id_.bit;
  st.active |= id_.bit;
}

void TraceScope::stop_recording() {
  if (recording_) trace_state().active &= ~id_.bit;
  recording_ = false;
}

TraceScope::~TraceScope() {
  stop_recording();
  trace_state().held &= ~id_.bit;
}

std::vector<Array> backward(const std::vector<Array>& outputs, const std::vector<Array>& cotangents,
                            const std::vector<Array>& inputs, TraceId trace) {
  auto node_of = [trace](const Array& a) -> const Node* {
    const Node* n = a.valid() ? a.impl()->node.get() : nullptr;
    return (n && (n->mask & trace.bit) && n->serial >= trace.start) ? n : nullptr;
  };

  // Topological order of this trace's nodes reachable from the outputs (iterative post-order
  // DFS). Each node is paired with an Array that holds it: its output value, passed to the rule.
  std::vector<std::pair<const Node*, const Array*>> order;
  std::unordered_set<const Node*> seen;
  std::vector<std::pair<const Array*, std::size_t>> stack;
  for (const Array& out : outputs) {
    if (!node_of(out) || !seen.insert(node_of(out)).second) continue;
    stack.push_back({&out, 0});
    while (!stack.empty()) {
      auto& [value, next] = stack.back();
      const Node* node = value->impl()->node.get();
      if (next < node->inputs.size()) {
        const Array& in = node->inputs[next++];
        if (node_of(in) && seen.insert(node_of(in)).second) stack.push_back({&in, 0});
      } else {
        order.push_back({node, value});
        stack.pop_back();
      }
    }
  }

  std::unordered_map<const Node*, Array> cts;
  auto accumulate = [&cts](const Node* node, const Array& ct) {
    auto [slot, fresh] = cts.try_emplace(node, ct);
    if (!fresh) slot->second = add(slot->second, ct);
  };
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (node_of(outputs[i]) && cotangents[i].valid())
      accumulate(node_of(outputs[i]), cotangents[i].astype(outputs[i].dtype()));

  std::unordered_set<const Node*> wanted;
  for (const auto& x : inputs)
    if (node_of(x)) wanted.insert(node_of(x));

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto [node, value] = *it;
    auto found = cts.find(node);
    if (found == cts.end() || !node->vjp || wanted.count(node)) continue;
    std::vector<Array> in_cts = node->vjp(found->second, node->inputs, *value);
    for (std::size_t i = 0; i < node->inputs.size() && i < in_cts.size(); ++i) {
      const Array& in = node->inputs[i];
      if (!in_cts[i].valid() || !node_of(in)) continue;
      if (in_cts[i].shape() != in.shape())
        throw ShapeError(std::string("[autodiff] The rule of '") + node->op +
                         "' returned a cotangent of shape " + shape_str(in_cts[i].shape()) +
                         " for an input of shape " + shape_str(in.shape()) +
                         "; this is a bug in jute, please report it.");
      accumulate(node_of(in), in_cts[i].astype(in.dtype()));
    }
  }

  std::vector<Array> result;
  result.reserve(inputs.size());
  for (const auto& x : inputs) {
    auto found = node_of(x) ? cts.find(node_of(x)) : cts.end();
    result.push_back(found != cts.end() ? found->second : zeros_like(x));
  }
  return result;
}

}  // namespace jute::detail
