// The polyphonic piano-roll LSTM: an 88-key frame -> input projection -> the LSTM stack -> 88
// logits, one sigmoid per key; the loss of a frame is the binary cross-entropy summed over keys.
#pragma once
#include "trainer/sequence_model.h"

namespace chorus {

class PianoRollLstmImpl : public SequenceModelImpl {
 public:
  explicit PianoRollLstmImpl(const ModelConfig& config);
  torch::Tensor features(const torch::Tensor& inputs, const torch::Tensor& /*artist*/) override {
    return in_(inputs);
  }
  torch::Tensor head(const torch::Tensor& top) override { return out_(top); }
  int64_t output_size() const override;
  torch::Tensor loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                         const torch::Tensor& mask) const override;

 private:
  torch::nn::Linear in_{nullptr}, out_{nullptr};
};
TORCH_MODULE(PianoRollLstm);

}  // namespace chorus
