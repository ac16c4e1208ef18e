// Activation memory of one training window. What LibTorch's CPU LSTM keeps for the backward pass,
// per step, stream and layer: the previous h (input of the recurrent matmul), the four gate
// activations, the previous c, tanh(c) and the output h stacked into the layer's output; with
// dropout, the mask and the masked output that feeds the next layer. kFloatsPerUnit rounds that up
// with what the backward pass allocates while it runs; it was calibrated against the measured
// peak memory of bench/long_sequences.sh (README "Long sequences").
#include "trainer/run/activation_memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chorus {
namespace {
constexpr double kFloatsPerUnit = 12.0;  // per step, stream, layer and hidden unit
constexpr double kFloatBytes = 4.0;
constexpr int64_t kEvalWindowSteps = 128;  // trainer/run/evaluator.h kEvalWindow

double input_width(const ModelConfig& model) {
  return static_cast<double>(model.embedding_size + (model.condition == Condition::kArtist
                                                         ? model.artist_embedding_size
                                                         : 0));
}
}  // namespace

double activation_bytes(const ModelConfig& model, int64_t outputs, int64_t batch, int64_t T,
                        int64_t k) {
  const double L = static_cast<double>(model.layers), H = static_cast<double>(model.hidden_size);
  const double dropout = model.dropout > 0 ? 2.0 * L * H : 0.0;
  // Per step and stream: the stack, its input, and the logits with their softmax (or sigmoid).
  const double per_step =
      kFloatsPerUnit * L * H + dropout + input_width(model) + 2.0 * static_cast<double>(outputs);
  const double steps_live = k > 0 ? static_cast<double>(k) : static_cast<double>(T);
  // With recomputation: one segment live at a time, plus every segment's starting (h, c).
  const double boundaries = k > 0 ? std::ceil(static_cast<double>(T) / k) * 2.0 * L * H : 0.0;
  return kFloatBytes * static_cast<double>(batch) * (steps_live * per_step + boundaries);
}

double evaluation_bytes(const ModelConfig& model, int64_t outputs, int64_t lanes, int64_t T) {
  // Without a graph only one layer's output, its gate buffer and the logits are alive at a time.
  const double H = static_cast<double>(model.hidden_size);
  const double per_step = 2.0 * H + 4.0 * H + input_width(model) + 3.0 * static_cast<double>(outputs);
  const double steps = static_cast<double>(std::min<int64_t>(T, kEvalWindowSteps));
  return kFloatBytes * static_cast<double>(lanes) * steps * per_step;
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
