// Helpers for the tree tests: RapidCheck generators of random Trees, paths, messages.
#pragma once

#include <rapidcheck.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "jute/tree.hpp"
#include "ops/op_checks.hpp"

namespace jute::tree_test {

using jute_test::message_of;  // the helper the test suites share

inline void append_part(std::string& s, std::string_view part) { s += part; }
inline void append_part(std::string& s, int i) { s += std::to_string(i); }

/// The parts (strings and ints) concatenated. Tests build keys with it rather than with
/// `"k" + std::to_string(i)`, on which GCC 12 gives a false -Wrestrict warning.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (append_part(s, parts), ...);
  return s;
}

/// Keys from a small alphabet (so that random keys collide and share prefixes), now and then a
/// long one (beyond the small-string buffer). With `any_key` a key may also be empty or hold '/'.
inline rc::Gen<std::string> gen_key(bool any_key = false) {
  return rc::gen::exec([any_key] {
    const int kind = *rc::gen::inRange(0, 12);
    if (kind == 0) return std::string(17, 'L') + *rc::gen::element<std::string>("a", "b", "c");
    if (any_key && kind == 1) return *rc::gen::element<std::string>("", "/", "a/b", "a/");
    const std::size_t len = *rc::gen::inRange<std::size_t>(1, 4);
    return *rc::gen::container<std::string>(len, rc::gen::element('a', 'b', 'c', '_', 'A', '-'));
  });
}

/// Small Arrays of every dtype, rank 0 to 2 (zero-size axes included), with NaN, infinities and
/// -0.0 among the float values.
inline rc::Gen<Array> gen_array() {
  return rc::gen::exec([] {
    const DType dtype = *rc::gen::element(float32, float64, int32, uint8, bool_);
    const std::size_t rank = *rc::gen::inRange<std::size_t>(0, 3);
    Shape shape;
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank; ++i) {
      shape.push_back(*rc::gen::inRange<std::int64_t>(0, 4));
      n *= static_cast<std::size_t>(shape.back());
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> values;
    for (std::size_t i = 0; i < n; ++i) {
      values.push_back(is_floating(dtype)
                           ? *rc::gen::element(0.0, -0.0, 1.5, -2.25, 1e-7, 3.0, nan, inf, -inf)
                           : static_cast<double>(*rc::gen::inRange(0, 3)));
    }
    return Array::from_vector(values, shape, dtype);
  });
}

/// A random Tree of nesting depth at most `depth`; levels usually hold 0 to 4 keys and sometimes
/// up to 40 (so that a level spans several B+-tree nodes); empty sub-Trees appear.
inline rc::Gen<Tree> gen_tree(int depth = 3, bool any_key = false) {
  return rc::gen::exec([depth, any_key] {
    const bool wide = *rc::gen::inRange(0, 8) == 0;
    const int n = *rc::gen::inRange(0, wide ? 41 : 5);
    Tree t;
    for (int i = 0; i < n; ++i) {
      const std::string key = *gen_key(any_key);
      if (depth > 0 && *rc::gen::inRange(0, 2) == 0) {
        t = t.set(Path{key}, *gen_tree(depth - 1, any_key));
      } else {
        t = t.set(Path{key}, *gen_array());
      }
    }
    return t;
  });
}

/// Every path in `t` (to leaves, sub-Trees and empty sub-Trees), depth first.
inline void all_paths(const Tree& t, Path& prefix, std::vector<Path>& out) {
  for (const auto& [key, value] : t) {
    prefix.push_back(key);
    out.push_back(prefix);
    if (value.is_tree()) all_paths(value.tree(), prefix, out);
    prefix.pop_back();
  }
}

inline std::vector<Path> all_paths(const Tree& t) {
  std::vector<Path> out;
  Path prefix;
  all_paths(t, prefix, out);
  return out;
}

/// True when both are the very same Array (buffer and metadata).
inline bool same_leaf(const Array& a, const Array& b) { return a.impl() == b.impl(); }

/// True when both Trees share their root node (and so all their storage).
inline bool same_node(const Tree& a, const Tree& b) { return a.identity() == b.identity(); }

/// True when `p` is a prefix of `q` (or equal to it).
inline bool is_prefix(const Path& p, const Path& q) {
  return p.size() <= q.size() && std::equal(p.begin(), p.end(), q.begin());
}

/// A copy of `t` that shares no storage with it (new nodes and new buffers, same bits).
inline Tree deep_copy(const Tree& t) {
  return tree_map(
      [](const Array& a) { return Array::from_raw(a.raw_data(), a.dtype(), a.shape(), a.dtype()); },
      t);
}

}  // namespace jute::tree_test
