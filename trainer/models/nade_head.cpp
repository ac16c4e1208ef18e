// The NADE head (model.head: nade): a joint distribution over the outputs of a position instead
// of independent sigmoids — the RNN-NADE of Boulanger-Lewandowski et al. (2012). Outputs in order
// (keys from low to high); for frame v with top state h:
//   p(v_i = 1 | v_<i, h) = sigmoid(b_v(h)_i + V_i . sigmoid(b_h(h) + W[:, <i] v_<i))
// with b_v, b_h linear maps of h and W [N, K], V [K, N] shared over time (N = model.nade_hidden).
// The teacher-forced likelihood is exact and vectorised over the outputs. The hidden
// pre-activation of key i is b_h plus the cumulative sum of W's columns of the sounding keys
// below i, so it changes only at a sounding key: a frame with P - 1 sounding keys has only P
// distinct hidden layers. They are computed once each ([T, B, P, N], a cumulative sum over the
// sounding keys gathered in key order), every key's logit reads the one below it — the same
// numbers as the dense [T, B, K, N] cumulative sum, with about K / P times less memory traffic.
// Sampling draws the outputs one after another. Module and parameter names: out (b_v), nade_bias
// (b_h), nade_w, nade_v.
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
    const int64_t K = outputs_;
    const auto lead = values.sizes().slice(0, values.dim() - 1);  // [...]
    const torch::Tensor v = values.reshape({-1, K});                // [R, K] 0/1
    const torch::Tensor h = top.reshape({-1, top.size(-1)});        // [R, H]
    const int64_t R = v.size(0);
    // The sounding keys of each row in key order, padded with -1 (score 0: off).
    const torch::Tensor key = torch::arange(K, torch::kFloat32).to(v.device());
    const int64_t most = R > 0 ? v.sum(-1).max().item<int64_t>() : 0;
    torch::Tensor distinct;  // [R, P, N]: the hidden pre-activations, P = most + 1
    const torch::Tensor bias = bias_(h).unsqueeze(1);              // [R, 1, N]
    if (most == 0) {
      distinct = bias;
    } else {
      const auto [score, order] =
          torch::topk(v.to(torch::kFloat32) * (K - key), most, /*dim=*/-1);  // ascending keys
      const torch::Tensor on = (score > 0).to(top.scalar_type()).unsqueeze(-1);  // [R, most, 1]
      const torch::Tensor columns = w_.t().index_select(0, order.reshape({-1}))
                                        .view({R, most, nade_hidden_}) * on;     // [R, most, N]
      distinct = torch::cat({bias, bias + columns.cumsum(1)}, /*dim=*/1);
    }
    // Key i reads the hidden layer after the sounding keys below it: their count.
    const torch::Tensor below = v.cumsum(-1) - v;                                // [R, K]
    const int64_t P = distinct.size(1);
    const torch::Tensor read = torch::sigmoid(distinct).reshape({R * P, nade_hidden_})
                                   .mm(v_.t()).view({R, P, K});                  // [R, P, K]
    const torch::Tensor logit = read.gather(1, below.unsqueeze(1)).squeeze(1);   // [R, K]
    std::vector<int64_t> shape(lead.begin(), lead.end());
    shape.push_back(K);
    return (out_(h) + logit).view(shape);
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

  // Per position: P distinct hidden layers of N units and their sigmoids, each read by all K keys
  // ([P, K]), and the K logits, visible biases, cumulative counts and losses; P is one more than
  // the most keys sounding in a frame of the window, taken as kTypicalDistinct (the benchmark sets
  // rarely sound more than 11 keys at once).
  PartMemory memory() const override {
    const double P = kTypicalDistinct, N = static_cast<double>(nade_hidden_),
                 K = static_cast<double>(outputs_);
    return {2.0 * P * N + P * K + 4.0 * K, P * N + P * K + 3.0 * K};
  }

 private:
  static constexpr double kTypicalDistinct = 12;
  int64_t outputs_, nade_hidden_;
  torch::nn::Linear out_{nullptr}, bias_{nullptr};
  torch::Tensor w_, v_;
};

}  // namespace

std::shared_ptr<HeadImpl> make_nade_head(int64_t hidden, int64_t outputs, const ModelConfig& config) {
  return std::make_shared<NadeHeadImpl>(hidden, outputs, nade_hidden_units(config));
}

}  // namespace chorus
