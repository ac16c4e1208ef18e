// A model is features -> recurrence -> head (docs/design.md "Seams"): each part from a registry
// (trainer/models/registry.h), each position depending on the one before only through the
// recurrent state, so a window can be cut into segments and each recomputed on its own
// (trainer/models/recompute.h).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "data/streams.h"
#include "trainer/config/config.h"
#include "trainer/models/dropout.h"
#include "trainer/models/features.h"
#include "trainer/models/head.h"
#include "trainer/models/recurrence.h"

namespace chorus {

// A window's buffers as tensors (on the CPU views, no copy: `window` must outlive them and the
// backward pass; on another device, copies there). inputs: [T, B] (input width 1) or
// [T, B, input_width] int64; targets likewise with target_width; mask [T, B]; artist [B] (for
// per-artist reports only).
struct WindowTensors {
  torch::Tensor inputs, targets, mask, artist;
};
WindowTensors window_tensors(Window& window, const torch::Device& device = torch::kCPU);

class SequenceModelImpl : public torch::nn::Module {
 public:
  SequenceModelImpl(ModelConfig config, std::shared_ptr<FeaturesImpl> features,
                    std::shared_ptr<RecurrenceImpl> recurrence, std::shared_ptr<HeadImpl> head);

  // The top layer's output [T, B, H] for `inputs` (as WindowTensors) from `state`; *next gets the
  // state after the last position. masks: on the features and after each layer, or none ({}).
  torch::Tensor top(const torch::Tensor& inputs, const RecurrentState& state,
                    const DropoutMasks& masks, RecurrentState* next);
  // Sum over counted positions of the loss in nats (the head's).
  torch::Tensor loss_sum(const torch::Tensor& top, const torch::Tensor& targets,
                         const torch::Tensor& mask) {
    return head_->loss_sum(top, targets, mask);
  }
  RecurrentState zero_state(int64_t batch, torch::Device device) const {
    return recurrence_->zeros(batch, device);
  }

  // Per stream: what the parts keep for the backward pass and hold while evaluating (each part
  // reports its own), with dropout masks between layers when `dropout`.
  ActivationProfile activation_profile(bool dropout) const;

  FeaturesImpl& features() { return *features_; }
  RecurrenceImpl& recurrence() { return *recurrence_; }
  const RecurrenceImpl& recurrence() const { return *recurrence_; }
  HeadImpl& head() { return *head_; }
  const ModelConfig& config() const { return config_; }

  // model.pt keeps the parts' modules at its top level (embed, lstm0, out, ...), the layout of
  // every checkpoint written before the parts existed, so those still load.
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

 private:
  ModelConfig config_;
  std::shared_ptr<FeaturesImpl> features_;
  std::shared_ptr<RecurrenceImpl> recurrence_;
  std::shared_ptr<HeadImpl> head_;
};

using SequenceModel = std::shared_ptr<SequenceModelImpl>;

// The device of a module's parameters (the CPU for a module without any).
torch::Device module_device(const torch::nn::Module& module);

}  // namespace chorus
