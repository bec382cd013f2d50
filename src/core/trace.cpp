#include "core/trace.hpp"

namespace jute::detail {

std::uint64_t& active_trace_mask() {
  thread_local std::uint64_t mask = 0;
  return mask;
}

Array record(const char* op, const Array& out, std::vector<Array> inputs, VjpRule rule) {
  std::uint64_t mask = 0;
  for (const auto& in : inputs) mask |= trace_bits(in);
  if (mask == 0 || !is_floating(out.dtype())) return out;
  auto impl = std::make_shared<ArrayImpl>(*out.impl());
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->vjp = std::move(rule);
  node->mask = mask;
  impl->node = std::move(node);
  impl->node->output = impl;
  return Array(std::shared_ptr<const ArrayImpl>(std::move(impl)));
}

Array make_traced_leaf(const Array& x, std::uint64_t bit) {
  auto impl = std::make_shared<ArrayImpl>(*x.impl());
  auto node = std::make_shared<Node>();
  node->op = "input";
  // A value already traced by an outer transformation stays connected to it through an identity
  // node, so the outer trace sees through the inner one (grad(grad(f)) needs this).
  node->mask = bit | trace_bits(x);
  if (trace_bits(x)) {
    node->inputs = {x};
    node->vjp = [](const Array& g, const std::vector<Array>&, const Array&) {
      return std::vector<Array>{g};
    };
  }
  impl->node = std::move(node);
  impl->node->output = impl;
  return Array(std::shared_ptr<const ArrayImpl>(std::move(impl)));
}

}  // namespace jute::detail
