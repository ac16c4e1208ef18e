// The character LSTM language model: embedding (+ artist vector) -> L single-layer LSTMs with
// counter-based dropout between them -> linear over the vocabulary.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "trainer/config.h"

namespace chorus {

// (h, c) per layer, each [B, H]: the TBPTT state carried from window to window.
struct LstmState {
  std::vector<torch::Tensor> h, c;
  bool defined() const { return !h.empty(); }
  // Zeroes the rows of streams whose window starts a song (reset[b] = 1).
  LstmState masked(const std::vector<uint8_t>& reset) const;
  LstmState detached() const;
  static LstmState zeros(int64_t layers, int64_t batch, int64_t hidden);
};

class CharLstmImpl : public torch::nn::Module {
 public:
  CharLstmImpl(const ModelConfig& config, int64_t vocab_size, int64_t num_artists);

  // inputs [T, B] int64; artist [B] int64 (ignored unless conditioned); dropout_masks: one
  // [T, B, H] mask per layer, or empty for none. Returns logits [T, B, V] and the final state.
  std::pair<torch::Tensor, LstmState> forward(const torch::Tensor& inputs,
                                              const torch::Tensor& artist, const LstmState& state,
                                              const std::vector<torch::Tensor>& dropout_masks);

  const ModelConfig& config() const { return config_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t num_artists() const { return num_artists_; }

 private:
  ModelConfig config_;
  int64_t vocab_size_, num_artists_;
  torch::nn::Embedding embed_{nullptr}, artist_embed_{nullptr};
  std::vector<torch::nn::LSTM> lstms_;
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(CharLstm);

// Sum over counted targets of the cross-entropy (nats), and nothing else: callers divide by the
// globally all-reduced count (DESIGN.md "Loss aggregation").
torch::Tensor masked_cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const torch::Tensor& mask);

}  // namespace chorus
