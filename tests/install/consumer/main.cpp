// A program outside jute's tree, built against an installed jute. Exits non-zero when a result
// is wrong, so the install test fails loudly.
#include <iostream>
#include <vector>

#include <jute/array.hpp>

int main() {
  const jute::Array a = jute::arange(6, jute::float32);
  std::cout << a << "\n";
  const bool ok = a.astype(jute::int32).to_vector<int>() == std::vector<int>{0, 1, 2, 3, 4, 5};
  return ok ? 0 : 1;
}
