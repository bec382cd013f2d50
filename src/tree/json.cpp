// to_json: a Tree as JSON text, for debugging and example programs.
//
// Written by hand rather than with a JSON library: the output needs float32 values in their
// shortest round-trip form next to float64 values in theirs (std::to_chars does both; a JSON
// library stores one floating type and would print 0.1f as 0.10000000149011612), NaN and
// infinities as strings, and one leaf per line; and writing JSON is a few dozen lines.
#include <charconv>
#include <cmath>

#include "jute/tree.hpp"
#include "tree/tree_node.hpp"

namespace jute {

namespace {

template <class T>
void append_number(std::string& out, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(v)) {
      out += "\"nan\"";
      return;
    }
    if (std::isinf(v)) {
      out += v > 0 ? "\"inf\"" : "\"-inf\"";
      return;
    }
  }
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip for floats
    out.append(buf, r.ptr);
  }
}

/// The elements of axes [axis, ndim) starting at `offset`, as nested JSON arrays.
template <class T>
void append_values(std::string& out, const T* data, const Shape& shape, std::size_t axis,
                   std::int64_t& offset) {
  if (axis == shape.size()) {
    append_number(out, data[offset++]);
    return;
  }
  out += '[';
  for (std::int64_t i = 0; i < shape[axis]; ++i) {
    if (i) out += ", ";
    append_values(out, data, shape, axis + 1, offset);
  }
  out += ']';
}

void append_leaf(std::string& out, const Array& a) {
  out += "{\"dtype\": \"";
  out += name(a.dtype());
  out += "\", \"shape\": [";
  for (std::size_t i = 0; i < a.shape().size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(a.shape()[i]);
  }
  out += "], \"values\": ";
  visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    std::int64_t offset = 0;
    append_values(out, a.size() == 0 ? nullptr : static_cast<const T*>(a.raw_data()), a.shape(), 0,
                  offset);
  });
  out += '}';
}

void newline(std::string& out, int indent, int level) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(level), ' ');
}

void append_tree(std::string& out, const Tree& t, int indent, int level) {
  if (t.empty()) {
    out += "{}";
    return;
  }
  out += '{';
  bool first = true;
  for (const auto& [key, value] : t) {
    if (!first) out += indent < 0 ? ", " : ",";
    first = false;
    newline(out, indent, level + 1);
    out += detail::quoted(key);
    out += ": ";
    if (value.is_array()) {
      append_leaf(out, value.array());
    } else {
      append_tree(out, value.tree(), indent, level + 1);
    }
  }
  newline(out, indent, level);
  out += '}';
}

}  // namespace

std::string to_json(const Tree& t, int indent) {
  std::string out;
  append_tree(out, t, indent, 0);
  return out;
}

}  // namespace jute
