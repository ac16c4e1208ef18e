// Character LSTM. Layers are separate single-layer LSTMs so that dropout masks between them can
// be drawn by us (DESIGN.md); the state of a layer is reset only at window boundaries.
#include "trainer/char_lstm.h"

#include <string>

namespace chorus {

LstmState LstmState::zeros(int64_t layers, int64_t batch, int64_t hidden) {
  LstmState s;
  for (int64_t l = 0; l < layers; ++l) {
    s.h.push_back(torch::zeros({batch, hidden}));
    s.c.push_back(torch::zeros({batch, hidden}));
  }
  return s;
}

LstmState LstmState::masked(const std::vector<uint8_t>& reset) const {
  bool any = false;
  for (uint8_t r : reset) any = any || r;
  if (!any) return *this;
  std::vector<float> keep(reset.size());
  for (size_t b = 0; b < reset.size(); ++b) keep[b] = reset[b] ? 0.0f : 1.0f;
  torch::Tensor k = torch::tensor(keep).unsqueeze(1);
  LstmState s;
  for (size_t l = 0; l < h.size(); ++l) {
    s.h.push_back(h[l] * k);
    s.c.push_back(c[l] * k);
  }
  return s;
}

LstmState LstmState::detached() const {
  LstmState s;
  for (size_t l = 0; l < h.size(); ++l) {
    s.h.push_back(h[l].detach());
    s.c.push_back(c[l].detach());
  }
  return s;
}

CharLstmImpl::CharLstmImpl(const ModelConfig& config, int64_t vocab_size, int64_t num_artists)
    : config_(config), vocab_size_(vocab_size), num_artists_(num_artists) {
  embed_ = register_module("embed", torch::nn::Embedding(vocab_size, config.embedding_size));
  int64_t input = config.embedding_size;
  if (config.condition == "artist") {
    artist_embed_ = register_module(
        "artist_embed",
        torch::nn::Embedding(std::max<int64_t>(1, num_artists), config.artist_embedding_size));
    input += config.artist_embedding_size;
  }
  for (int64_t l = 0; l < config.layers; ++l) {
    lstms_.push_back(register_module(
        "lstm" + std::to_string(l),
        torch::nn::LSTM(torch::nn::LSTMOptions(l == 0 ? input : config.hidden_size,
                                               config.hidden_size))));
  }
  out_ = register_module("out", torch::nn::Linear(config.hidden_size, vocab_size));
}

std::pair<torch::Tensor, LstmState> CharLstmImpl::forward(
    const torch::Tensor& inputs, const torch::Tensor& artist, const LstmState& state,
    const std::vector<torch::Tensor>& dropout_masks) {
  torch::Tensor x = embed_(inputs);  // [T, B, E]
  if (artist_embed_) {
    torch::Tensor a = artist_embed_(artist).unsqueeze(0).expand({x.size(0), -1, -1});
    x = torch::cat({x, a}, /*dim=*/2);
  }
  LstmState next;
  for (size_t l = 0; l < lstms_.size(); ++l) {
    auto [y, hc] = lstms_[l]->forward(
        x, std::make_tuple(state.h[l].unsqueeze(0), state.c[l].unsqueeze(0)));
    next.h.push_back(std::get<0>(hc).squeeze(0));
    next.c.push_back(std::get<1>(hc).squeeze(0));
    x = dropout_masks.empty() ? y : y * dropout_masks[l];
  }
  return {out_(x), std::move(next)};
}

torch::Tensor masked_cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const torch::Tensor& mask) {
  torch::Tensor per = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  return (per * mask.reshape({-1})).sum();
}

}  // namespace chorus
