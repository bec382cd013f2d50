// The reverse pass: a topological sort of the nodes that depend on one trace, then a loop that
// calls each node's rule and accumulates cotangents. The rules live with the ops (src/ops/).
#include "autodiff/engine.hpp"

#include <unordered_map>
#include <unordered_set>

#include "jute/ops.hpp"

namespace jute::detail {

TraceScope::TraceScope() {
  std::uint64_t used = active_trace_mask();
  if (~used == 0)
    throw ValueError("[autodiff] More than 64 nested transformations are active; nest fewer "
                     "grad/vjp/jvp calls.");
  bit_ = ~used & (used + 1);  // the lowest free bit
  active_trace_mask() |= bit_;
}

void TraceScope::stop_recording() {
  if (recording_) active_trace_mask() &= ~bit_;
  recording_ = false;
}

TraceScope::~TraceScope() { stop_recording(); }

std::vector<Array> backward(const Array& output, const Array& cotangent,
                            const std::vector<Array>& inputs, std::uint64_t bit) {
  auto depends = [bit](const Array& a) { return a.impl()->node && (a.impl()->node->mask & bit); };

  // Topological order of the nodes of this trace reachable from the output (iterative DFS).
  std::vector<Node*> order;
  if (depends(output)) {
    std::unordered_set<Node*> seen;
    std::vector<std::pair<Node*, std::size_t>> stack{{output.impl()->node.get(), 0}};
    seen.insert(stack.back().first);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const Array& in = node->inputs[next++];
        Node* child = depends(in) ? in.impl()->node.get() : nullptr;
        if (child && seen.insert(child).second) stack.push_back({child, 0});
      } else {
        order.push_back(node);
        stack.pop_back();
      }
    }
  }

  std::unordered_set<const Node*> wanted;
  for (const auto& x : inputs)
    if (depends(x)) wanted.insert(x.impl()->node.get());

  std::unordered_map<const Node*, Array> cts;
  if (!order.empty()) cts[order.back()] = cotangent;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = cts.find(node);
    if (found == cts.end() || !node->vjp || wanted.count(node)) continue;
    Array out(node->output.lock());
    std::vector<Array> in_cts = node->vjp(found->second, node->inputs, out);
    for (std::size_t i = 0; i < node->inputs.size(); ++i) {
      const Array& in = node->inputs[i];
      if (i >= in_cts.size() || !in_cts[i].valid() || !depends(in)) continue;
      if (in_cts[i].shape() != in.shape())
        throw ShapeError(std::string("[autodiff] The rule of '") + node->op +
                         "' returned a cotangent of shape " + shape_str(in_cts[i].shape()) +
                         " for an input of shape " + shape_str(in.shape()) +
                         "; this is a bug in jute, please report it.");
      Array ct = in_cts[i].dtype() == in.dtype() ? in_cts[i] : in_cts[i].astype(in.dtype());
      auto [slot, fresh] = cts.try_emplace(in.impl()->node.get(), ct);
      if (!fresh) slot->second = add(slot->second, ct);
    }
  }

  std::vector<Array> result;
  result.reserve(inputs.size());
  for (const auto& x : inputs) {
    auto found = depends(x) ? cts.find(x.impl()->node.get()) : cts.end();
    result.push_back(found != cts.end() ? found->second : zeros_like(x));
  }
  return result;
}

}  // namespace jute::detail
