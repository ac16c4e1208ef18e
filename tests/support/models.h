// Models for tests that have no corpus: the same parts the tasks build (trainer/tasks), from
// the public features and registry API.
#pragma once
#include <cstdint>

#include "data/pianoroll.h"
#include "trainer/models/features.h"
#include "trainer/models/registry.h"

namespace chorus::testing {

// A character model over `symbols` ids (as the lyrics task builds it).
inline SequenceModel symbol_model(const ModelConfig& mc, int64_t symbols, int64_t artists = 0) {
  return build_model(mc,
                     make_symbol_features(symbols, mc.embedding_size,
                                          mc.condition == Condition::kArtist ? artists : 0,
                                          mc.artist_embedding_size),
                     HeadKind::kSoftmax, symbols);
}

// A piano-roll model, with the independent head unless told otherwise (as the piano-roll task
// builds it).
inline SequenceModel frame_model(const ModelConfig& mc, HeadKind head = HeadKind::kIndependent) {
  if (head == HeadKind::kAuto) head = HeadKind::kIndependent;
  return build_model(mc, make_frame_features(kKeys, mc.embedding_size), head, kKeys);
}

}  // namespace chorus::testing
