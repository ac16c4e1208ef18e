// What every recurrent state can do without knowing its recurrence: rows are streams.
#include "trainer/models/recurrence.h"

namespace chorus {

RecurrentState RecurrentState::masked(const std::vector<uint8_t>& reset) const {
  bool any = false;
  for (uint8_t r : reset) any = any || r;
  if (!any || tensors.empty()) return *this;
  std::vector<float> keep(reset.size());
  for (size_t b = 0; b < reset.size(); ++b) keep[b] = reset[b] ? 0.0f : 1.0f;
  const torch::Tensor k = torch::tensor(keep).to(tensors[0].device());
  RecurrentState s;
  for (const torch::Tensor& t : tensors) {
    std::vector<int64_t> shape(static_cast<size_t>(t.dim()), 1);  // [B, 1, ...]
    shape[0] = k.size(0);
    s.tensors.push_back(t * k.view(shape));
  }
  return s;
}

RecurrentState RecurrentState::detached() const {
  RecurrentState s;
  for (const torch::Tensor& t : tensors) s.tensors.push_back(t.detach());
  return s;
}

}  // namespace chorus
