// The generation loop shared by every task: prime, then draw from the head and feed back.
#include "trainer/models/sampling.h"

namespace chorus {

std::vector<std::vector<int64_t>> generate(SequenceModelImpl& model, const torch::Tensor& prime,
                                           int64_t length, const HeadSampling& sampling,
                                           uint64_t seed, const GenerationHooks& hooks) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::mt19937_64 engine(seed);
  const torch::Device device = module_device(model);
  RecurrentState state = model.zero_state(1, device), next;
  // The prime in one call; its last output predicts the first new position.
  torch::Tensor top = model.top(prime.to(device), state, {}, &next);
  state = std::move(next);
  torch::Tensor last = top[top.size(0) - 1];  // [1, H]
  HeadSampling now = sampling;
  std::vector<std::vector<int64_t>> out;
  for (int64_t i = 0; i < length; ++i) {
    if (hooks.before_draw) hooks.before_draw(&now);
    const torch::Tensor drawn = model.head().sample(last, now, engine).contiguous();  // [1] or [1, K]
    std::vector<int64_t> values(drawn.data_ptr<int64_t>(), drawn.data_ptr<int64_t>() + drawn.numel());
    if (hooks.stop && hooks.stop(values)) break;
    out.push_back(values);
    const torch::Tensor input = hooks.next_input ? hooks.next_input(values) : drawn.unsqueeze(0);
    RecurrentState after;
    top = model.top(input.to(device), state, {}, &after);
    state = std::move(after);
    last = top[0];
  }
  return out;
}

}  // namespace chorus
