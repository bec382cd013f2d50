// jute/io/npy.hpp — NumPy's .npy and .npz files.
//
//   io::write_npy("w.npy", w);                 // np.load("w.npy") in Python
//   Array x = io::read_npy("x.npy");           // what np.save wrote
//   Tree params = io::read_npz("params.npz");  // np.savez(f, **{"Dense_0/kernel": ...}) → nested
//
// .npy is a magic string, a version, a Python-literal header {'descr', 'fortran_order',
// 'shape'} and the raw values; .npz is a zip archive of .npy files. See docs/io.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "jute/array.hpp"
#include "jute/io/serialization.hpp"
#include "jute/tree.hpp"

namespace jute::io {

/// The array of .npy bytes (versions 1.0, 2.0 and 3.0; little- or big-endian; C or Fortran
/// order). dtypes: |b1 bool, |u1 uint8, i4 int32, u4 uint32, f4 float32, f8 float64; others are
/// a DtypeError naming the descr. FormatError for malformed bytes (`what` names them).
Array parse_npy(std::span<const std::uint8_t> bytes, const std::string& what = "the .npy data");
Array read_npy(const std::filesystem::path& file);
/// The bytes np.save writes for `a` (version 1.0, C order, little-endian, header padded to 64).
/// ValueError for a shape-only array.
Bytes to_npy(const Array& a);
/// to_npy written atomically (temporary file, fsync, rename).
void write_npy(const std::filesystem::path& file, const Array& a);

/// The arrays of .npz bytes as a Tree: member "a/b.npy" becomes the leaf at path a/b (so
/// np.savez(f, **flax.traverse_util.flatten_dict(params, sep="/")) reads as the nested params).
/// Members not ending in ".npy" are ignored. FormatError for a damaged archive or member, or
/// names that clash (a leaf that is also a prefix of another).
Tree parse_npz(std::span<const std::uint8_t> bytes, const std::string& what = "the .npz data");
Tree read_npz(const std::filesystem::path& file);
/// A zip of one "<path>.npy" per leaf ('/'-joined paths), stored (np.savez) or deflated
/// (np.savez_compressed), with fixed time stamps so the bytes are reproducible. ValueError for
/// keys flatten() refuses (empty, or holding '/'). Empty sub-Trees are not stored.
Bytes to_npz(const Tree& tree, bool compress = false);
void write_npz(const std::filesystem::path& file, const Tree& tree, bool compress = false);

}  // namespace jute::io
