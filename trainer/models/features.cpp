// The two kinds of features. Module names (embed, artist_embed; input) are those of every
// checkpoint written so far: trainer/models/model.cpp writes them at the top level of model.pt.
#include "trainer/models/features.h"

#include <algorithm>

namespace chorus {
namespace {

class SymbolFeaturesImpl : public FeaturesImpl {
 public:
  SymbolFeaturesImpl(int64_t symbols, int64_t embedding_size, int64_t artists,
                     int64_t artist_embedding_size)
      : size_(embedding_size + (artists > 0 ? artist_embedding_size : 0)) {
    embed_ = register_module("embed", torch::nn::Embedding(symbols, embedding_size));
    if (artists > 0)
      artist_embed_ = register_module("artist_embed",
                                      torch::nn::Embedding(artists, artist_embedding_size));
  }

  torch::Tensor forward(const torch::Tensor& inputs) override {
    if (!artist_embed_) return embed_(inputs);  // [T, B, E]
    torch::Tensor x = embed_(inputs.select(/*dim=*/2, /*index=*/0));
    // One artist vector per stream, broadcast over the window's positions: the same arithmetic
    // (and gradient summation) as a per-stream artist argument.
    torch::Tensor a = artist_embed_(inputs.select(2, 1)[0]).unsqueeze(0).expand({x.size(0), -1, -1});
    return torch::cat({x, a}, /*dim=*/2);
  }

  int64_t size() const override { return size_; }

 private:
  int64_t size_;
  torch::nn::Embedding embed_{nullptr}, artist_embed_{nullptr};
};

class FrameFeaturesImpl : public FeaturesImpl {
 public:
  FrameFeaturesImpl(int64_t keys, int64_t embedding_size) : size_(embedding_size) {
    in_ = register_module("input", torch::nn::Linear(keys, embedding_size));
    // Initialised like an embedding (N(0, 1), as the symbol features), not like a linear layer
    // (U(+-1/sqrt(88))): with the linear init the stacked LSTMs saw inputs of ~0.2 and a two-layer
    // model sat on the per-key frequency plateau (~10 nats per frame on Nottingham).
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(in_->weight, 0.0, 1.0);
    in_->bias.zero_();
  }

  torch::Tensor forward(const torch::Tensor& inputs) override {
    return in_(inputs.to(torch::kFloat32));
  }

  int64_t size() const override { return size_; }

 private:
  int64_t size_;
  torch::nn::Linear in_{nullptr};
};

}  // namespace

std::shared_ptr<FeaturesImpl> make_symbol_features(int64_t symbols, int64_t embedding_size,
                                                   int64_t artists, int64_t artist_embedding_size) {
  return std::make_shared<SymbolFeaturesImpl>(symbols, embedding_size, artists,
                                              artist_embedding_size);
}

std::shared_ptr<FeaturesImpl> make_frame_features(int64_t keys, int64_t embedding_size) {
  return std::make_shared<FrameFeaturesImpl>(keys, embedding_size);
}

}  // namespace chorus
