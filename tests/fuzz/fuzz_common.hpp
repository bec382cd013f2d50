// Shared by the libFuzzer harnesses: what counts as a normal outcome for a reader given hostile
// bytes. jute's typed exceptions (include/jute/errors.hpp and the io errors derived from them)
// are; anything else that escapes (a std::bad_alloc, a std::length_error, msgpack's or libzip's
// own exceptions) is a finding, and so is an error message that is not one of jute's sentences
// "[op] ...". Crashes, sanitizer reports, leaks and timeouts surface through libFuzzer itself.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "jute/errors.hpp"

namespace jute::fuzz {

[[noreturn]] inline void fail(const char* kind, const char* what) {
  std::fprintf(stderr, "jute fuzz finding: %s: %s\n", kind, what);
  std::abort();
}

inline void check_message(const std::exception& e) {
  const char* m = e.what();
  if (m == nullptr || m[0] != '[' || std::strchr(m, ']') == nullptr)
    fail("a jute error whose message does not start with \"[op]\"", m ? m : "(null)");
}

/// Runs `f`; jute's typed errors are expected outcomes, anything else aborts.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    check_message(e);
  } catch (const DtypeError& e) {
    check_message(e);
  } catch (const ValueError& e) {
    check_message(e);
  } catch (const IndexError& e) {
    check_message(e);
  } catch (const KeyError& e) {
    check_message(e);
  } catch (const IOError& e) {
    check_message(e);
  } catch (const std::exception& e) {
    fail("an exception that is not one of jute's typed errors", e.what());
  }
}

/// Aborts unless `ok`: a round trip that does not give back what was read.
inline void require(bool ok, const char* what) {
  if (!ok) fail("a round trip differs", what);
}

}  // namespace jute::fuzz
