// The YAML names of the config's choices (one line per enum; config.h declares each), and the
// typed value of train.recompute_every. Invariant: a name's position is its enum value.
#include <algorithm>
#include <cmath>

#include "trainer/config/config.h"

namespace chorus {

#define CHORUS_CHOICES(E, ...)                                   \
  template <>                                                    \
  const std::vector<std::string>& choice_names<E>() {            \
    static const std::vector<std::string> kNames = {__VA_ARGS__}; \
    return kNames;                                               \
  }
CHORUS_CHOICES(ModelKind, "chars", "pianoroll", "notes")
CHORUS_CHOICES(Condition, "none", "artist")
CHORUS_CHOICES(RecurrenceKind, "lstm", "gru")
CHORUS_CHOICES(LstmImpl, "auto", "fused", "torch")
CHORUS_CHOICES(Bptt, "truncated", "full")
CHORUS_CHOICES(DeviceChoice, "auto", "cpu", "cuda")
CHORUS_CHOICES(Precision, "fp32", "bf16")
CHORUS_CHOICES(Schedule, "constant", "warmup", "cosine")
CHORUS_CHOICES(SampleMethod, "multinomial", "gumbel", "argmax")
CHORUS_CHOICES(Backend, "auto", "mpi", "nccl")
CHORUS_CHOICES(HeadKind, "auto", "softmax", "independent", "nade")
CHORUS_CHOICES(BaselineModel, "uniform", "unigram", "bigram", "ngram")
#undef CHORUS_CHOICES


int64_t RecomputeEvery::segment(int64_t T) const {
  const int64_t k =
      automatic ? std::max<int64_t>(1, std::llround(std::sqrt(static_cast<double>(T)))) : steps;
  return k >= T ? 0 : k;
}

std::string RecomputeEvery::text() const { return automatic ? "auto" : std::to_string(steps); }

bool RecomputeEvery::parse(const std::string& text, RecomputeEvery* out) {
  if (text == "auto") return *out = {true, 0}, true;
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *out = {false, std::stoll(text)};
  return true;
}

}  // namespace chorus
