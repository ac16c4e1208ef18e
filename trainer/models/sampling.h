// Generation: a model runs one position at a time with its state carried, from a zero state with
// the start row (zeros: the end-of-song symbol, a silent frame) as its first input, exactly as
// songs are seen in training; the head draws each next position. What a drawn position means —
// the next input row, what the head may draw next, when to stop — is the task's (trainer/tasks),
// given as hooks, so the loop knows nothing of any kind of data.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "trainer/models/head.h"
#include "trainer/models/model.h"

namespace chorus {

struct GenerationHooks {
  // The model's next input rows ([1, 1] or [1, 1, W] int64) after `drawn`; unset: `drawn` itself.
  std::function<torch::Tensor(const std::vector<int64_t>& drawn)> next_input;
  // Before each draw: may narrow what the head draws (e.g. the symbols the order allows next).
  std::function<void(HeadSampling* sampling)> before_draw;
  // True: stop at `drawn`, which is not returned.
  std::function<bool(const std::vector<int64_t>& drawn)> stop;
};

// Feeds `prime` ([P, 1] or [P, 1, W] input rows, int64, its first row the start row) through
// `model`, then draws up to `length` positions, feeding each back through the hooks. Returns the
// drawn positions, each the head's values (a symbol id, or one 0/1 value per key). Same seed,
// same positions.
std::vector<std::vector<int64_t>> generate(SequenceModelImpl& model, const torch::Tensor& prime,
                                           int64_t length, const HeadSampling& sampling,
                                           uint64_t seed, const GenerationHooks& hooks = {});

}  // namespace chorus
