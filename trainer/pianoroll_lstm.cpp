// Piano-roll LSTM. The loss is the literature's negative log-likelihood per frame: the binary
// cross-entropy summed over the 88 keys, so dividing by the frame count gives nats per frame.
#include "trainer/pianoroll_lstm.h"

#include "data/pianoroll.h"

namespace chorus {

PianoRollLstmImpl::PianoRollLstmImpl(const ModelConfig& config) : SequenceModelImpl(config) {
  in_ = register_module("input", torch::nn::Linear(kKeys, config.embedding_size));
  // The projection is a sum of one embedding per sounding key: initialise it like an embedding
  // (N(0, 1), as the character model's), not like a linear layer (U(+-1/sqrt(88))). With the
  // linear init the stacked LSTMs saw inputs of ~0.2 and a two-layer model sat on the per-key
  // frequency plateau (~10 nats per frame on Nottingham) where one layer did not.
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(in_->weight, 0.0, 1.0);
    in_->bias.zero_();
  }
  register_lstms(config.embedding_size);
  out_ = register_module("out", torch::nn::Linear(config.hidden_size, kKeys));
}

int64_t PianoRollLstmImpl::output_size() const { return kKeys; }

torch::Tensor PianoRollLstmImpl::loss_sum(const torch::Tensor& logits, const torch::Tensor& targets,
                                          const torch::Tensor& mask) const {
  torch::Tensor per_key = torch::nn::functional::binary_cross_entropy_with_logits(
      logits, targets,
      torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
  return (per_key.sum(/*dim=*/-1) * mask).sum();
}

}  // namespace chorus
