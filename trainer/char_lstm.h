// The character LSTM language model: embedding (+ artist vector) -> the LSTM stack -> linear over
// the vocabulary; cross-entropy per symbol.
#pragma once
#include <cstdint>

#include "trainer/sequence_model.h"

namespace chorus {

class CharLstmImpl : public SequenceModelImpl {
 public:
  CharLstmImpl(const ModelConfig& config, int64_t vocab_size, int64_t num_artists);
  torch::Tensor features(const torch::Tensor& inputs, const torch::Tensor& artist) override;
  torch::Tensor head(const torch::Tensor& top) override { return out_(top); }
  torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                         const torch::Tensor& mask) const override;
  int64_t output_size() const override { return vocab_size_; }
  int64_t vocab_size() const { return vocab_size_; }

 private:
  int64_t vocab_size_;
  torch::nn::Embedding embed_{nullptr}, artist_embed_{nullptr};
  torch::nn::Linear out_{nullptr};
};
TORCH_MODULE(CharLstm);

// Sum over counted targets of the cross-entropy (nats), and nothing else: callers divide by the
// globally all-reduced count (DESIGN.md "Loss aggregation").
torch::Tensor masked_cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const torch::Tensor& mask);

}  // namespace chorus
