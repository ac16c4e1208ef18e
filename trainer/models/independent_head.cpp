// The independent head: one sigmoid per output (the study's piano-roll model); the loss of a
// position is the binary cross-entropy summed over its outputs, so nats per frame sum the 88 keys.
// Module name `out`, as in every checkpoint written so far.
#include "data/streams.h"
#include "trainer/models/head.h"

namespace chorus {
namespace {

class IndependentHeadImpl : public HeadImpl {
 public:
  IndependentHeadImpl(int64_t hidden, int64_t outputs) {
    out_ = register_module("out", torch::nn::Linear(hidden, outputs));
  }

  torch::Tensor nll(const torch::Tensor& top, const torch::Tensor& targets) override {
    return torch::nn::functional::binary_cross_entropy_with_logits(
               out_(top), targets.to(torch::kFloat32),
               torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().reduction(
                   torch::kNone))
        .sum(/*dim=*/-1);
  }

  // Each output of each stream is a Bernoulli draw of sigmoid(logit / T), in order.
  torch::Tensor sample(const torch::Tensor& top, const HeadSampling& s,
                       std::mt19937_64& engine) override {
    const torch::Tensor p = torch::sigmoid(out_(top) / s.temperature).to(torch::kCPU).contiguous();
    const int64_t B = p.size(0), K = p.size(1);
    torch::Tensor values = torch::zeros({B, K}, torch::kLong);
    const float* prob = p.data_ptr<float>();
    int64_t* out = values.data_ptr<int64_t>();
    for (int64_t i = 0; i < B * K; ++i) out[i] = uniform_01(engine) < prob[i] ? 1 : 0;
    return values;
  }

  // The logits and the per-key loss; three rows of K alive while evaluating.
  PartMemory memory() const override {
    const auto K = static_cast<double>(out_->weight.size(0));
    return {2.0 * K, 3.0 * K};
  }

 private:
  torch::nn::Linear out_{nullptr};
};

}  // namespace

std::shared_ptr<HeadImpl> make_independent_head(int64_t hidden, int64_t outputs, const ModelConfig&) {
  return std::make_shared<IndependentHeadImpl>(hidden, outputs);
}

}  // namespace chorus
