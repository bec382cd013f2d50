// Helpers for the io tests: the committed data files and scratch directories.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "jute/io/serialization.hpp"

namespace jute::io_test {

/// The bytes of tests/data/<name>.
inline io::Bytes read_data(const std::string& name) {
  std::ifstream f(std::string(JUTE_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing test data file " << name);
  return io::Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// A fresh, empty directory under the system's temporary directory, removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("jute_io_test_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace jute::io_test
