// The softmax head: a linear layer over the vocabulary; the loss is the cross-entropy of the next
// symbol. Module name `out`, as in every checkpoint written so far. Targets may carry a second
// column, the lowest id allowed among ids >= 1 at that position (a vocabulary whose symbols come
// in rising order, such as a frame's keys from low to high, with id 0 always allowed): ids 1 ..
// floor - 1 then get no probability, so the distribution is normalised over what can occur.
// Sampling excludes them through HeadSampling::excluded.
#include <algorithm>
#include <cmath>

#include "data/streams.h"
#include "trainer/models/head.h"

namespace chorus {
namespace {

class SoftmaxHeadImpl : public HeadImpl {
 public:
  SoftmaxHeadImpl(int64_t hidden, int64_t symbols) {
    out_ = register_module("out", torch::nn::Linear(hidden, symbols));
  }

  torch::Tensor nll(const torch::Tensor& top, const torch::Tensor& targets) override {
    torch::Tensor logits = out_(top);
    torch::Tensor ids = targets;
    if (targets.dim() == top.dim()) {  // (id, lowest allowed id) per position
      ids = targets.select(-1, 0);
      const torch::Tensor floor = targets.select(-1, 1).unsqueeze(-1);
      const torch::Tensor id = torch::arange(logits.size(-1), targets.options());
      logits = logits.masked_fill((id >= 1) & (id < floor), -INFINITY);
    }
    return torch::nn::functional::cross_entropy(
               logits.reshape({-1, logits.size(-1)}), ids.reshape({-1}),
               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
        .view(ids.sizes());
  }

  torch::Tensor sample(const torch::Tensor& top, const HeadSampling& s,
                       std::mt19937_64& engine) override {
    const torch::Tensor logits = out_(top).to(torch::kCPU).contiguous();
    const int64_t B = logits.size(0), V = logits.size(1);
    torch::Tensor ids = torch::empty({B}, torch::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const float* row = logits.data_ptr<float>() + b * V;
      std::vector<float> v(row, row + V);
      for (int64_t id : s.excluded) v[id] = -INFINITY;
      ids[b] = pick_symbol(v, s.temperature, s.method, engine);
    }
    return ids;
  }

  // The logits and their log-softmax (with an ordered vocabulary also the masked logits); three
  // rows of V alive while evaluating.
  PartMemory memory() const override {
    const auto V = static_cast<double>(out_->weight.size(0));
    return {2.0 * V, 3.0 * V};
  }

 private:
  torch::nn::Linear out_{nullptr};
};

}  // namespace

std::shared_ptr<HeadImpl> make_softmax_head(int64_t hidden, int64_t outputs, const ModelConfig&) {
  return std::make_shared<SoftmaxHeadImpl>(hidden, outputs);
}

int64_t pick_symbol(const std::vector<float>& logits, double temperature, SampleMethod method,
                    std::mt19937_64& engine) {
  const auto n = static_cast<int64_t>(logits.size());
  if (method == SampleMethod::kArgmax)
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  std::vector<double> z(n);
  for (int64_t i = 0; i < n; ++i) z[i] = logits[i] / temperature;
  if (method == SampleMethod::kGumbel) {
    int64_t best = 0;
    double best_value = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      // u in (0, 1): never log(0).
      const double u = (static_cast<double>(engine() >> 11) + 0.5) * 0x1.0p-53;
      const double v = z[i] - std::log(-std::log(u));
      if (v > best_value) best_value = v, best = i;
    }
    return best;
  }
  const double top = *std::max_element(z.begin(), z.end());
  double total = 0;
  for (double& v : z) total += (v = std::exp(v - top));
  double u = uniform_01(engine) * total;
  for (int64_t i = 0; i < n; ++i) {
    if ((u -= z[i]) < 0) return i;
  }
  return n - 1;
}

}  // namespace chorus
