// A program outside jute's tree, built against an installed jute. Exits non-zero when a result
// is wrong, so the install test fails loudly.
#include <iostream>

#include <jute/array.hpp>
#include <jute/ops.hpp>

int main() {
  const jute::Array a = jute::arange(6, jute::float32);
  const jute::Array m = jute::reshape(a, {2, 3});
  const jute::Array p = jute::matmul(m, jute::transpose(m));  // runs on the installed OpenBLAS
  std::cout << p << "\n";
  const bool ok = jute::array_equal(p, jute::Array({{5.f, 14.f}, {14.f, 50.f}}));
  return ok ? 0 : 1;
}
