// Activation memory of one training window and of one validation call, from the per-stream
// figures the model's parts report (each recurrence and head knows what it keeps; the LSTM's were
// calibrated against the measured peak memory of bench/long_sequences.sh, README "Long sequences").
#include "trainer/run/activation_memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace chorus {
namespace {
constexpr double kFloatBytes = 4.0;
constexpr int64_t kEvalWindowSteps = 128;  // trainer/run/evaluator.h kEvalWindow
}  // namespace

double activation_bytes(const ActivationProfile& profile, int64_t batch, int64_t T, int64_t k) {
  const double steps_live = k > 0 ? static_cast<double>(k) : static_cast<double>(T);
  const double boundaries = k > 0 ? std::ceil(static_cast<double>(T) / k) * profile.state : 0.0;
  return kFloatBytes * static_cast<double>(batch) *
         (steps_live * profile.kept_per_step + boundaries);
}

double evaluation_bytes(const ActivationProfile& profile, int64_t lanes, int64_t T) {
  const double steps = static_cast<double>(std::min<int64_t>(T, kEvalWindowSteps));
  return kFloatBytes * static_cast<double>(lanes) * steps * profile.eval_per_step;
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
