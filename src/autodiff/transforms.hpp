// Internal: the transformations over flat lists of primals and outputs, which the public
// overloads (Array, std::vector<Array>, Tree) and the gradient checker are written with.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "jute/array.hpp"

namespace jute::detail {

using MultiFn = std::function<std::vector<Array>(const std::vector<Array>&)>;
using MultiVjpFn = std::function<std::vector<Array>(const std::vector<Array>&)>;

/// DtypeError unless `x` is float32/float64; `what` names it ("the primal", "primal 2",
/// "the leaf params/step").
void check_differentiable(const Array& x, const std::string& what, const char* op);

/// The outputs of `f` at `primals` and the function mapping output cotangents (one per output,
/// shaped like it; a null one counts as zero) to primal cotangents.
std::pair<std::vector<Array>, MultiVjpFn> vjp_multi(const MultiFn& f,
                                                    const std::vector<Array>& primals,
                                                    const char* op);

/// The outputs of `f` at `primals` and their tangents along `tangents` (one per primal, shaped
/// like it).
std::pair<std::vector<Array>, std::vector<Array>> jvp_multi(const MultiFn& f,
                                                            const std::vector<Array>& primals,
                                                            const std::vector<Array>& tangents,
                                                            const char* op);

/// {f(x), ∂f/∂x} for a scalar-valued `f`.
std::pair<Array, std::vector<Array>> value_and_grad_multi(
    const std::function<Array(const std::vector<Array>&)>& f, const std::vector<Array>& primals,
    const char* op);

/// H·v for a scalar-valued `f`.
std::vector<Array> hvp_multi(const std::function<Array(const std::vector<Array>&)>& f,
                             const std::vector<Array>& primals, const std::vector<Array>& vectors,
                             const char* op);

}  // namespace jute::detail
