// The LSTM recurrence: single-layer torch::nn::LSTMs stacked by hand, so that the dropout masks
// between layers are ours (docs/design.md "Dropout masks"). State: (h_l, c_l) per layer, in that order;
// checkpoints name them h0, c0, h1, c1, ... Parameter names (lstm0, lstm1, ...) are those of
// every checkpoint written so far. Each layer runs either as torch::nn::LSTM or as Chorus's fused
// CPU layer over the same parameters (model.lstm_impl; auto decides per call: fused for fp32 on
// the CPU).
#include <string>

#include "trainer/comm/accelerator.h"
#include "trainer/config/config.h"
#include "trainer/models/fused_lstm.h"
#include "trainer/models/recurrence.h"

namespace chorus {
namespace {

class LstmStackImpl : public RecurrenceImpl {
 public:
  LstmStackImpl(int64_t input_size, const ModelConfig& config)
      : hidden_(config.hidden_size), impl_(config.lstm_impl) {
    for (int64_t l = 0; l < config.layers; ++l) {
      layers_.push_back(register_module(
          "lstm" + std::to_string(l),
          torch::nn::LSTM(torch::nn::LSTMOptions(l == 0 ? input_size : hidden_, hidden_))));
      workspaces_.push_back(std::make_shared<FusedLstmWorkspace>());
    }
  }

  torch::Tensor forward(const torch::Tensor& input, const RecurrentState& state,
                        const std::vector<torch::Tensor>& dropout_masks,
                        RecurrentState* next) override {
    torch::Tensor x = input;
    const bool fused = use_fused(input);
    for (size_t l = 0; l < layers_.size(); ++l) {
      const torch::Tensor &h0 = state.tensors[2 * l], &c0 = state.tensors[2 * l + 1];
      torch::Tensor y;
      if (fused) {
        const std::vector<torch::Tensor> w = layers_[l]->all_weights();  // w_ih, w_hh, b_ih, b_hh
        std::vector<torch::Tensor> out =
            fused_lstm_layer(x, h0, c0, w[0], w[1], w[2], w[3], workspaces_[l]);
        y = out[0];
        next->tensors.push_back(out[1]);
        next->tensors.push_back(out[2]);
      } else {
        auto [out, hc] = layers_[l]->forward(x, std::make_tuple(h0.unsqueeze(0), c0.unsqueeze(0)));
        y = out;
        next->tensors.push_back(std::get<0>(hc).squeeze(0));
        next->tensors.push_back(std::get<1>(hc).squeeze(0));
      }
      x = dropout_masks.empty() ? y : y * dropout_masks[l].to(y.device());
    }
    return x;
  }

  RecurrentState zeros(int64_t batch, torch::Device device) const override {
    RecurrentState s;
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    for (size_t l = 0; l < 2 * layers_.size(); ++l) s.tensors.push_back(torch::zeros({batch, hidden_}, options));
    return s;
  }

  std::vector<std::string> state_names() const override {
    std::vector<std::string> names;
    for (size_t l = 0; l < layers_.size(); ++l) {
      names.push_back("h" + std::to_string(l));
      names.push_back("c" + std::to_string(l));
    }
    return names;
  }

  // Per step, stream, layer and unit: the previous h (input of the recurrent matmul), the four
  // gate activations, the previous c, tanh(c) and the output h, rounded up with what the backward
  // pass allocates while it runs — 12, calibrated against the measured peak memory of
  // bench/long_sequences.sh; with dropout, the mask and the masked output. Without a graph: one
  // layer's output and its gate buffer.
  PartMemory memory(bool dropout) const override {
    const double LH = static_cast<double>(layers_.size()) * static_cast<double>(hidden_);
    return {12.0 * LH + (dropout ? 2.0 * LH : 0.0), 6.0 * static_cast<double>(hidden_)};
  }
  double state_floats() const override {
    return 2.0 * static_cast<double>(layers_.size()) * static_cast<double>(hidden_);
  }

 private:
  bool use_fused(const torch::Tensor& x) const {
    if (impl_ == LstmImpl::kTorch) return false;
    if (impl_ == LstmImpl::kFused) return true;
    return x.is_cpu() && x.scalar_type() == torch::kFloat32 && !autocast_active(torch::kCPU);
  }

  int64_t hidden_;
  LstmImpl impl_;
  std::vector<torch::nn::LSTM> layers_;
  std::vector<std::shared_ptr<FusedLstmWorkspace>> workspaces_;  // one per layer
};

}  // namespace

std::shared_ptr<RecurrenceImpl> make_lstm_stack(int64_t input_size, const ModelConfig& config) {
  return std::make_shared<LstmStackImpl>(input_size, config);
}

}  // namespace chorus
