// The features seam: what a recurrence reads at each position. A task builds its features
// (symbols are embedded, frames projected) and the recurrence takes features->size() inputs.
// Everything a model is conditioned on (the artist of a song) is a column of its input rows, laid
// out by the task's data (SongSource::input_row), not an argument of the model's calls.
#pragma once
#include <cstdint>

#include <torch/torch.h>

namespace chorus {

class FeaturesImpl : public torch::nn::Module {
 public:
  // inputs: [T, B] (one value per row) or [T, B, W] int64 input rows, as Window holds them.
  // Returns [T, B, size()].
  virtual torch::Tensor forward(const torch::Tensor& inputs) = 0;
  virtual int64_t size() const = 0;
};

// Symbols: an embedding of `symbols` ids; with artists > 0, an artist vector of
// `artist_embedding_size` joined to every position (lyrics conditioned on the artist): the input
// rows are then (symbol, artist), the artist the same at every position of a window (a window never
// spans two songs), and read at its first position.
std::shared_ptr<FeaturesImpl> make_symbol_features(int64_t symbols, int64_t embedding_size,
                                                   int64_t artists, int64_t artist_embedding_size);

// Frames of `keys` 0/1 values: a linear projection to `embedding_size`, initialised like an
// embedding of keys (N(0, 1)), since the projection of a frame is the sum of its keys' columns.
std::shared_ptr<FeaturesImpl> make_frame_features(int64_t keys, int64_t embedding_size);

}  // namespace chorus
