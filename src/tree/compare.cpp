// Comparing Trees: exact equality and structure.
#include <cmath>
#include <cstring>

#include "jute/ops.hpp"
#include "jute/tree.hpp"
#include "tree/tree_node.hpp"

namespace jute {

using detail::TreeNode;

namespace {

template <class Bits, class Float>
bool floats_equal(const void* pa, const void* pb, std::int64_t n) {
  const auto* a = static_cast<const Float*>(pa);
  const auto* b = static_cast<const Float*>(pb);
  for (std::int64_t i = 0; i < n; ++i) {
    Bits x;
    Bits y;
    std::memcpy(&x, a + i, sizeof x);
    std::memcpy(&y, b + i, sizeof y);
    if (x != y && !(std::isnan(a[i]) && std::isnan(b[i]))) return false;
  }
  return true;
}

/// Same dtype, shape and bits, any NaN equal to any NaN.
bool leaf_equal(const Array& a, const Array& b) {
  if (a.impl() == b.impl()) return true;
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  if (a.size() == 0 || a.raw_data() == b.raw_data()) return true;
  if (std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0) return true;
  switch (a.dtype()) {
    case DType::Float32:
      return floats_equal<std::uint32_t, float>(a.raw_data(), b.raw_data(), a.size());
    case DType::Float64:
      return floats_equal<std::uint64_t, double>(a.raw_data(), b.raw_data(), a.size());
    default:
      return false;
  }
}

const char* kind(const TreeValue& v) { return v.is_array() ? "a leaf" : "a sub-Tree"; }

/// Appends to `out` the first structural difference under `keys`; false when there is one.
bool same_structure_at(const Tree& a, const Tree& b, std::vector<std::string_view>& keys,
                       std::string* out) {
  if (a.identity() == b.identity()) return true;
  auto ia = a.begin();
  auto ib = b.begin();
  const auto ea = a.end();
  const auto eb = b.end();
  auto report = [&](std::string_view key, const char* first, const char* second) {
    if (out != nullptr) {
      keys.push_back(key);
      *out = "at " + detail::join_path(keys, keys.size()) + " the first tree has " + first +
             " and the second has " + second;
    }
    return false;
  };
  while (ia != ea || ib != eb) {
    if (ib == eb || (ia != ea && ia->key < ib->key))
      return report(ia->key, kind(ia->value), "none");
    if (ia == ea || ib->key < ia->key) return report(ib->key, "none", kind(ib->value));
    if (ia->value.is_array() != ib->value.is_array()) {
      return report(ia->key, kind(ia->value), kind(ib->value));
    }
    if (ia->value.is_tree()) {
      keys.push_back(ia->key);
      if (!same_structure_at(ia->value.tree(), ib->value.tree(), keys, out)) return false;
      keys.pop_back();
    }
    ++ia;
    ++ib;
  }
  return true;
}

}  // namespace

namespace {
/// Same keys at every level and `leaves_match` on every pair of leaves.
template <class LeavesMatch>
bool zip_equal(const Tree& a, const Tree& b, const LeavesMatch& leaves_match) {
  if (a.identity() == b.identity()) return true;
  if (a.size() != b.size() || a.num_leaves() != b.num_leaves()) return false;
  for (auto ia = a.begin(), ib = b.begin(), end = a.end(); ia != end; ++ia, ++ib) {
    if (&*ia == &*ib) continue;  // a shared entry
    if (ia->key != ib->key || ia->value.is_array() != ib->value.is_array()) return false;
    if (ia->value.is_array() ? !leaves_match(ia->value.array(), ib->value.array())
                             : !zip_equal(ia->value.tree(), ib->value.tree(), leaves_match)) {
      return false;
    }
  }
  return true;
}
}  // namespace

bool operator==(const Tree& a, const Tree& b) { return zip_equal(a, b, leaf_equal); }

bool allclose(const Tree& a, const Tree& b, double rtol, double atol) {
  return zip_equal(a, b, [=](const Array& x, const Array& y) {
    return allclose(x, y, rtol, atol, /*equal_nan=*/true);
  });
}

bool same_structure(const Tree& a, const Tree& b) {
  std::vector<std::string_view> keys;
  return same_structure_at(a, b, keys, nullptr);
}

std::string structure_difference(const Tree& a, const Tree& b) {
  std::vector<std::string_view> keys;
  std::string out;
  same_structure_at(a, b, keys, &out);
  return out;
}

}  // namespace jute
