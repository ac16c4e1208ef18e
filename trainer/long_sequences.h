// Sizing long-sequence training without LibTorch: the recomputation segment length and the
// activation memory one training window needs in each mode (the config table prints it, and
// bench/long_sequences.sh prints it for the cells it skips).
#pragma once
#include <cstdint>
#include <string>

#include "trainer/config.h"

namespace chorus {

// Segment length k for a window of T steps: 0 (plain backward pass) for "0" or when k >= T;
// "auto" gives round(sqrt(T)). `setting` is train.recompute_every, already validated.
int64_t recompute_segment(const std::string& setting, int64_t T);

// Estimated bytes of activations kept for the backward pass of one window of T steps and
// `batch` streams (this rank's), for a model with `outputs` output units; k as above.
// Calibrated against measured peak memory (bench/long_sequences.sh, README).
double activation_bytes(const ModelConfig& model, int64_t outputs, int64_t batch, int64_t T,
                        int64_t k);

// "1.6 GiB", "312 MiB", "4.0 KiB".
std::string human_bytes(double bytes);

}  // namespace chorus
