// Character LSTM: symbols in, a distribution over the next symbol out. With artist conditioning
// the same artist vector is joined to every step's input.
#include "trainer/char_lstm.h"

#include <algorithm>

namespace chorus {

CharLstmImpl::CharLstmImpl(const ModelConfig& config, int64_t vocab_size, int64_t num_artists)
    : SequenceModelImpl(config), vocab_size_(vocab_size) {
  embed_ = register_module("embed", torch::nn::Embedding(vocab_size, config.embedding_size));
  int64_t input = config.embedding_size;
  if (config.condition == "artist") {
    artist_embed_ = register_module(
        "artist_embed",
        torch::nn::Embedding(std::max<int64_t>(1, num_artists), config.artist_embedding_size));
    input += config.artist_embedding_size;
  }
  register_lstms(input);
  out_ = register_module("out", torch::nn::Linear(config.hidden_size, vocab_size));
}

torch::Tensor CharLstmImpl::features(const torch::Tensor& inputs, const torch::Tensor& artist) {
  torch::Tensor x = embed_(inputs);  // [T, B, E]
  if (!artist_embed_) return x;
  torch::Tensor a = artist_embed_(artist).unsqueeze(0).expand({x.size(0), -1, -1});
  return torch::cat({x, a}, /*dim=*/2);
}

torch::Tensor CharLstmImpl::loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                     const torch::Tensor& mask) const {
  return masked_cross_entropy_sum(logits, targets, mask);
}

torch::Tensor masked_cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const torch::Tensor& mask) {
  torch::Tensor per = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  return (per * mask.reshape({-1})).sum();
}

}  // namespace chorus
