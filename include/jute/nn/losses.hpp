// jute/nn/losses.hpp — loss functions with Optax's definitions (optax.losses): element-wise or
// row-wise values with NO hidden averaging; the caller reduces (usually with jute::mean).
//
//   Array loss = jute::mean(jute::nn::softmax_cross_entropy_with_integer_labels(logits, labels));
//   Array acc  = jute::nn::accuracy(logits, labels);        // f32[] in [0, 1]
//
// Shapes are checked (ShapeError) rather than broadcast: label arrays must have the shape the
// definition asks for. Float arguments must be float32 or float64 (DtypeError); integer labels
// must be an integer dtype (DtypeError). Every loss is differentiable to any order in its
// floating-point arguments.
#pragma once

#include "jute/array.hpp"

namespace jute::nn {

/// −sum(labels · log_softmax(logits), axis=-1): one value per row. `labels` (a distribution,
/// e.g. one-hot) must have the shape of `logits`.
Array softmax_cross_entropy(const Array& logits, const Array& labels);

/// The same with integer class labels of shape logits.shape[:-1], in the stable form
/// logsumexp(logits) − logits[label] (the normaliser is subtracted at the label only). A label
/// outside [−C, C) gives NaN, as Optax's gather; a negative label counts from the end.
Array softmax_cross_entropy_with_integer_labels(const Array& logits, const Array& labels);

/// softmax_cross_entropy that treats 0·log(0) as 0, so rows with −inf logits and zero labels are
/// finite (optax.safe_softmax_cross_entropy).
Array safe_softmax_cross_entropy(const Array& logits, const Array& labels);

/// −labels·log_sigmoid(logits) − (1 − labels)·log_sigmoid(−logits), element-wise. `labels` (any
/// dtype, converted to the logits' dtype) must have the shape of `logits`.
Array sigmoid_binary_cross_entropy(const Array& logits, const Array& labels);

/// (predictions − targets)², element-wise; the shapes must be equal. Without targets: predictions².
Array squared_error(const Array& predictions, const Array& targets);
Array squared_error(const Array& predictions);

/// 0.5·(predictions − targets)² — note the 0.5 (Optax's, Bishop's convention); MSE is
/// mean(squared_error(...)).
Array l2_loss(const Array& predictions, const Array& targets);
Array l2_loss(const Array& predictions);

/// With e = |predictions − targets| and q = min(e, delta): 0.5·q² + delta·(e − q).
Array huber_loss(const Array& predictions, const Array& targets, double delta = 1.0);

/// log(cosh(predictions − targets)), stable for large errors.
Array log_cosh(const Array& predictions, const Array& targets);

/// (1 − alpha)·labels + alpha / num_classes, with num_classes = labels.shape[-1]; ValueError
/// unless 0 <= alpha <= 1.
Array smooth_labels(const Array& labels, double alpha);

/// The fraction of rows whose argmax over the last axis equals the integer label: an f32[]
/// scalar. `labels` must have the shape logits.shape[:-1] and an integer dtype.
Array accuracy(const Array& logits, const Array& labels);

}  // namespace jute::nn
