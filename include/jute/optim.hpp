// jute/optim.hpp — Optax for jute: pure optimizers whose state is a Tree, schedules, TrainState.
// See docs/optim.md.
#pragma once

#include "jute/optim/alias.hpp"        // IWYU pragma: export
#include "jute/optim/base.hpp"         // IWYU pragma: export
#include "jute/optim/combine.hpp"      // IWYU pragma: export
#include "jute/optim/schedules.hpp"    // IWYU pragma: export
#include "jute/optim/train_state.hpp"  // IWYU pragma: export
#include "jute/optim/transforms.hpp"   // IWYU pragma: export
