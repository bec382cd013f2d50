// jute/testing.hpp — helpers for testing models and derivatives: includes every header under
// jute/testing/.
#pragma once

#include "jute/testing/check_grads.hpp"
#include "jute/testing/state_properties.hpp"
