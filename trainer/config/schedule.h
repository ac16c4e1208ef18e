// Learning rate as a pure function of the step, so a resumed run sets exactly the same rate
// (LibTorch's optimizer load does not restore it; docs/design.md "Checkpoint integrity").
#pragma once
#include <cstdint>

namespace chorus {

struct OptimConfig;

// Learning rate for optimizer step `step` (1-based) of `total_steps`.
// constant: lr. warmup: linear from lr/warmup_steps to lr over warmup_steps, then lr.
// cosine: the same warm-up, then cosine decay from lr to min_lr at total_steps.
double learning_rate(const OptimConfig& optim, int64_t step, int64_t total_steps);

}  // namespace chorus
