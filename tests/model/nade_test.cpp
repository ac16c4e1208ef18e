// The NADE head (trainer/models/nade_head.cpp) on a test-only frame of 6 keys, in double
// precision: the probabilities of all 2^6 frames sum to 1 for random states; the vectorised
// likelihood equals a key-by-key loop; its gradients match finite differences; and sampled
// frames follow the model's probabilities (a chi-square test with a fixed seed).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "trainer/models/head.h"
#include "trainer/models/registry.h"

namespace chorus {
namespace {

constexpr int64_t kTestKeys = 6, kHidden = 5, kNadeHidden = 4;

std::shared_ptr<HeadImpl> nade(uint64_t seed) {
  torch::manual_seed(seed);
  ModelConfig mc;
  mc.hidden_size = kHidden;
  mc.head = HeadKind::kNade;
  mc.nade_hidden = kNadeHidden;
  auto head = make_head(HeadKind::kNade, kTestKeys, mc);
  head->to(torch::kDouble);
  // Larger weights than the initialisation, so that the keys depend on each other markedly.
  torch::NoGradGuard no_grad;
  for (auto& p : head->parameters()) p.mul_(3.0);
  return head;
}

// Frame f (0 .. 2^K - 1) as 0/1 values, key i = bit i.
torch::Tensor frame(int64_t f) {
  torch::Tensor v = torch::zeros({kTestKeys}, torch::kLong);
  for (int64_t i = 0; i < kTestKeys; ++i) v[i] = (f >> i) & 1;
  return v;
}

// log p(frame | top) for top [H], by the head's vectorised nll.
double log_p(HeadImpl& head, const torch::Tensor& top, int64_t f) {
  return -head.nll(top.view({1, 1, kHidden}), frame(f).view({1, 1, kTestKeys})).item<double>();
}

TEST(NadeHeadTest, TheProbabilitiesOfAllFramesSumToOne) {
  auto head = nade(1);
  for (int trial = 0; trial < 5; ++trial) {
    const torch::Tensor top = torch::randn({kHidden}, torch::kDouble) * 2;
    double total = 0;
    for (int64_t f = 0; f < (1 << kTestKeys); ++f) total += std::exp(log_p(*head, top, f));
    EXPECT_NEAR(total, 1.0, 1e-6) << "trial " << trial;
  }
}

TEST(NadeHeadTest, TheVectorisedLikelihoodEqualsTheKeyByKeyLoop) {
  auto head = nade(2);
  auto params = head->named_parameters();
  const torch::Tensor W = params["nade_w"], V = params["nade_v"];
  const torch::Tensor top = torch::randn({3, 2, kHidden}, torch::kDouble);
  const torch::Tensor targets = torch::randint(0, 2, {3, 2, kTestKeys}, torch::kLong);
  const torch::Tensor vectorised = head->nll(top, targets);
  const torch::Tensor bv = torch::addmm(params["out.bias"], top.view({-1, kHidden}), params["out.weight"].t());
  const torch::Tensor bh = torch::addmm(params["nade_bias.bias"], top.view({-1, kHidden}),
                                        params["nade_bias.weight"].t());
  for (int64_t r = 0; r < 6; ++r) {
    const torch::Tensor v = targets.view({-1, kTestKeys})[r].to(torch::kDouble);
    torch::Tensor a = bh[r].clone();
    double nll = 0;
    for (int64_t i = 0; i < kTestKeys; ++i) {
      const double logit = bv[r][i].item<double>() + (V[i] * torch::sigmoid(a)).sum().item<double>();
      const double p = 1.0 / (1.0 + std::exp(-logit));
      nll -= v[i].item<double>() > 0 ? std::log(p) : std::log(1 - p);
      a = a + W.select(1, i) * v[i];
    }
    EXPECT_NEAR(vectorised.view({-1})[r].item<double>(), nll, 1e-10) << "row " << r;
  }
}

TEST(NadeHeadTest, GradientsMatchFiniteDifferences) {
  auto head = nade(3);
  const torch::Tensor top0 = torch::randn({2, 3, kHidden}, torch::kDouble);
  const torch::Tensor targets = torch::randint(0, 2, {2, 3, kTestKeys}, torch::kLong);
  const torch::Tensor mask = torch::tensor({{1.0, 1.0, 0.0}, {1.0, 0.0, 1.0}}, torch::kDouble);
  torch::Tensor top = top0.clone().requires_grad_(true);
  head->zero_grad();
  head->loss_sum(top, targets, mask).backward();
  auto loss_at = [&](const torch::Tensor& t) {
    torch::NoGradGuard no_grad;
    return head->loss_sum(t, targets, mask).item<double>();
  };
  const double eps = 1e-6;
  // Every parameter (each element of the small ones), and the input.
  for (const auto& item : head->named_parameters()) {
    const std::string& name = item.key();
    const torch::Tensor& p = item.value();
    torch::Tensor flat = p.data().view({-1}), grad = p.grad().view({-1});
    for (int64_t k = 0; k < flat.numel(); ++k) {
      const double saved = flat[k].item<double>();
      flat[k] = saved + eps;
      const double up = loss_at(top0);
      flat[k] = saved - eps;
      const double down = loss_at(top0);
      flat[k] = saved;
      EXPECT_NEAR(grad[k].item<double>(), (up - down) / (2 * eps), 1e-6) << name << "[" << k << "]";
    }
  }
  for (int64_t k = 0; k < top0.numel(); ++k) {
    torch::Tensor up = top0.clone(), down = top0.clone();
    up.view({-1})[k] += eps;
    down.view({-1})[k] -= eps;
    EXPECT_NEAR(top.grad().view({-1})[k].item<double>(), (loss_at(up) - loss_at(down)) / (2 * eps),
                1e-6)
        << "top[" << k << "]";
  }
}

TEST(NadeHeadTest, SampledFramesFollowTheModelsProbabilities) {
  auto head = nade(4);
  const torch::Tensor top = torch::randn({1, kHidden}, torch::kDouble);
  const int64_t frames = 1 << kTestKeys, draws = 20000;
  std::vector<double> expected(frames);
  for (int64_t f = 0; f < frames; ++f) expected[f] = draws * std::exp(log_p(*head, top[0], f));
  std::vector<double> observed(frames, 0.0);
  std::mt19937_64 engine(12345);
  HeadSampling s;
  s.temperature = 1.0;
  for (int64_t d = 0; d < draws; ++d) {
    const torch::Tensor v = head->sample(top, s, engine);
    int64_t f = 0;
    for (int64_t i = 0; i < kTestKeys; ++i) f |= v[0][i].item<int64_t>() << i;
    observed[f] += 1;
  }
  // Pearson's chi-square over the frames expected at least 5 times (the rest pooled).
  double chi2 = 0, pooled_expected = 0, pooled_observed = 0;
  int cells = 0;
  for (int64_t f = 0; f < frames; ++f) {
    if (expected[f] < 5) {
      pooled_expected += expected[f], pooled_observed += observed[f];
      continue;
    }
    chi2 += (observed[f] - expected[f]) * (observed[f] - expected[f]) / expected[f];
    ++cells;
  }
  if (pooled_expected >= 5) {
    chi2 += (pooled_observed - pooled_expected) * (pooled_observed - pooled_expected) / pooled_expected;
    ++cells;
  }
  ASSERT_GE(cells, 8) << "too few frames are likely for the test to say anything";
  // The 0.1% critical value of chi-square with cells - 1 degrees of freedom, by the Wilson-
  // Hilferty approximation (z = 3.09).
  const double k = cells - 1, z = 3.09;
  const double critical = k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
  EXPECT_LT(chi2, critical) << cells << " cells";
  // And a temperature near 0 gives the most likely key at every step, every time.
  s.temperature = 1e-3;
  const torch::Tensor a = head->sample(top, s, engine), b = head->sample(top, s, engine);
  EXPECT_TRUE(torch::equal(a, b));
}

}  // namespace
}  // namespace chorus
