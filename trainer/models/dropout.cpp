// Counter-based dropout masks: each element is a hash of its coordinates, so any rank, any
// resume and any recomputation of a window draws exactly the same mask.
#include "trainer/models/dropout.h"

#include <ATen/Parallel.h>

#include "data/streams.h"

namespace chorus {

torch::Tensor dropout_mask(uint64_t seed, int64_t window, const std::vector<int64_t>& stream_ids,
                           int64_t layer, int64_t seq_len, int64_t width, double p,
                           int64_t first_position) {
  const auto B = static_cast<int64_t>(stream_ids.size());
  torch::Tensor mask = torch::empty({seq_len, B, width}, torch::kFloat32);
  float* out = mask.data_ptr<float>();
  const float keep_scale = static_cast<float>(1.0 / (1.0 - p));
  // Compare against p in the 53-bit integer domain: exact and fast.
  const auto threshold = static_cast<uint64_t>(p * 0x1.0p53);
  const uint64_t base = mix64(seed ^ mix64(static_cast<uint64_t>(window) ^
                                           mix64(static_cast<uint64_t>(layer) + 0x5bd1e995ULL)));
  at::parallel_for(0, seq_len * B, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t t = first_position + row / B, b = row % B;
      const uint64_t key =
          mix64(base ^ mix64(static_cast<uint64_t>(stream_ids[b]) * 0x100000001b3ULL +
                             static_cast<uint64_t>(t)));
      float* r = out + row * width;
      for (int64_t j = 0; j < width; ++j)
        r[j] = (mix64(key + static_cast<uint64_t>(j)) >> 11) < threshold ? 0.0f : keep_scale;
    }
  });
  return mask;
}

DropoutMasks WindowDropout::masks(int64_t begin, int64_t end) const {
  DropoutMasks out;
  if (input_p > 0 && input_width > 0)
    out.input = dropout_mask(seed, window, stream_ids, /*layer=*/-1, end - begin, input_width,
                             input_p, begin);
  if (!active()) return out;
  for (int64_t l = 0; l < layers; ++l)
    out.layers.push_back(dropout_mask(seed, window, stream_ids, l, end - begin, width, p, begin));
  return out;
}

}  // namespace chorus
