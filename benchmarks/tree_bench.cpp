// Tree: cost of a persistent update and of a lookup by path (docs/performance.md, "Tree").
//
//   set_depth4/100        set one existing leaf at depth 4 in a balanced tree of 100 leaves
//   set_depth4/100000     the same in a tree of 100,000 leaves
//   set_wide/100000       the same where the leaf's parent has 100,000 children
//   get_depth4/...        lookup of a leaf by "a/b/c/d" string path (and by Path vector)
//
// Each iteration updates a different leaf (cycling through 1024 random paths) and destroys the
// new version, so the figures include building and freeing the copied path.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "jute/tree.hpp"

namespace {

using jute::Array;
using jute::Path;
using jute::Tree;

std::string key(char level, int i) {
  std::string k(1, level);
  k += '_';
  k += std::to_string(i);
  return k;
}

struct Fixture {
  Tree tree;
  std::vector<std::string> paths;  // random existing leaf paths, '/'-joined
  std::vector<Path> path_vectors;  // the same as vectors of keys
};

/// A depth-4 tree with `fanout[d]` children per node at depth d; its leaves are f32[2] Arrays.
Fixture make_fixture(const std::vector<int>& fanout) {
  std::vector<std::pair<std::string, Array>> flat;
  const Array leaf = jute::zeros({2});
  for (int a = 0; a < fanout[0]; ++a)
    for (int b = 0; b < fanout[1]; ++b)
      for (int c = 0; c < fanout[2]; ++c)
        for (int d = 0; d < fanout[3]; ++d)
          flat.emplace_back(key('a', a) + "/" + key('b', b) + "/" + key('c', c) + "/" + key('d', d),
                            leaf);
  Fixture f;
  f.tree = jute::unflatten(flat);
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, flat.size() - 1);
  for (int i = 0; i < 1024; ++i) {
    f.paths.push_back(flat[pick(rng)].first);
    Path p;
    for (std::size_t begin = 0, slash; begin <= f.paths.back().size(); begin = slash + 1) {
      slash = f.paths.back().find('/', begin);
      if (slash == std::string::npos) slash = f.paths.back().size();
      p.push_back(f.paths.back().substr(begin, slash - begin));
    }
    f.path_vectors.push_back(std::move(p));
  }
  return f;
}

const Fixture& fixture(int kind) {
  // 100 = 5*5*2*2 and 100,000 = 25*20*20*10 leaves, balanced; "wide": 1*1*1*100,000.
  static const Fixture small = make_fixture({5, 5, 2, 2});
  static const Fixture large = make_fixture({25, 20, 20, 10});
  static const Fixture wide = make_fixture({1, 1, 1, 100000});
  return kind == 0 ? small : kind == 1 ? large : wide;
}

void set_leaf(benchmark::State& state, int kind) {
  const Fixture& f = fixture(kind);
  const Array value = jute::ones({2});
  std::size_t i = 0;
  for (auto _ : state) {
    Tree t = f.tree.set(f.paths[i++ & 1023], value);
    benchmark::DoNotOptimize(t.identity());
  }
  state.counters["leaves"] = static_cast<double>(f.tree.num_leaves());
}

void get_leaf(benchmark::State& state, int kind) {
  const Fixture& f = fixture(kind);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&f.tree.get(f.paths[i++ & 1023]));
}

void get_leaf_by_path_vector(benchmark::State& state, int kind) {
  const Fixture& f = fixture(kind);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(&f.tree.get(f.path_vectors[i++ & 1023]));
}

void configure(benchmark::internal::Benchmark* b) { b->Unit(benchmark::kNanosecond); }

}  // namespace

BENCHMARK_CAPTURE(set_leaf, depth4 / 100, 0)->Apply(configure);
BENCHMARK_CAPTURE(set_leaf, depth4 / 100000, 1)->Apply(configure);
BENCHMARK_CAPTURE(set_leaf, wide / 100000, 2)->Apply(configure);
BENCHMARK_CAPTURE(get_leaf, depth4 / 100, 0)->Apply(configure);
BENCHMARK_CAPTURE(get_leaf, depth4 / 100000, 1)->Apply(configure);
BENCHMARK_CAPTURE(get_leaf, wide / 100000, 2)->Apply(configure);
BENCHMARK_CAPTURE(get_leaf_by_path_vector, depth4 / 100000, 1)->Apply(configure);
