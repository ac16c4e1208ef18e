// The LSTM recurrence: single-layer torch::nn::LSTMs stacked by hand, so that the dropout masks
// between layers are ours (DESIGN.md "Dropout masks"). State: (h_l, c_l) per layer, in that order;
// checkpoints name them h0, c0, h1, c1, ... Parameter names (lstm0, lstm1, ...) are those of
// every checkpoint written so far.
#include "trainer/models/recurrence.h"

#include <string>

#include "trainer/config/config.h"

namespace chorus {
namespace {

class LstmStackImpl : public RecurrenceImpl {
 public:
  LstmStackImpl(int64_t input_size, const ModelConfig& config) : hidden_(config.hidden_size) {
    for (int64_t l = 0; l < config.layers; ++l) {
      layers_.push_back(register_module(
          "lstm" + std::to_string(l),
          torch::nn::LSTM(torch::nn::LSTMOptions(l == 0 ? input_size : hidden_, hidden_))));
    }
  }

  torch::Tensor forward(const torch::Tensor& input, const RecurrentState& state,
                        const std::vector<torch::Tensor>& dropout_masks,
                        RecurrentState* next) override {
    torch::Tensor x = input;
    for (size_t l = 0; l < layers_.size(); ++l) {
      auto [y, hc] = layers_[l]->forward(
          x, std::make_tuple(state.tensors[2 * l].unsqueeze(0), state.tensors[2 * l + 1].unsqueeze(0)));
      next->tensors.push_back(std::get<0>(hc).squeeze(0));
      next->tensors.push_back(std::get<1>(hc).squeeze(0));
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

 private:
  int64_t hidden_;
  std::vector<torch::nn::LSTM> layers_;
};

}  // namespace

std::shared_ptr<RecurrenceImpl> make_lstm_stack(int64_t input_size, const ModelConfig& config) {
  return std::make_shared<LstmStackImpl>(input_size, config);
}

}  // namespace chorus
