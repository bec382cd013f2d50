// jute/nn.hpp — the neural-network library: modules, init/apply, initializers, layers,
// activations and losses (flax.linen and optax.losses with their names and defaults).
#pragma once

#include "jute/nn/activations.hpp"
#include "jute/nn/attention.hpp"
#include "jute/nn/errors.hpp"
#include "jute/nn/initializers.hpp"
#include "jute/nn/losses.hpp"
#include "jute/nn/module.hpp"
#include "jute/nn/normalization.hpp"
#include "jute/nn/scope.hpp"
