// What a model keeps in memory per stream, reported by each of its parts (features, recurrence,
// head) for itself, so the estimate every run prints is right for any combination of parts
// (trainer/run/activation_memory.h turns it into bytes). LibTorch-free.
#pragma once

namespace chorus {

// Floats per stream and position one part holds.
struct PartMemory {
  double kept = 0;  // kept for the backward pass
  double eval = 0;  // alive while it runs without a graph (evaluation, sampling)
};

// The whole model's figures per stream.
struct ActivationProfile {
  double kept_per_step = 0;  // floats per step kept for the backward pass
  double state = 0;          // floats of the carried state (a recomputed segment's starting state)
  double eval_per_step = 0;  // floats per step alive while evaluating without a graph
};

}  // namespace chorus
