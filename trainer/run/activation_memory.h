// Sizing long-sequence training without LibTorch: the activation memory one training window needs
// in each mode, and the memory of a validation, from the figures a model's parts report
// (SequenceModelImpl::activation_profile; the config table prints both, and
// bench/long_sequences.sh prints the estimate for the cells it skips).
#pragma once
#include <cstdint>
#include <string>

#include "trainer/models/part_memory.h"


namespace chorus {

// Estimated bytes of activations kept for the backward pass of one window of T steps and
// `batch` streams (this rank's); k is the recomputation segment (RecomputeEvery::segment; 0 =
// the plain backward pass): one segment alive at a time, plus every segment's starting state.
double activation_bytes(const ActivationProfile& profile, int64_t batch, int64_t T, int64_t k);

// Estimated bytes of one validation call: `lanes` streams through one evaluation window of at
// most kEvalWindow steps (trainer/run/evaluator.h), without a graph. It does not grow with
// train.seq_len.
double evaluation_bytes(const ActivationProfile& profile, int64_t lanes, int64_t T);

// "1.6 GiB", "312 MiB", "4.0 KiB".
std::string human_bytes(double bytes);

}  // namespace chorus
