// jute/ops.hpp — the op vocabulary: free functions over Arrays.
//
// Conventions (NumPy's unless stated):
// - Binary elementwise ops broadcast their operands (NumPy rules) and promote dtypes with
//   `promote_types` (see dtype.hpp); a C++ number in an expression is a weakly typed scalar that
//   keeps the other operand's dtype (`x * 2.0` stays float32; a float64 `x` meets the full
//   double 2.0, not a float32 rounding of it).
// - Floating-point math (exp, log, tanh, ...) on integer or bool inputs computes in float32.
// - Axes may be negative. A reduction's `Axes` defaults to all axes.
// - Every op validates shapes and dtypes and throws ShapeError / DtypeError / ValueError with a
//   one-sentence message that starts with "[op]" and prints the shapes.
// - Every float op is differentiable (see autodiff.hpp); ops on integers and bools are not.
// - Elementwise ops take their operands by value: passing a temporary lets the op write its
//   result into the temporary's buffer (nobody else can see it), which saves memory traffic.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jute/array.hpp"

namespace jute {

/// A set of axes for reductions and squeeze; default-constructed means "all axes".
class Axes {
 public:
  Axes() = default;
  Axes(int axis) : axes_{axis}, all_(false) {}  // NOLINT(google-explicit-constructor)
  Axes(std::initializer_list<int> axes) : axes_(axes), all_(false) {}
  Axes(std::vector<int> axes) : axes_(std::move(axes)), all_(false) {}  // NOLINT
  bool all() const { return all_; }
  const std::vector<int>& list() const { return axes_; }
  /// The axes normalized to [0, ndim), sorted and unique; ShapeError naming `op` when out of range
  /// or repeated.
  std::vector<int> resolve(int ndim, const char* op) const;

