#include "core/trace.hpp"

namespace jute::detail {

namespace {
std::shared_ptr<Node> new_node(const char* op, std::uint64_t mask) {
  auto node = std::make_shared<Node>();
  node->op = op;
  node->mask = mask;
  node->serial = trace_state().clock;
  return node;
}

/// `a` as its node's rules see it when nobody reads its value: the same node, dtype and shape,
/// no buffer (unless the rule of the op that produced `a` reads it as its output).
Array shape_alias(const Array& a) {
  const auto& impl = a.impl();
  if (!impl->buffer || (impl->node && impl->node->reads_output)) return a;
  auto alias = std::make_shared<ArrayImpl>(*impl);
  alias->buffer.reset();
  return Array(std::shared_ptr<const ArrayImpl>(std::move(alias)));
}

Array with_node(const Array& a, std::shared_ptr<Node> node) {
  auto impl = std::make_shared<ArrayImpl>(*a.impl());
  impl->node = std::move(node);
  return Array(std::shared_ptr<const ArrayImpl>(std::move(impl)));
}
}  // namespace

Array record(const char* op, const Array& out, std::vector<Array> inputs, VjpRule rule,
             RuleReads reads) {
  std::uint64_t mask = 0;
  for (const auto& in : inputs) mask |= trace_bits(in);
  if (mask == 0 || !is_floating(out.dtype())) return out;
  // An input no recording trace follows is a constant here: keep its value, not its (stale)
  // graph, so that graphs of ended traces are freed and never chained into new ones.
  for (auto& in : inputs)
    if (in.valid() && in.impl()->node && trace_bits(in) == 0) in = detach(in);
  for (std::size_t i = 0; i < inputs.size() && i < 32; ++i)
    if (!((reads.values_of >> i) & 1u) && inputs[i].valid()) inputs[i] = shape_alias(inputs[i]);
  auto node = new_node(op, mask);
  node->reads_output = reads.output;
  node->inputs = std::move(inputs);
  node->vjp = std::move(rule);
  return with_node(out, std::move(node));
}

Array make_traced_leaf(const Array& x, std::uint64_t bit) {
  // A value already traced by an outer transformation stays connected to it through an identity
  // node, so the outer trace sees through the inner one (grad(grad(f)) needs this).
  std::uint64_t outer = trace_bits(x);
  auto node = new_node("input", bit | outer);
  node->reads_output = false;  // no rule, or the identity
  if (outer) {
    node->inputs = {x};
    node->vjp = [](const Array& g, const std::vector<Array>&, const Array&) {
      return std::vector<Array>{g};
    };
  }
  return with_node(x, std::move(node));
}

Array release(const Array& a) {
  if (!a.valid() || !a.impl()->node || trace_bits(a) != 0) return a;
  return detach(a);
}

}  // namespace jute::detail
