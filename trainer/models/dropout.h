// Dropout masks as a pure function of (seed, window, stream, layer, position, unit)
// (docs/design.md "Dropout masks"): data-parallel equivalence, resume on another rank count and
// recomputation all see the same masks without any random generator state.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace chorus {

// Inverted-dropout mask [T, B, width]: 0 with probability p, else 1/(1-p).
// `window` counts windows over the whole run (step * accumulate + micro-step).
// Positions first_position .. first_position + seq_len - 1 of the window (a recomputed segment
// draws its slice of the window's mask without the rest).
torch::Tensor dropout_mask(uint64_t seed, int64_t window, const std::vector<int64_t>& stream_ids,
                           int64_t layer, int64_t seq_len, int64_t width, double p,
                           int64_t first_position = 0);

// The masks of a range of a window's positions: on the recurrence's input (undefined when off)
// and after each layer (empty when off).
struct DropoutMasks {
  torch::Tensor input;                // [T, B, input_width]
  std::vector<torch::Tensor> layers;  // one [T, B, width] per layer
};

// The dropout of one training window: masks for any range of its positions.
struct WindowDropout {
  uint64_t seed = 0;
  int64_t window = 0;
  std::vector<int64_t> stream_ids;
  int64_t layers = 0, width = 0;
  double p = 0;                       // after each layer (model.dropout)
  int64_t input_width = 0;
  double input_p = 0;                 // on the input (model.input_dropout): "layer" -1 of the hash
  bool active() const { return p > 0 && layers > 0; }
  DropoutMasks masks(int64_t begin, int64_t end) const;
};

}  // namespace chorus
