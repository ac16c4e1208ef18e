// The composed model. Its parts are registered as submodules "features", "recurrence" and "head"
// (parameters() keeps the order features, recurrence, head: the order of Adam's saved state), but
// model.pt is written flat: every part's own modules and parameters at the top level, as the
// single-class models of earlier versions wrote them. Names must therefore be unique across parts.
#include "trainer/models/model.h"

#include <set>
#include <stdexcept>

namespace chorus {

WindowTensors window_tensors(Window& w, const torch::Device& device) {
  const int64_t T = w.seq_len, B = w.streams;
  auto shape = [&](int64_t W) {
    return W > 1 ? std::vector<int64_t>{T, B, W} : std::vector<int64_t>{T, B};
  };
  WindowTensors t;
  t.inputs = torch::from_blob(w.inputs.data(), shape(w.input_width), torch::kLong);
  t.targets = torch::from_blob(w.targets.data(), shape(w.target_width), torch::kLong);
  t.mask = torch::from_blob(w.mask.data(), {T, B}, torch::kFloat32);
  t.artist = torch::from_blob(w.artist.data(), {B}, torch::kLong);
  if (!device.is_cpu()) {
    for (torch::Tensor* x : {&t.inputs, &t.targets, &t.mask, &t.artist}) *x = x->to(device);
  }
  return t;
}

SequenceModelImpl::SequenceModelImpl(ModelConfig config, std::shared_ptr<FeaturesImpl> features,
                                     std::shared_ptr<RecurrenceImpl> recurrence,
                                     std::shared_ptr<HeadImpl> head)
    : config_(std::move(config)),
      features_(register_module("features", std::move(features))),
      recurrence_(register_module("recurrence", std::move(recurrence))),
      head_(register_module("head", std::move(head))) {
  std::set<std::string> names;
  for (const auto& part : children()) {
    for (const auto& p : part->named_parameters(/*recurse=*/false))
      if (!names.insert(p.key()).second) throw std::logic_error("model part name clash: " + p.key());
    for (const auto& c : part->named_children())
      if (!names.insert(c.key()).second) throw std::logic_error("model part name clash: " + c.key());
  }
}

torch::Tensor SequenceModelImpl::top(const torch::Tensor& inputs, const RecurrentState& state,
                                     const DropoutMasks& masks, RecurrentState* next) {
  torch::Tensor x = features_->forward(inputs);
  if (masks.input.defined()) x = x * masks.input.to(x.device());
  return recurrence_->forward(x, state, masks.layers, next);
}

ActivationProfile SequenceModelImpl::activation_profile(bool dropout) const {
  // The features' output is kept (and alive) at every step; the recurrence and the head say theirs.
  const PartMemory r = recurrence_->memory(dropout), h = head_->memory();
  const auto f = static_cast<double>(features_->size());
  return {f + r.kept + h.kept, recurrence_->state_floats(), f + r.eval + h.eval};
}

void SequenceModelImpl::save(torch::serialize::OutputArchive& archive) const {
  for (const auto& part : children()) {
    for (const auto& p : part->named_parameters(/*recurse=*/false)) archive.write(p.key(), p.value());
    for (const auto& b : part->named_buffers(/*recurse=*/false))
      archive.write(b.key(), b.value(), /*is_buffer=*/true);
    for (const auto& child : part->named_children()) {
      torch::serialize::OutputArchive sub(archive.compilation_unit());
      child.value()->save(sub);
      archive.write(child.key(), sub);
    }
  }
}

void SequenceModelImpl::load(torch::serialize::InputArchive& archive) {
  for (const auto& part : children()) {
    for (auto& p : part->named_parameters(/*recurse=*/false)) archive.read(p.key(), p.value());
    for (auto& b : part->named_buffers(/*recurse=*/false))
      archive.read(b.key(), b.value(), /*is_buffer=*/true);
    for (const auto& child : part->named_children()) {
      torch::serialize::InputArchive sub;
      archive.read(child.key(), sub);
      child.value()->load(sub);
    }
  }
}

torch::Device module_device(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  return torch::kCPU;
}

}  // namespace chorus
