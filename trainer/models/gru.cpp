// The GRU recurrence: single-layer torch::nn::GRUs stacked like the LSTM's, with the same dropout
// masks between layers. State: h_l per layer, named h0, h1, ... in checkpoints.
#include "trainer/models/recurrence.h"

#include <string>

#include "trainer/config/config.h"

namespace chorus {
namespace {

constexpr double kGruFloatsPerUnit = 11.3;

class GruStackImpl : public RecurrenceImpl {
 public:
  GruStackImpl(int64_t input_size, const ModelConfig& config) : hidden_(config.hidden_size) {
    for (int64_t l = 0; l < config.layers; ++l) {
      layers_.push_back(register_module(
          "gru" + std::to_string(l),
          torch::nn::GRU(torch::nn::GRUOptions(l == 0 ? input_size : hidden_, hidden_))));
    }
  }

  torch::Tensor forward(const torch::Tensor& input, const RecurrentState& state,
                        const std::vector<torch::Tensor>& dropout_masks,
                        RecurrentState* next) override {
    torch::Tensor x = input;
    for (size_t l = 0; l < layers_.size(); ++l) {
      auto [y, h] = layers_[l]->forward(x, state.tensors[l].unsqueeze(0));
      next->tensors.push_back(h.squeeze(0));
      x = dropout_masks.empty() ? y : y * dropout_masks[l].to(y.device());
    }
    return x;
  }

  RecurrentState zeros(int64_t batch, torch::Device device) const override {
    RecurrentState s;
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    for (size_t l = 0; l < layers_.size(); ++l) s.tensors.push_back(torch::zeros({batch, hidden_}, options));
    return s;
  }

  std::vector<std::string> state_names() const override {
    std::vector<std::string> names;
    for (size_t l = 0; l < layers_.size(); ++l) names.push_back("h" + std::to_string(l));
    return names;
  }

  // Per step, stream, layer and unit: LibTorch's GRU cell keeps the input and recurrent gate
  // projections (3 + 3), the reset and update gates, the candidate and the output, rounded up with
  // what its backward pass allocates (kGruFloatsPerUnit, measured like the LSTM's: see
  // docs/results.md "Activation memory per recurrence"); with dropout, the mask and the masked
  // output. Without a graph: one layer's output and its two gate buffers.
  PartMemory memory(bool dropout) const override {
    const double LH = static_cast<double>(layers_.size()) * static_cast<double>(hidden_);
    return {kGruFloatsPerUnit * LH + (dropout ? 2.0 * LH : 0.0), 7.0 * static_cast<double>(hidden_)};
  }
  double state_floats() const override {
    return static_cast<double>(layers_.size()) * static_cast<double>(hidden_);
  }

 private:
  int64_t hidden_;
  std::vector<torch::nn::GRU> layers_;
};

}  // namespace

std::shared_ptr<RecurrenceImpl> make_gru_stack(int64_t input_size, const ModelConfig& config) {
  return std::make_shared<GruStackImpl>(input_size, config);
}

}  // namespace chorus
