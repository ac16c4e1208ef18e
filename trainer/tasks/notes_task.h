// The note-by-note model of model.kind: notes (trainer/tasks/notes_task.cpp), over any number of
// keys: the task builds it over the 88 piano keys; tests build it over a few, to enumerate frames.
#pragma once
#include <cstdint>

#include "trainer/config/config.h"
#include "trainer/models/model.h"

namespace chorus {

// Note features (the symbol before, the previous frame's keys, the current frame's keys so far)
// -> the configured recurrence -> a softmax over the keys and the end of frame.
SequenceModel build_note_model(const ModelConfig& config, int64_t keys);

}  // namespace chorus
