// Internal: the reverse-mode engine shared by grad, vjp and jvp.
#pragma once

#include <cstdint>
#include <vector>

#include "core/trace.hpp"

namespace jute::detail {

/// Owns one trace bit for its lifetime: values made traced with `bit()` record the ops applied to
/// them while the scope is recording. `stop_recording()` ends recording for this bit (before the
/// backward pass, so the rules' own ops are recorded only for outer traces).
class TraceScope {
 public:
  TraceScope();
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  std::uint64_t bit() const { return bit_; }
  void stop_recording();

 private:
  std::uint64_t bit_;
  bool recording_ = true;
};

/// The reverse pass: the cotangents of `inputs` (values made traced with `bit`) for `output`
/// with cotangent `cotangent`. Inputs the output does not depend on get zeros.
std::vector<Array> backward(const Array& output, const Array& cotangent,
                            const std::vector<Array>& inputs, std::uint64_t bit);

}  // namespace jute::detail
