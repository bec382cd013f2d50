// jute/errors.hpp — the typed exceptions every jute API throws.
//
// User mistakes derive from std::invalid_argument (or std::out_of_range for lookups); failures of
// the system (files, I/O) derive from std::runtime_error. Every message is one sentence that
// starts with the operation in brackets, names the shapes, dtypes or path involved and says what
// to do, e.g. "[matmul] Last dimension of first input with shape (2,3) must match second to last
// dimension of second input with shape (4,5)."
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace jute {

/// An operand has a shape the operation cannot accept.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An operand has a dtype the operation cannot accept (or an unknown dtype name).
class DtypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An argument's value is out of its domain (a negative count, an empty range, a bad option).
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An element index is out of bounds.
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// A key or path is missing from a Tree (or a lookup descended into a leaf).
class KeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

/// A file could not be read or written, or its contents are not what they claim to be.
class IOError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
/// "(2,3)" — the way error messages print shapes, as Python tuples: "(4,)" for rank 1, "()" for
/// a scalar.
std::string shape_str(const std::vector<std::int64_t>& shape);
}  // namespace detail

}  // namespace jute
