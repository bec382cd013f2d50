// Loss functions with Optax's definitions (element- or row-wise, no reduction).
#include "jute/nn/losses.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "jute/autodiff.hpp"
#include "jute/nn/activations.hpp"
#include "jute/ops.hpp"

namespace jute::nn {

namespace {

void require_float(const Array& a, const char* op, const char* what) {
  if (!is_floating(a.dtype()))
    throw DtypeError(std::string("[") + op + "] The " + what + " must be float32 or float64, got " +
                     a.type_string() + "; convert them with astype.");
}

void require_rank1(const Array& a, const char* op, const char* what) {
  if (a.ndim() < 1)
    throw ShapeError(std::string("[") + op + "] The " + what +
                     " must have at least one axis (the classes), got a scalar.");
}

void require_same_shape(const Array& a, const Array& b, const char* op, const char* what_a,
                        const char* what_b) {
  if (a.shape() != b.shape())
    throw ShapeError(std::string("[") + op + "] The " + what_b + " must have the shape of the " +
                     what_a + ", got " + what_a + " " + jute::detail::shape_str(a.shape()) +
                     " and " + what_b + " " + jute::detail::shape_str(b.shape()) +
                     "; no broadcasting is done.");
}

/// Integer labels with shape logits.shape[:-1].
void require_integer_labels(const Array& logits, const Array& labels, const char* op) {
  require_rank1(logits, op, "logits");
  if (!is_integer(labels.dtype()))
    throw DtypeError(std::string("[") + op + "] The labels must be integer class indices, got " +
                     labels.type_string() +
                     "; for one-hot or soft labels use softmax_cross_entropy.");
  const Shape row_shape(logits.shape().begin(), logits.shape().end() - 1);
  if (labels.shape() != row_shape)
    throw ShapeError(std::string("[") + op + "] The labels must have the shape of the logits " +
                     "without the last (class) axis, " + jute::detail::shape_str(row_shape) +
                     ", got logits " + jute::detail::shape_str(logits.shape()) + " and labels " +
                     jute::detail::shape_str(labels.shape()) + ".");
}

Array difference(const Array& predictions, const Array& targets, const char* op) {
  require_float(predictions, op, "predictions");
  require_same_shape(predictions, targets, op, "predictions", "targets");
  return predictions - targets;
}

}  // namespace

Array softmax_cross_entropy(const Array& logits, const Array& labels) {
  const char* op = "softmax_cross_entropy";
  require_float(logits, op, "logits");
  require_rank1(logits, op, "logits");
  require_same_shape(logits, labels, op, "logits", "labels");
  return -sum(labels * log_softmax(logits, -1), -1);
}

Array softmax_cross_entropy_with_integer_labels(const Array& logits, const Array& labels) {
  const char* op = "softmax_cross_entropy_with_integer_labels";
  require_float(logits, op, "logits");
  require_integer_labels(logits, labels, op);
  const auto classes = static_cast<int>(logits.shape(-1));
  const Array shifted = logits - stop_gradient(max(logits, -1, /*keepdims=*/true));
  // Out-of-range labels gather a clipped index and are replaced by NaN (Optax's "fill" gather).
  const Array index = expand_dims(labels.astype(int32), -1);
  const Array in_range = (index >= -classes) & (index < classes);
  const Array label_logits =
      take_along_axis(shifted, clip(index, Array(-classes), Array(classes - 1)), -1);
  const Array filled =
      where(in_range, label_logits, Array(std::numeric_limits<double>::quiet_NaN()));
  return log(sum(exp(shifted), -1)) - squeeze(filled, -1);
}

Array safe_softmax_cross_entropy(const Array& logits, const Array& labels) {
  const char* op = "safe_softmax_cross_entropy";
  require_float(logits, op, "logits");
  require_rank1(logits, op, "logits");
  require_same_shape(logits, labels, op, "logits", "labels");
  const Array zero_label = labels == 0.0;
  // The masked product never sees -inf * 0: log-probabilities under zero labels are replaced.
  const Array log_probs = where(zero_label, Array(0.0), log_softmax(logits, -1));
  return -sum(where(zero_label, Array(0.0), labels * log_probs), -1);
}

Array sigmoid_binary_cross_entropy(const Array& logits, const Array& labels) {
  const char* op = "sigmoid_binary_cross_entropy";
  require_float(logits, op, "logits");
  require_same_shape(logits, labels, op, "logits", "labels");
  const Array y = labels.astype(logits.dtype());
  return -y * log_sigmoid(logits) - (1.0 - y) * log_sigmoid(-logits);
}

Array squared_error(const Array& predictions, const Array& targets) {
  return square(difference(predictions, targets, "squared_error"));
}

Array squared_error(const Array& predictions) {
  require_float(predictions, "squared_error", "predictions");
  return square(predictions);
}

Array l2_loss(const Array& predictions, const Array& targets) {
  return square(difference(predictions, targets, "l2_loss")) * 0.5;
}

Array l2_loss(const Array& predictions) {
  require_float(predictions, "l2_loss", "predictions");
  return square(predictions) * 0.5;
}

Array huber_loss(const Array& predictions, const Array& targets, double delta) {
  const Array errors = abs(difference(predictions, targets, "huber_loss"));
  const Array quadratic = minimum(errors, Array(delta));
  return square(quadratic) * 0.5 + (errors - quadratic) * Array(delta);
}

Array log_cosh(const Array& predictions, const Array& targets) {
  // logaddexp(e, −e) − log 2 = e + softplus(−2e) − log 2.
  const Array e = difference(predictions, targets, "log_cosh");
  return e + softplus(e * -2.0) - Array(std::log(2.0));
}

Array smooth_labels(const Array& labels, double alpha) {
  const char* op = "smooth_labels";
  require_float(labels, op, "labels");
  require_rank1(labels, op, "labels");
  if (!(alpha >= 0.0 && alpha <= 1.0))
    throw ValueError("[smooth_labels] alpha must lie in [0, 1], got " + std::to_string(alpha) +
                     ".");
  return labels * Array(1.0 - alpha) + Array(alpha / static_cast<double>(labels.shape(-1)));
}

Array accuracy(const Array& logits, const Array& labels) {
  require_integer_labels(logits, labels, "accuracy");
  return mean((argmax(logits, -1) == labels.astype(int32)).astype(float32));
}

}  // namespace jute::nn
