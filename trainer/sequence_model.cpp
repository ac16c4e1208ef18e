// The shared LSTM stack. Layers are separate single-layer LSTMs so that dropout masks between them
// can be drawn by us (DESIGN.md "Dropout masks"); state is reset only at window boundaries.
#include "trainer/sequence_model.h"

#include <string>

#include "trainer/char_lstm.h"
#include "trainer/pianoroll_lstm.h"

namespace chorus {

LstmState LstmState::zeros(int64_t layers, int64_t batch, int64_t hidden,
                           torch::Device device) {
  LstmState s;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  for (int64_t l = 0; l < layers; ++l) {
    s.h.push_back(torch::zeros({batch, hidden}, options));
    s.c.push_back(torch::zeros({batch, hidden}, options));
  }
  return s;
}


LstmState LstmState::masked(const std::vector<uint8_t>& reset) const {
  bool any = false;
  for (uint8_t r : reset) any = any || r;
  if (!any) return *this;
  std::vector<float> keep(reset.size());
  for (size_t b = 0; b < reset.size(); ++b) keep[b] = reset[b] ? 0.0f : 1.0f;
  torch::Tensor k = torch::tensor(keep).unsqueeze(1).to(h[0].device());
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

WindowTensors window_tensors(Window& w, const torch::Device& device) {
  const int64_t T = w.seq_len, B = w.streams, K = w.frame_keys;
  WindowTensors t;
  if (K > 0) {
    t.inputs = torch::from_blob(w.frames_in.data(), {T, B, K}, torch::kFloat32);
    t.targets = torch::from_blob(w.frames_out.data(), {T, B, K}, torch::kFloat32);
  } else {
    t.inputs = torch::from_blob(w.inputs.data(), {T, B}, torch::kLong);
    t.targets = torch::from_blob(w.targets.data(), {T, B}, torch::kLong);
  }
  t.mask = torch::from_blob(w.mask.data(), {T, B}, torch::kFloat32);
  t.artist = torch::from_blob(w.artist.data(), {B}, torch::kLong);
  if (!device.is_cpu()) {
    for (torch::Tensor* x : {&t.inputs, &t.targets, &t.mask, &t.artist}) *x = x->to(device);
  }
  return t;
}

void SequenceModelImpl::register_lstms(int64_t input_size) {
  for (int64_t l = 0; l < config_.layers; ++l) {
    lstms_.push_back(register_module(
        "lstm" + std::to_string(l),
        torch::nn::LSTM(torch::nn::LSTMOptions(l == 0 ? input_size : config_.hidden_size,
                                               config_.hidden_size))));
  }
}

torch::Tensor SequenceModelImpl::run_lstms(torch::Tensor x, const LstmState& state,
                                           const std::vector<torch::Tensor>& dropout_masks,
                                           LstmState* next) {
  for (size_t l = 0; l < lstms_.size(); ++l) {
    auto [y, hc] = lstms_[l]->forward(
        x, std::make_tuple(state.h[l].unsqueeze(0), state.c[l].unsqueeze(0)));
    next->h.push_back(std::get<0>(hc).squeeze(0));
    next->c.push_back(std::get<1>(hc).squeeze(0));
    x = dropout_masks.empty() ? y : y * dropout_masks[l].to(y.device());
  }
  return x;
}

std::pair<torch::Tensor, LstmState> SequenceModelImpl::forward(
    const torch::Tensor& inputs, const torch::Tensor& artist, const LstmState& state,
    const std::vector<torch::Tensor>& dropout_masks) {
  LstmState next;
  torch::Tensor top = run_lstms(features(inputs, artist), state, dropout_masks, &next);
  return {head(top), std::move(next)};
}

SequenceModel make_model(const ModelConfig& config, int64_t vocab_size, int64_t num_artists) {
  if (config.kind == "pianoroll") return std::make_shared<PianoRollLstmImpl>(config);
  return std::make_shared<CharLstmImpl>(config, vocab_size, num_artists);
}

}  // namespace chorus
