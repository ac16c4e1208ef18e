// Registries: config names -> the constructors of recurrences and heads. Adding a recurrence (or
// a head) is one file that defines its factory and one line in each table of registry.cpp.
#pragma once
#include <cstdint>
#include <memory>

#include "trainer/config/config.h"
#include "trainer/models/model.h"

namespace chorus {

// The recurrence `config.recurrence` taking `input_size` features.
std::shared_ptr<RecurrenceImpl> make_recurrence(int64_t input_size, const ModelConfig& config);

// The head `kind` over the top layer's config.hidden_size units with `outputs` outputs.
std::shared_ptr<HeadImpl> make_head(HeadKind kind, int64_t outputs, const ModelConfig& config);

// features -> the configured recurrence -> head `head`. Parts are built in that order, which is
// the order their parameters are drawn from LibTorch's generator (seeded by the caller).
SequenceModel build_model(const ModelConfig& config, std::shared_ptr<FeaturesImpl> features,
                          HeadKind head, int64_t outputs);

}  // namespace chorus
