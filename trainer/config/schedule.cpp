// Learning-rate schedules (constant, warm-up, cosine): stateless, so resume cannot drift.
#include "trainer/config/schedule.h"

#include <algorithm>
#include <cmath>

#include "trainer/config/config.h"

namespace chorus {

double learning_rate(const OptimConfig& optim, int64_t step, int64_t total_steps) {
  if (optim.schedule == Schedule::kConstant) return optim.lr;
  if (optim.warmup_steps > 0 && step <= optim.warmup_steps)
    return optim.lr * static_cast<double>(step) / static_cast<double>(optim.warmup_steps);
  if (optim.schedule == Schedule::kWarmup) return optim.lr;
  // cosine
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - optim.warmup_steps));
  const double progress =
      std::clamp(static_cast<double>(step - optim.warmup_steps) / span, 0.0, 1.0);
  return optim.min_lr + 0.5 * (optim.lr - optim.min_lr) * (1.0 + std::cos(M_PI * progress));
}

}  // namespace chorus
