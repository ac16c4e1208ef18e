// Gradient checkpointing (train.recompute_every): a window's forward pass is cut into segments of
// k steps; only each segment's starting state is kept, and the segment — features, recurrence,
// head and loss — is run again in the backward pass. No [T, B, H] tensor outlives its segment, so
// activation memory is ~ (T / k) boundary states + one segment of k steps instead of T steps,
// for one extra forward pass. Dropout masks are a function of position (docs/design.md), so the
// recomputation draws the same ones and the gradients equal those of the plain pass.
#pragma once
#include <cstdint>
#include <utility>

#include <torch/torch.h>

#include "trainer/models/dropout.h"
#include "trainer/models/model.h"

namespace chorus {

// Sum of the loss (nats) over the window's counted targets, and the state after it.
// k <= 0 or k >= T: the plain forward pass (every step's activations kept). With recomputation
// each segment draws its own slice of the dropout masks, so not even those span the window.
// bf16: the forward pass (and its recomputation) runs under bf16 autocast on the model's device.
std::pair<torch::Tensor, RecurrentState> window_loss(SequenceModelImpl& model,
                                                     const WindowTensors& t,
                                                     const RecurrentState& state,
                                                     const WindowDropout& dropout, int64_t k,
                                                     bool bf16 = false);

}  // namespace chorus
