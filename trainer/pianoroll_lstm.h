// The polyphonic piano-roll LSTM: an 88-key frame -> input projection -> the LSTM stack -> 88
// logits, one sigmoid per key; the loss of a frame is the binary cross-entropy summed over keys.
#pragma once
#include "trainer/sequence_model.h"

namespace chorus {

class PianoRollLstmImpl : public SequenceModelImpl {
 public:
  explicit PianoRollLstmImpl(const ModelConfig& config);
  std::pair<torch::Tensor, LstmState> forward(const torch::Tensor& inputs,
                                              const torch::Tensor& artist, const LstmState& state,
                                              const std::vector<torch::Tensor>& dropout_masks) override;
  torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                         const torch::Tensor& mask) const override;

 private:
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};
TORCH_MODULE(PianoRollLstm);

}  // namespace chorus
