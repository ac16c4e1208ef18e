// Dropout masks as a pure function of (seed, window, stream, layer, position, unit)
// (DESIGN.md "Dropout masks"): data-parallel equivalence, resume on another rank count and
// recomputation all see the same masks without any random generator state.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace chorus {

// Inverted-dropout mask [T, B, width]: 0 with probability p, else 1/(1-p).
// `window` counts windows over the whole run (step * accumulate + micro-step).
torch::Tensor dropout_mask(uint64_t seed, int64_t window, const std::vector<int64_t>& stream_ids,
                           int64_t layer, int64_t seq_len, int64_t width, double p);

}  // namespace chorus
