// jute/nn.hpp — the neural-network library: modules, init/apply, initializers, layers,
// activations and losses (flax.linen and optax.losses with their names and defaults).
#pragma once

#include "jute/nn/activations.hpp"
#include "jute/nn/attention.hpp"
#include "jute/nn/conv.hpp"
#include "jute/nn/dropout.hpp"
#include "jute/nn/errors.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/linear.hpp"
#include "jute/nn/losses.hpp"
#include "jute/nn/module.hpp"
#include "jute/nn/normalization.hpp"
#include "jute/nn/pooling.hpp"
#include "jute/nn/scope.hpp"
#include "jute/nn/sequential.hpp"

namespace jute::nn {

// The initializers under jute::nn as well (flax.linen re-exports them: nn.initializers.lecun_normal
// and the Flax-specific zeros_init / ones_init). The plain functions zeros and ones stay in
// jute::nn::initializers, where they do not hide jute::zeros / jute::ones.
using initializers::constant;
using initializers::Distribution;
using initializers::FanMode;
using initializers::glorot_normal;
using initializers::glorot_uniform;
using initializers::he_normal;
using initializers::he_uniform;
using initializers::kaiming_normal;
using initializers::kaiming_uniform;
using initializers::lecun_normal;
using initializers::lecun_uniform;
using initializers::normal;
using initializers::ones_init;
using initializers::truncated_normal;
using initializers::uniform;
using initializers::variance_scaling;
using initializers::xavier_normal;
using initializers::xavier_uniform;
using initializers::zeros_init;

}  // namespace jute::nn
