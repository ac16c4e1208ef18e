// The models Chorus trains, behind one interface: a stack of single-layer LSTMs with counter-based
// dropout between them (DESIGN.md), fed symbols (CharLstm) or 88-key frames (PianoRollLstm).
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "data/streams.h"
#include "trainer/config.h"

namespace chorus {

// (h, c) per layer, each [B, H]: the TBPTT state carried from window to window.
struct LstmState {
  std::vector<torch::Tensor> h, c;
  bool defined() const { return !h.empty(); }
  // Zeroes the rows of streams whose window starts a song (reset[b] = 1).
  LstmState masked(const std::vector<uint8_t>& reset) const;
  LstmState detached() const;
  static LstmState zeros(int64_t layers, int64_t batch, int64_t hidden,
                         torch::Device device = torch::kCPU);
};

// A window's buffers as tensors (on the CPU views, no copy: `window` must outlive them and the
// backward pass; on another device, copies there). inputs/targets: [T, B] int64 symbol ids, or
// [T, B, K] float frames; mask [T, B]; artist [B].
struct WindowTensors {
  torch::Tensor inputs, targets, mask, artist;
};
WindowTensors window_tensors(Window& window, const torch::Device& device = torch::kCPU);

// A model is features -> the LSTM stack -> head, each step depending only on the step before
// through (h, c): so a window can be cut into segments of steps and each recomputed on its own
// (trainer/recompute.h).
class SequenceModelImpl : public torch::nn::Module {
 public:
  // inputs as in WindowTensors; artist [B] (ignored unless conditioned); dropout_masks: one
  // [T, B, H] mask per layer, or empty for none. Returns logits [T, B, out] and the final state.
  // Inputs and state are on the model's device (module_device in trainer/accelerator.h).
  std::pair<torch::Tensor, LstmState> forward(const torch::Tensor& inputs,
                                              const torch::Tensor& artist, const LstmState& state,
                                              const std::vector<torch::Tensor>& dropout_masks);
  // The LSTM input [T, B, in] of inputs [T, B] (ids) or [T, B, K] (frames).
  virtual torch::Tensor features(const torch::Tensor& inputs, const torch::Tensor& artist) = 0;
  // Logits [T, B, out] of the top layer's output [T, B, H].
  virtual torch::Tensor head(const torch::Tensor& top) = 0;
  // Sum over counted targets of the loss in nats (callers divide by the global count).
  virtual torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                 const torch::Tensor& mask) const = 0;
  // Runs the stack on x [T, B, in]; layer l's output is multiplied by dropout_masks[l].
  torch::Tensor run_lstms(torch::Tensor x, const LstmState& state,
                          const std::vector<torch::Tensor>& dropout_masks, LstmState* next);
  const ModelConfig& config() const { return config_; }
  // Width of the output: the vocabulary or the 88 keys.
  virtual int64_t output_size() const = 0;

 protected:
  explicit SequenceModelImpl(ModelConfig config) : config_(std::move(config)) {}
  // Registers lstm0 .. lstm{L-1}; the first takes `input_size` features.
  void register_lstms(int64_t input_size);
  ModelConfig config_;

 private:
  std::vector<torch::nn::LSTM> lstms_;
};

using SequenceModel = std::shared_ptr<SequenceModelImpl>;

// model.kind "chars" (vocab_size symbols, num_artists artists) or "pianoroll" (88 keys).
SequenceModel make_model(const ModelConfig& config, int64_t vocab_size, int64_t num_artists);

}  // namespace chorus
