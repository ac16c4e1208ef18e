// Activation memory of one training window. What LibTorch's CPU LSTM keeps for the backward pass,
// per step, stream and layer: the previous h (input of the recurrent matmul), the four gate
// activations, the previous c, tanh(c) and the output h stacked into the layer's output; with
// dropout, the mask and the masked output that feeds the next layer. kFloatsPerUnit rounds that up
// with what the backward pass allocates while it runs; it was calibrated against the measured
// peak memory of bench/long_sequences.sh (README "Long sequences").
#include "trainer/long_sequences.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chorus {
namespace {
constexpr double kFloatsPerUnit = 12.0;  // per step, stream, layer and hidden unit
constexpr double kFloatBytes = 4.0;
}  // namespace

int64_t recompute_segment(const std::string& setting, int64_t T) {
  int64_t k = 0;
  if (setting == "auto") k = std::max<int64_t>(1, std::llround(std::sqrt(static_cast<double>(T))));
  else if (!setting.empty()) k = std::stoll(setting);
  return k >= T ? 0 : k;
}

double activation_bytes(const ModelConfig& model, int64_t outputs, int64_t batch, int64_t T,
                        int64_t k) {
  const double L = static_cast<double>(model.layers), H = static_cast<double>(model.hidden_size);
  const double dropout = model.dropout > 0 ? 2.0 * L * H : 0.0;
  const double input = static_cast<double>(model.embedding_size +
                                           (model.condition == "artist" ? model.artist_embedding_size : 0));
  // Per step and stream: the stack, its input, and the logits with their softmax (or sigmoid).
  const double per_step = kFloatsPerUnit * L * H + dropout + input + 2.0 * static_cast<double>(outputs);
  const double steps_live = k > 0 ? static_cast<double>(k) : static_cast<double>(T);
  // With recomputation: one segment live at a time, plus every segment's starting (h, c).
  const double boundaries = k > 0 ? std::ceil(static_cast<double>(T) / k) * 2.0 * L * H : 0.0;
  return kFloatBytes * static_cast<double>(batch) * (steps_live * per_step + boundaries);
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace chorus
