// The task registry and what every task shares. Invariant: a corpus file's format and the
// config's model.kind pick a task once, here; a checkpoint's config picks the task of a trained
// model, here.
#include "trainer/tasks/task.h"

#include <algorithm>
#include <filesystem>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/hdf5_util.h"
#include "data/pianoroll_corpus.h"

namespace chorus {

std::unique_ptr<Task> open_lyrics_task(const std::string& corpus_path, const Config&);
std::unique_ptr<Task> lyrics_task_from_checkpoint(const std::string& checkpoint_dir, const Config&);
std::unique_ptr<Task> open_pianoroll_task(const std::string& corpus_path, const Config&);
std::unique_ptr<Task> pianoroll_task_from_checkpoint(const std::string& checkpoint_dir, const Config&);
std::unique_ptr<Task> open_notes_task(const std::string& corpus_path, const Config&);
std::unique_ptr<Task> notes_task_from_checkpoint(const std::string& checkpoint_dir, const Config&);

namespace {

struct TaskEntry {
  const char* format;  // the corpus file's "format" attribute
  ModelKind kind;      // the config's model.kind
  std::unique_ptr<Task> (*open)(const std::string& corpus_path, const Config&);
  std::unique_ptr<Task> (*from_checkpoint)(const std::string& checkpoint_dir, const Config&);
};

// A format's first entry is what its files are when no model is named (`chorus info`, baselines).
const TaskEntry kTasks[] = {
    {kLyricsFormat, ModelKind::kChars, &open_lyrics_task, &lyrics_task_from_checkpoint},
    {kPianoRollFormat, ModelKind::kPianoRoll, &open_pianoroll_task, &pianoroll_task_from_checkpoint},
    {kPianoRollFormat, ModelKind::kNotes, &open_notes_task, &notes_task_from_checkpoint},
};

// The format of a corpus file, or InputError naming it.
std::string corpus_format(const std::string& corpus_path) {
  if (!std::filesystem::exists(corpus_path))
    throw InputError(corpus_path + ": corpus file not found (create it with chorus prepare lyrics|pianoroll)");
  return h5::file_format(corpus_path);
}

[[noreturn]] void unknown_format(const std::string& corpus_path, const std::string& format) {
  std::string known;
  for (const TaskEntry& t : kTasks)
    if (known.find(t.format) == std::string::npos) known += (known.empty() ? "" : ", ") + std::string(t.format);
  throw InputError(corpus_path + ": format \"" + format + "\" is not a corpus Chorus trains on (" +
                   known + "); re-run chorus prepare");
}

}  // namespace

nlohmann::json Task::metrics(double loss_sum, double count) const {
  const double loss = count > 0 ? loss_sum / count : 0.0;
  return {{"loss", loss}, {"unit", units().unit}, {units().metric, metric(loss)}};
}

const SongSource& Task::corpus() const {
  if (!corpus_) throw InputError("this task was made from a checkpoint and has no corpus");
  return *corpus_;
}

Config Task::resolved(Config config) const {
  config.model.head = head(config.model);
  if (config.model.head == HeadKind::kNade) config.model.nade_hidden = nade_hidden_units(config.model);
  return config;
}

const std::vector<std::string>& Task::artists() const {
  static const std::vector<std::string> kNone;
  return kNone;
}

std::string Task::text_of(const std::vector<int32_t>&) const {
  throw InputError("only lyrics have text (this is a " + name_of(kind()) + " corpus)");
}

std::unique_ptr<Task> open_task(const std::string& corpus_path, const Config& config) {
  const std::string format = corpus_format(corpus_path);
  std::string kinds;
  for (const TaskEntry& t : kTasks) {
    if (format != t.format) continue;
    if (t.kind == config.model.kind) return t.open(corpus_path, config);
    kinds += (kinds.empty() ? "" : " or ") + name_of(t.kind);
  }
  if (kinds.empty()) unknown_format(corpus_path, format);
  throw InputError(corpus_path + ": model.kind is '" + name_of(config.model.kind) + "', but this is a " +
                   format + " corpus, which model.kind " + kinds + " trains on");
}

std::unique_ptr<Task> open_task(const std::string& corpus_path) {
  const std::string format = corpus_format(corpus_path);
  for (const TaskEntry& t : kTasks) {
    if (format != t.format) continue;
    Config config;
    config.model.kind = t.kind;
    return t.open(corpus_path, config);
  }
  unknown_format(corpus_path, format);
}

std::unique_ptr<Task> task_from_checkpoint(const std::string& checkpoint_dir, const Config& config) {
  for (const TaskEntry& t : kTasks)
    if (t.kind == config.model.kind) return t.from_checkpoint(checkpoint_dir, config);
  throw std::logic_error("no task for model.kind " + name_of(config.model.kind));
}

int64_t artist_id(const std::vector<std::string>& artists, const std::string& name) {
  if (name.empty()) return 0;
  auto it = std::find(artists.begin(), artists.end(), name);
  if (it != artists.end()) return it - artists.begin();
  std::string known;
  for (const auto& a : artists) known += (known.empty() ? "" : ", ") + a;
  throw InputError("unknown artist '" + name + "'; known artists: " + known);
}

}  // namespace chorus
