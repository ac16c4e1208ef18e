// Sampling. The model runs one symbol at a time with its state carried, from a zero state with
// the end-of-song symbol as the first input, exactly as songs are seen in training.
#include "trainer/sampler.h"

#include <algorithm>
#include <cmath>

#include "data/errors.h"
#include "data/streams.h"
#include "data/text.h"
#include "trainer/accelerator.h"

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

std::string sample_text(SequenceModelImpl& model, const Vocab& vocab, const SampleOptions& options) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::mt19937_64 engine(options.seed);
  const ModelConfig& mc = model.config();
  const torch::Device device = module_device(model);
  LstmState state = LstmState::zeros(mc.layers, 1, mc.hidden_size, device);
  const torch::Tensor artist = torch::tensor({options.artist}, torch::kLong).to(device);
  const std::u32string prime = normalise_song(options.prime);
  std::vector<int64_t> inputs = {Vocab::kEndOfSong};
  for (char32_t cp : prime) inputs.push_back(vocab.id(cp));

  // Feed the prime in one call; its last output predicts the first new symbol.
  auto [logits, next] = model.forward(
      torch::tensor(inputs, torch::kLong).unsqueeze(1).to(device), artist, state, {});
  state = next;
  std::u32string out = prime;
  torch::Tensor last = logits[logits.size(0) - 1][0];
  for (int64_t i = 0; i < options.length; ++i) {
    torch::Tensor l = last.to(torch::kCPU).contiguous();
    std::vector<float> v(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
    v[Vocab::kUnknown] = -INFINITY;  // the unknown symbol stands for "something else": never print it
    const int64_t id = pick_symbol(v, options.temperature, options.method, engine);
    if (id == Vocab::kEndOfSong) break;
    out += vocab.code_point(static_cast<int32_t>(id));
    auto [lg, nx] = model.forward(torch::tensor({id}, torch::kLong).unsqueeze(1).to(device),
                                   artist, state, {});
    state = nx;
    last = lg[0][0];
  }
  return to_utf8(out);
}

std::vector<Frame> sample_frames(SequenceModelImpl& model, const FrameSampleOptions& options) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::mt19937_64 engine(options.seed);
  const ModelConfig& mc = model.config();
  const torch::Device device = module_device(model);
  LstmState state = LstmState::zeros(mc.layers, 1, mc.hidden_size, device);
  const torch::Tensor no_artist = torch::zeros({1}, torch::kLong).to(device);
  auto as_tensor = [&](const std::vector<Frame>& frames) {
    torch::Tensor t = torch::zeros({static_cast<int64_t>(frames.size()), 1, kKeys});
    for (size_t i = 0; i < frames.size(); ++i)
      for (int k = 0; k < kKeys; ++k)
        if (frames[i][k]) t[i][0][k] = 1.0f;
    return t.to(device);
  };
  std::vector<Frame> out = options.prime;
  std::vector<Frame> feed = {Frame()};  // the silent frame every song starts from
  feed.insert(feed.end(), options.prime.begin(), options.prime.end());
  auto [logits, next] = model.forward(as_tensor(feed), no_artist, state, {});
  state = next;
  torch::Tensor last = logits[logits.size(0) - 1][0];
  for (int64_t i = 0; i < options.length; ++i) {
    const torch::Tensor p = torch::sigmoid(last / options.temperature).to(torch::kCPU).contiguous();
    const float* prob = p.data_ptr<float>();
    Frame f;
    for (int k = 0; k < kKeys; ++k) f[k] = uniform_01(engine) < prob[k];
    out.push_back(f);
    auto [lg, nx] = model.forward(as_tensor({f}), no_artist, state, {});
    state = nx;
    last = lg[0][0];
  }
  return out;
}

MidiWriteTiming midi_write_timing(const PianoRollResolution& resolution) {
  MidiWriteTiming timing;
  if (resolution.frames_per_quarter > 0) timing.frames_per_quarter = resolution.frames_per_quarter;
  timing.seconds_per_frame = resolution.seconds_per_frame;
  return timing;
}

int frames_per_beat(const PianoRollResolution& resolution) {
  return resolution.frames_per_quarter > 0 ? resolution.frames_per_quarter
                                           : (resolution.seconds_per_frame > 0 ? 0 : 4);
}

}  // namespace chorus
