// jute/nn/errors.hpp — the typed errors of init/apply and Scope, named after Flax's.
//
// Every message names the variable's full path ("params/Dense_0/kernel"), its collection and what
// to do, e.g.
//   [apply] Cannot update variable "mean" in "/BatchNorm_0" because collection "batch_stats" is
//   immutable; pass mutable = {"batch_stats"} to apply.
#pragma once

#include <stdexcept>

namespace jute::nn {

/// Base of every Scope / init / apply error (a user mistake).
class ScopeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A write to a variable whose collection is not mutable in this apply.
class ModifyScopeVariableError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// A parameter the module reads is not in the given `params`.
class ScopeParamNotFoundError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// A (non-param) variable the module reads is absent and its collection is immutable.
class ScopeVariableNotFoundError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// A collection the module reads is absent (or empty) in the given variables.
class ScopeCollectionNotFound : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// A stored parameter's shape differs from the shape its declaration asks for.
class ScopeParamShapeError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// make_rng of a stream that was not supplied (no silent fallback to "params"), or a bad key.
class InvalidRngError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// A name declared twice in one scope (two params "kernel", or a param and a child of one name).
class NameInUseError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};
/// The variables given to apply are not a tree of collections (e.g. a doubled "params" layer, or
/// the params tree passed without its "params" key).
class InvalidVariablesError : public ScopeError {
 public:
  using ScopeError::ScopeError;
};

}  // namespace jute::nn