 private:
  std::vector<int> axes_;
  bool all_ = true;
};

// ---- elementwise: arithmetic -------------------------------------------------------------------

Array add(Array a, Array b);
Array subtract(Array a, Array b);
Array multiply(Array a, Array b);
/// True division; integer operands give float32 (as jnp.true_divide).
Array divide(Array a, Array b);
Array power(Array a, Array b);
Array maximum(Array a, Array b);
Array minimum(Array a, Array b);

Array negative(Array a);
Array abs(Array a);
Array sign(Array a);
Array exp(Array a);
Array log(Array a);
Array log1p(Array a);
Array expm1(Array a);
Array sqrt(Array a);
Array rsqrt(Array a);
Array square(Array a);
Array reciprocal(Array a);
Array tanh(Array a);
Array sigmoid(Array a);
Array erf(Array a);
Array sin(Array a);
Array cos(Array a);
Array floor(Array a);
Array ceil(Array a);
/// Round half to even, as NumPy.
Array round(Array a);

/// Clamps to [lo, hi] (`lo`/`hi` broadcast).
Array clip(Array a, Array lo, Array hi);
/// Elementwise choice: `cond ? a : b`; `cond` must be bool; all three broadcast.
Array where(const Array& cond, Array a, Array b);

// ---- elementwise: comparisons and logic (bool results) -----------------------------------------

Array equal(Array a, Array b);
Array not_equal(Array a, Array b);
Array less(Array a, Array b);
Array less_equal(Array a, Array b);
Array greater(Array a, Array b);
Array greater_equal(Array a, Array b);
Array logical_and(Array a, Array b);
Array logical_or(Array a, Array b);
Array logical_xor(Array a, Array b);
Array logical_not(Array a);
Array isfinite(Array a);
Array isnan(Array a);

// ---- reductions ---------------------------------------------------------------------------------

Array sum(const Array& a, const Axes& axes = {}, bool keepdims = false);
/// Integer inputs give a float32 mean.
Array mean(const Array& a, const Axes& axes = {}, bool keepdims = false);
Array prod(const Array& a, const Axes& axes = {}, bool keepdims = false);
Array max(const Array& a, const Axes& axes = {}, bool keepdims = false);
Array min(const Array& a, const Axes& axes = {}, bool keepdims = false);
/// Variance with `ddof` delta degrees of freedom (0: biased, as NumPy's default).
Array var(const Array& a, const Axes& axes = {}, bool keepdims = false, int ddof = 0);
Array std(const Array& a, const Axes& axes = {}, bool keepdims = false, int ddof = 0);
/// log(sum(exp(a))) computed stably.
Array logsumexp(const Array& a, const Axes& axes = {}, bool keepdims = false);
/// Index of the first maximum along `axis` (over the flattened array when absent), int32.
Array argmax(const Array& a, std::optional<int> axis = std::nullopt, bool keepdims = false);
Array argmin(const Array& a, std::optional<int> axis = std::nullopt, bool keepdims = false);
/// True when any / every element is nonzero (over `axes`).
Array any(const Array& a, const Axes& axes = {}, bool keepdims = false);
Array all(const Array& a, const Axes& axes = {}, bool keepdims = false);

// ---- linear algebra -----------------------------------------------------------------------------

/// NumPy matmul: 1-D operands are promoted to matrices and the added axis removed afterwards;
/// leading (batch) dimensions broadcast. Float32/float64 run on BLAS GEMM; integer and bool
/// operands use a plain loop (wrapping on overflow; bool is "or of ands").
Array matmul(const Array& a, const Array& b);

// ---- shape --------------------------------------------------------------------------------------

/// A new shape with the same number of elements; one dimension may be -1. No copy.
Array reshape(const Array& a, const Shape& shape);
/// Permutes the axes (reverses them when `perm` is empty).
Array transpose(const Array& a, const std::vector<int>& perm = {});
/// Swaps two axes (numpy.swapaxes); `swapaxes(a, -1, -2)` transposes a batch of matrices.
Array swapaxes(const Array& a, int axis1, int axis2);
/// NumPy broadcasting of `a` to `shape` (materialized: arrays are always contiguous).
Array broadcast_to(const Array& a, const Shape& shape);
/// Inserts size-1 axes at `axes` (positions in the result).
Array expand_dims(const Array& a, const Axes& axes);
/// Removes the size-1 axes in `axes` (all size-1 axes by default).
Array squeeze(const Array& a, const Axes& axes = {});
/// Flattens to 1-D.
Array ravel(const Array& a);
/// Joins arrays along an existing axis; dtypes promote as in a binary op.
Array concatenate(const std::vector<Array>& arrays, int axis = 0);
/// Joins same-shaped arrays along a new axis at position `axis` of the result.
Array stack(const std::vector<Array>& arrays, int axis = 0);
/// Splits into `sections` equal parts along `axis` (ShapeError if it does not divide).
std::vector<Array> split(const Array& a, int sections, int axis = 0);
/// Splits at the given indices along `axis`, as numpy.split with a list.
std::vector<Array> split(const Array& a, const std::vector<std::int64_t>& indices, int axis = 0);
/// lax.slice: elements start[i] <= j < stop[i] with step strides[i] (1 when empty) per axis.
Array slice(const Array& a, const Shape& start, const Shape& stop, const Shape& strides = {});
/// a[start:stop:step] along one axis (Python slice semantics for negative/clamped bounds).
Array slice_axis(const Array& a, int axis, std::int64_t start, std::int64_t stop,
                 std::int64_t step = 1);
/// numpy.take: gathers `indices` (integer Array) along `axis`, or from the flattened array.
/// Out-of-range indices throw IndexError.
Array take(const Array& a, const Array& indices, std::optional<int> axis = std::nullopt);
/// numpy.take_along_axis: `indices` has a's rank and broadcasts against it except on `axis`.
Array take_along_axis(const Array& a, const Array& indices, int axis);
/// One-hot encoding along a new last axis; out-of-range indices give all-zero rows (as JAX).
Array one_hot(const Array& indices, std::int64_t num_classes, DType dtype = float32);
/// Reverses the order of elements along `axes`.
Array flip(const Array& a, const Axes& axes = {});

enum class PadMode { Constant, Reflect, Wrap, Edge };
/// numpy.pad with (before, after) widths per axis (a single pair pads every axis, as NumPy).
Array pad(const Array& a, const std::vector<std::pair<std::int64_t, std::int64_t>>& widths,
          PadMode mode = PadMode::Constant, double value = 0.0);

// ---- convolution and pooling ------------------------------------------------------------------

/// Padding for conv and reduce_window: "SAME", "VALID", or explicit (low, high) per spatial axis.
class Padding {
 public:
  enum class Kind { Same, Valid, Explicit };
  Padding(const char* name);                                                  // NOLINT
  Padding(const std::string& name);                                           // NOLINT
  Padding(std::vector<std::pair<std::int64_t, std::int64_t>> explicit_pads);  // NOLINT
  static Padding same() { return Padding("SAME"); }
  static Padding valid() { return Padding("VALID"); }
  Kind kind() const { return kind_; }
  const std::vector<std::pair<std::int64_t, std::int64_t>>& pads() const { return pads_; }
  /// The explicit (low, high) pads for the given spatial sizes (as lax.padtype_to_pads).
  std::vector<std::pair<std::int64_t, std::int64_t>> resolve(const Shape& in_spatial,
                                                             const Shape& window,
                                                             const Shape& strides) const;

