// The recurrence seam: a stack of recurrent layers with an opaque carried state. The trainer,
// the evaluator, gradient checkpointing, sampling and checkpoints see only RecurrentState (a list
// of [B, ...] tensors, one row per stream) and the names the recurrence gives them, so a new
// recurrence is one file and one registry line (trainer/models/registry.cpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "trainer/models/part_memory.h"

namespace chorus {

// The state a recurrence carries from window to window (TBPTT): a list of tensors whose first
// dimension is the stream. What each tensor means is the recurrence's own business (LSTM: h and c
// per layer; GRU: h per layer).
struct RecurrentState {
  std::vector<torch::Tensor> tensors;
  // Zeroes the rows of streams whose window starts a song (reset[b] = 1).
  RecurrentState masked(const std::vector<uint8_t>& reset) const;
  RecurrentState detached() const;
};

class RecurrenceImpl : public torch::nn::Module {
 public:
  // Runs the stack on x [T, B, in] from `state`; layer l's output is multiplied by
  // dropout_masks[l] ([T, B, H]; none when empty) before it feeds layer l + 1 (docs/design.md
  // "Dropout masks"). Returns the top layer's output [T, B, H]; *next gets the state after step
  // T - 1. Inputs and state are on the module's device.
  virtual torch::Tensor forward(const torch::Tensor& x, const RecurrentState& state,
                                const std::vector<torch::Tensor>& dropout_masks,
                                RecurrentState* next) = 0;
  // The zero state of `batch` streams (where every song starts).
  virtual RecurrentState zeros(int64_t batch, torch::Device device) const = 0;
  // One name per state tensor, as checkpoints store them ("h0", "c0", "h1", ...).
  virtual std::vector<std::string> state_names() const = 0;
  // Floats per stream and step the stack keeps (with dropout masks between layers, when
  // `dropout`), and those of its carried state per stream.
  virtual PartMemory memory(bool dropout) const = 0;
  virtual double state_floats() const = 0;
};

}  // namespace chorus
