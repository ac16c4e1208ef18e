// The NADE head (model.head: nade): a joint distribution over the outputs of a position instead
// of independent sigmoids — the RNN-NADE of Boulanger-Lewandowski et al. (2012). Outputs in order
// (keys from low to high); for frame v with top state h:
//   p(v_i = 1 | v_<i, h) = sigmoid(b_v(h)_i + V_i . sigmoid(b_h(h) + W[:, <i] v_<i))
// with b_v, b_h linear maps of h and W [N, K], V [K, N] shared over time (N = model.nade_hidden).
// The teacher-forced likelihood is exact and vectorised over the outputs: an exclusive cumulative
// sum over the key axis gives all K hidden pre-activations at once ([T, B, K, N]). Sampling draws
// the outputs one after another. Module and parameter names: out (b_v), nade_bias (b_h), nade_w,
// nade_v.
#include <cmath>

#include "data/streams.h"
#include "trainer/models/head.h"

namespace chorus {
namespace {

class NadeHeadImpl : public HeadImpl {
 public:
  NadeHeadImpl(int64_t hidden, int64_t outputs, int64_t nade_hidden)
      : outputs_(outputs), nade_hidden_(nade_hidden) {
    out_ = register_module("out", torch::nn::Linear(hidden, outputs));
    bias_ = register_module("nade_bias", torch::nn::Linear(hidden, nade_hidden));
    // W maps a sounding key into the hidden layer of the later keys, V reads a key's hidden layer:
    // uniform in +-1/sqrt(fan-in) like a linear layer (fan-in K for W, N for V).
    w_ = register_parameter("nade_w", torch::empty({nade_hidden, outputs}));
    v_ = register_parameter("nade_v", torch::empty({outputs, nade_hidden}));
    torch::NoGradGuard no_grad;
    const double bw = 1.0 / std::sqrt(static_cast<double>(outputs));
    const double bv = 1.0 / std::sqrt(static_cast<double>(nade_hidden));
    w_.uniform_(-bw, bw);
    v_.uniform_(-bv, bv);
  }

  // The logit of every output given the outputs before it (teacher forcing): [..., K].
  torch::Tensor logits(const torch::Tensor& top, const torch::Tensor& values) {
    const torch::Tensor v = values.to(top.scalar_type());                   // [..., K]
    const torch::Tensor contributions = v.unsqueeze(-1) * w_.t();           // [..., K, N]
    // a_i = b_h + sum_{j < i} W[:, j] v_j: the inclusive cumulative sum less the key's own term.
    const torch::Tensor a = bias_(top).unsqueeze(-2) + contributions.cumsum(-2) - contributions;
    return out_(top) + (torch::sigmoid(a) * v_).sum(-1);
  }

  torch::Tensor nll(const torch::Tensor& top, const torch::Tensor& targets) override {
    return torch::nn::functional::binary_cross_entropy_with_logits(
               logits(top, targets), targets.to(top.scalar_type()),
               torch::nn::functional::BinaryCrossEntropyWithLogitsFuncOptions().reduction(
                   torch::kNone))
        .sum(/*dim=*/-1);
  }

  // Each stream's outputs drawn in order, each a Bernoulli of sigmoid(logit / T) given the ones
  // drawn before it.
  torch::Tensor sample(const torch::Tensor& top, const HeadSampling& s,
                       std::mt19937_64& engine) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor visible = out_(top).to(torch::kCPU).to(torch::kDouble).contiguous();
    const torch::Tensor hidden = bias_(top).to(torch::kCPU).to(torch::kDouble).contiguous();
    const torch::Tensor w = w_.to(torch::kCPU).to(torch::kDouble).contiguous();  // [N, K]
    const torch::Tensor v = v_.to(torch::kCPU).to(torch::kDouble).contiguous();  // [K, N]
    const int64_t B = top.size(0), K = outputs_, N = nade_hidden_;
    const double* pw = w.data_ptr<double>();
    const double* pv = v.data_ptr<double>();
    torch::Tensor drawn = torch::zeros({B, K}, torch::kLong);
    int64_t* out = drawn.data_ptr<int64_t>();
    std::vector<double> a(static_cast<size_t>(N));
    for (int64_t b = 0; b < B; ++b) {
      const double* bh = hidden.data_ptr<double>() + b * N;
      const double* bv = visible.data_ptr<double>() + b * K;
      a.assign(bh, bh + N);
      for (int64_t i = 0; i < K; ++i) {
        double logit = bv[i];
        for (int64_t n = 0; n < N; ++n) logit += pv[i * N + n] / (1.0 + std::exp(-a[n]));
        const double p = 1.0 / (1.0 + std::exp(-logit / s.temperature));
        if (uniform_01(engine) < p) {
          out[b * K + i] = 1;
          for (int64_t n = 0; n < N; ++n) a[n] += pw[n * K + i];
        }
      }
    }
    return drawn;
  }

 private:
  int64_t outputs_, nade_hidden_;
  torch::nn::Linear out_{nullptr}, bias_{nullptr};
  torch::Tensor w_, v_;
};

}  // namespace

std::shared_ptr<HeadImpl> make_nade_head(int64_t hidden, int64_t outputs, const ModelConfig& config) {
  return std::make_shared<NadeHeadImpl>(hidden, outputs, nade_hidden_units(config));
}

}  // namespace chorus
