// Sampling. The model runs one symbol at a time with its state carried, from a zero state with
// the end-of-song symbol as the first input, exactly as songs are seen in training.
#include "trainer/sampler.h"

#include <algorithm>
#include <cmath>

#include "data/errors.h"
#include "data/streams.h"
#include "data/text.h"

namespace chorus {

int64_t pick_symbol(const std::vector<float>& logits, double temperature,
                    const std::string& method, std::mt19937_64& engine) {
  const auto n = static_cast<int64_t>(logits.size());
  if (method == "argmax")
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  std::vector<double> z(n);
  for (int64_t i = 0; i < n; ++i) z[i] = logits[i] / temperature;
  if (method == "gumbel") {
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
  if (method != "multinomial") throw InputError("unknown sampling method '" + method + "'");
  const double top = *std::max_element(z.begin(), z.end());
  double total = 0;
  for (double& v : z) total += (v = std::exp(v - top));
  double u = uniform_01(engine) * total;
  for (int64_t i = 0; i < n; ++i) {
    if ((u -= z[i]) < 0) return i;
  }
  return n - 1;
}

int64_t artist_id(const std::vector<std::string>& artists, const std::string& name) {
  if (name.empty()) return 0;
  auto it = std::find(artists.begin(), artists.end(), name);
  if (it != artists.end()) return it - artists.begin();
  std::string known;
  for (const auto& a : artists) known += (known.empty() ? "" : ", ") + a;
  throw InputError("unknown artist '" + name + "'; known artists: " + known);
}

std::string sample_text(CharLstm& model, const Vocab& vocab, const SampleOptions& options) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::mt19937_64 engine(options.seed);
  const ModelConfig& mc = model->config();
  LstmState state = LstmState::zeros(mc.layers, 1, mc.hidden_size);
  torch::Tensor artist = torch::tensor({options.artist}, torch::kLong);
  const std::u32string prime = normalise_song(options.prime);
  std::vector<int64_t> inputs = {Vocab::kEndOfSong};
  for (char32_t cp : prime) inputs.push_back(vocab.id(cp));

  // Feed the prime in one call; its last output predicts the first new symbol.
  auto [logits, next] = model->forward(
      torch::tensor(inputs, torch::kLong).unsqueeze(1), artist, state, {});
  state = next;
  std::u32string out = prime;
  torch::Tensor last = logits[logits.size(0) - 1][0];
  for (int64_t i = 0; i < options.length; ++i) {
    torch::Tensor l = last.contiguous();
    std::vector<float> v(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
    v[Vocab::kUnknown] = -INFINITY;  // the unknown symbol stands for "something else": never print it
    const int64_t id = pick_symbol(v, options.temperature, options.method, engine);
    if (id == Vocab::kEndOfSong) break;
    out += vocab.code_point(static_cast<int32_t>(id));
    auto [lg, nx] = model->forward(torch::tensor({id}, torch::kLong).unsqueeze(1), artist,
                                   state, {});
    state = nx;
    last = lg[0][0];
  }
  return to_utf8(out);
}

}  // namespace chorus
