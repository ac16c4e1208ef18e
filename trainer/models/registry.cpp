// The tables of recurrences and heads. Each implementation file defines its factory; these tables
// are the only place that names them.
#include "trainer/models/registry.h"

#include <map>
#include <stdexcept>

namespace chorus {

using RecurrenceFactory = std::shared_ptr<RecurrenceImpl> (*)(int64_t input_size, const ModelConfig&);
using HeadFactory = std::shared_ptr<HeadImpl> (*)(int64_t hidden, int64_t outputs, const ModelConfig&);

std::shared_ptr<RecurrenceImpl> make_lstm_stack(int64_t input_size, const ModelConfig& config);
std::shared_ptr<RecurrenceImpl> make_gru_stack(int64_t input_size, const ModelConfig& config);
std::shared_ptr<HeadImpl> make_softmax_head(int64_t hidden, int64_t outputs, const ModelConfig&);
std::shared_ptr<HeadImpl> make_independent_head(int64_t hidden, int64_t outputs, const ModelConfig&);
std::shared_ptr<HeadImpl> make_nade_head(int64_t hidden, int64_t outputs, const ModelConfig&);

namespace {

const std::map<RecurrenceKind, RecurrenceFactory> kRecurrences = {
    {RecurrenceKind::kLstm, &make_lstm_stack},
    {RecurrenceKind::kGru, &make_gru_stack},
};

const std::map<HeadKind, HeadFactory> kHeads = {
    {HeadKind::kSoftmax, &make_softmax_head},
    {HeadKind::kIndependent, &make_independent_head},
    {HeadKind::kNade, &make_nade_head},
};

template <class Table, class Kind>
auto factory(const Table& table, Kind kind) {
  auto it = table.find(kind);
  if (it == table.end()) throw std::logic_error("no registry entry for '" + name_of(kind) + "'");
  return it->second;
}

}  // namespace

std::shared_ptr<RecurrenceImpl> make_recurrence(int64_t input_size, const ModelConfig& config) {
  return factory(kRecurrences, config.recurrence)(input_size, config);
}

std::shared_ptr<HeadImpl> make_head(HeadKind kind, int64_t outputs, const ModelConfig& config) {
  return factory(kHeads, kind)(config.hidden_size, outputs, config);
}

SequenceModel build_model(const ModelConfig& config, std::shared_ptr<FeaturesImpl> features,
                          HeadKind head, int64_t outputs) {
  const int64_t input_size = features->size();
  auto recurrence = make_recurrence(input_size, config);
  auto output = make_head(head, outputs, config);
  return std::make_shared<SequenceModelImpl>(config, std::move(features), std::move(recurrence),
                                             std::move(output));
}

}  // namespace chorus
