// The head seam: the output layer owns its loss and its sampling, given the top layer's output
// (not logits), so a head may be a joint distribution over a position's outputs that needs the
// targets in its likelihood and draws its outputs one after another.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include <torch/torch.h>

#include "trainer/config/config.h"
#include "trainer/models/part_memory.h"

namespace chorus {

// How a head draws: temperature and (symbol heads) the picking method and symbols never drawn.
struct HeadSampling {
  double temperature = 0.8;   // > 0; logits are divided by it
  SampleMethod method = SampleMethod::kMultinomial;
  std::vector<int64_t> excluded;  // symbol ids never drawn (the unknown symbol)
};

class HeadImpl : public torch::nn::Module {
 public:
  // Negative log-likelihood (nats) of each position's target: top [T, B, H], targets [T, B]
  // symbol ids, [T, B, 2] symbol ids with the lowest allowed id (softmax: an ordered vocabulary,
  // see softmax_head.cpp) or [T, B, K] 0/1 (int64) -> [T, B].
  virtual torch::Tensor nll(const torch::Tensor& top, const torch::Tensor& targets) = 0;
  // Sum over counted positions (mask [T, B] of 0/1) of the loss: callers divide by the global
  // count (docs/design.md "Loss aggregation").
  torch::Tensor loss_sum(const torch::Tensor& top, const torch::Tensor& targets,
                         const torch::Tensor& mask) {
    return (nll(top, targets) * mask).sum();
  }
  // Draws each stream's next position from top [B, H]: [B] symbol ids or [B, K] 0/1 values,
  // int64 on the host, using only `engine`'s raw draws (results do not depend on the standard
  // library).
  virtual torch::Tensor sample(const torch::Tensor& top, const HeadSampling& sampling,
                               std::mt19937_64& engine) = 0;
  // Floats per stream and position its loss keeps and needs.
  virtual PartMemory memory() const = 0;
};

// Picks one symbol from raw logits. multinomial: draw from softmax(logits / T) by inversion;
// gumbel: argmax of logits / T + Gumbel noise (the same distribution, by the Gumbel-max trick);
// argmax: the most likely symbol (ignores T and the engine).
int64_t pick_symbol(const std::vector<float>& logits, double temperature, SampleMethod method,
                    std::mt19937_64& engine);

}  // namespace chorus