 private:
  Kind kind_ = Kind::Valid;
  std::vector<std::pair<std::int64_t, std::int64_t>> pads_;
};

/// lax.conv_general_dilated with Flax's layouts: `lhs` is (N, spatial..., C) and `rhs` is
/// (spatial..., C / feature_group_count, O); returns (N, out_spatial..., O). Empty vectors mean
/// ones. `lhs_dilation` > 1 gives a transposed (fractionally strided) convolution.
Array conv_general_dilated(const Array& lhs, const Array& rhs, const Shape& window_strides = {},
                           const Padding& padding = Padding("VALID"),
                           const Shape& lhs_dilation = {}, const Shape& rhs_dilation = {},
                           std::int64_t feature_group_count = 1);

/// conv_general_dilated(lhs, rhs, ...) + bias, where `bias` has shape (O,) (one value per output
/// channel), as one op: float32 convolutions add the bias inside the convolution and compute the
/// kernel and bias gradients in one pass (docs/conv.md). Its gradient with respect to `bias` is
/// the cotangent summed over every axis but the last.
Array conv_general_dilated_bias(const Array& lhs, const Array& rhs, const Array& bias,
                                const Shape& window_strides = {},
                                const Padding& padding = Padding("VALID"),
                                const Shape& lhs_dilation = {}, const Shape& rhs_dilation = {},
                                std::int64_t feature_group_count = 1);

enum class ReduceOp { Max, Sum };
/// lax.reduce_window: reduces windows of `window` (one entry per axis of `a`) moved by `strides`,
/// with padding per axis; padded elements are -inf for Max and 0 for Sum.
Array reduce_window(const Array& a, ReduceOp op, const Shape& window, const Shape& strides = {},
                    const Padding& padding = Padding("VALID"));

// ---- comparisons of whole arrays (for tests and Trees) ------------------------------------------

/// Same shape, same dtype and equal elements (NaNs compare equal when `equal_nan`).
bool array_equal(const Array& a, const Array& b, bool equal_nan = false);
/// Same shape and |a - b| <= atol + rtol * |b| elementwise (NaNs equal when `equal_nan`).
bool allclose(const Array& a, const Array& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

// ---- operators ----------------------------------------------------------------------------------

inline Array operator+(Array a, Array b) { return add(std::move(a), std::move(b)); }
inline Array operator-(Array a, Array b) { return subtract(std::move(a), std::move(b)); }
inline Array operator*(Array a, Array b) { return multiply(std::move(a), std::move(b)); }
inline Array operator/(Array a, Array b) { return divide(std::move(a), std::move(b)); }
inline Array operator-(Array a) { return negative(std::move(a)); }
inline Array operator<(Array a, Array b) { return less(std::move(a), std::move(b)); }
inline Array operator<=(Array a, Array b) { return less_equal(std::move(a), std::move(b)); }
inline Array operator>(Array a, Array b) { return greater(std::move(a), std::move(b)); }
inline Array operator>=(Array a, Array b) { return greater_equal(std::move(a), std::move(b)); }
/// Elementwise equality (a bool Array); use array_equal for a single answer.
inline Array operator==(Array a, Array b) { return equal(std::move(a), std::move(b)); }
inline Array operator!=(Array a, Array b) { return not_equal(std::move(a), std::move(b)); }
inline Array operator&(Array a, Array b) { return logical_and(std::move(a), std::move(b)); }
inline Array operator|(Array a, Array b) { return logical_or(std::move(a), std::move(b)); }
inline Array operator!(Array a) { return logical_not(std::move(a)); }

}  // namespace jute
