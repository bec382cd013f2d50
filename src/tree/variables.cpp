// Variables: a Tree whose top-level keys are collection names.
#include "jute/tree.hpp"
#include "tree/tree_node.hpp"

namespace jute {

using detail::TreeNode;

namespace {
const TreeEntry* find_collection(const Tree& t, std::string_view name) {
  return TreeNode::find(TreeNode::root(t).get(), name);
}
}  // namespace

bool Variables::has_collection(std::string_view name) const {
  return find_collection(*this, name) != nullptr;
}

const Tree& Variables::collection(std::string_view name) const {
  const TreeEntry* e = find_collection(*this, name);
  if (e == nullptr) {
    throw KeyError("[Variables.collection] No collection " + detail::quoted(name) + ": " +
                   (empty() ? std::string("the Variables are empty")
                            : "the Variables have collections " + detail::key_list(*this)) +
                   "; check the collection name, or use collection_or_empty.");
  }
  if (!e->value.is_tree()) {
    throw KeyError("[Variables.collection] " + detail::quoted(name) + " is an Array leaf " +
                   e->value.array().type_string() +
                   ", not a collection; a collection must be a Tree of variables.");
  }
  return e->value.tree();
}

Tree Variables::collection_or_empty(std::string_view name) const {
  return has_collection(name) ? collection(name) : Tree();
}

std::vector<std::string> Variables::collections() const { return keys(); }

Variables Variables::with_collection(std::string_view name, Tree collection) const {
  return detail::assign_key(*this, name, std::move(collection));
}

Variables Variables::without_collection(std::string_view name) const {
  if (!has_collection(name)) return *this;
  return TreeNode::make_tree(TreeNode::erase(TreeNode::root(*this), name));
}

}  // namespace jute
