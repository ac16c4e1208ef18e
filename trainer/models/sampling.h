// Generation: a model runs one position at a time with its state carried, from a zero state with
// the start symbol (zeros: the end-of-song symbol, a silent frame) as its first input, exactly
// as songs are seen in training; the head draws each next position. Tasks turn the positions
// into text or frames (trainer/tasks).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "trainer/models/head.h"
#include "trainer/models/model.h"

namespace chorus {

// Feeds `prime` ([P, 1] symbol ids or [P, 1, K] frame values, int64, its first position the start
// symbol) through `model`, then draws up to `length` positions, feeding each back. Drawing stops
// early at a position for which `stop` returns true (it is not returned). Returns the drawn
// positions, each `width` values. Same seed, same positions.
std::vector<std::vector<int64_t>> generate(
    SequenceModelImpl& model, const torch::Tensor& prime, int64_t artist, int64_t length,
    const HeadSampling& sampling, uint64_t seed,
    const std::function<bool(const std::vector<int64_t>&)>& stop = nullptr);

}  // namespace chorus
