// Internal: the reverse-mode engine shared by grad, vjp and jvp.
#pragma once

#include <cstdint>
#include <vector>

#include "core/trace.hpp"

namespace jute::detail {

/// Names one trace for its backward passes: its bit, and the clock when it started (nodes made
/// before that carry the bit only as a stale leftover of an earlier trace).
struct TraceId {
  std::uint64_t bit = 0;
  std::uint64_t start = 0;
};

/// Owns one trace bit for its lifetime: values made traced with `bit()` record the ops applied to
/// them while the scope is recording. `stop_recording()` ends recording for this bit (before the
/// backward pass, so the rules' own ops are recorded only for outer traces).
class TraceScope {
 public:
  TraceScope();
  ~TraceScope();
  TraceScope(const TraceScope&) = delete;
  TraceScope& operator=(const TraceScope&) = delete;
  std::uint64_t bit() const { return id_.bit; }
  TraceId id() const { return id_; }
  void stop_recording();

 private:
  TraceId id_;
  bool recording_ = true;
};

/// The reverse pass: the cotangents of `inputs` (values made traced by `trace`) for `outputs`
/// with the given cotangents (a null cotangent counts as zero). Inputs the outputs do not depend
/// on get zeros.
std::vector<Array> backward(const std::vector<Array>& outputs, const std::vector<Array>& cotangents,
                            const std::vector<Array>& inputs, TraceId trace);

}  // namespace jute::detail
