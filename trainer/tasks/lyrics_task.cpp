// The lyrics task: a character model over a lyrics corpus's vocabulary (optionally conditioned
// on the artist: then each input row is (symbol, the song's artist)), reported in bits per
// character, sampling text from a priming string, with the vocabulary and artist names as its
// checkpoint sidecar (vocab.json).
#include <algorithm>
#include <iostream>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/files.h"
#include "data/text.h"
#include "data/vocab.h"
#include "trainer/models/registry.h"
#include "trainer/models/sampling.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {

// A lyrics corpus as an artist-conditioned model reads it: each input row is the symbol before
// and the song's artist, at every position (the start row too); targets are the symbols.
class ArtistColumn : public SongSource {
 public:
  explicit ArtistColumn(const SongSource& symbols) : SongSource(symbols.path()), symbols_(symbols) {
    share_splits(symbols);
  }
  int64_t width() const override { return 1; }
  bool predicts_end() const override { return symbols_.predicts_end(); }
  void read(const std::string& split, int64_t song, SongData* out) const override {
    symbols_.read(split, song, out);
    out->artist = this->split(split).artist[song];
  }
  int64_t input_width() const override { return 2; }
  void input_row(const SongData& song, int64_t p, int64_t* out) const override {
    SongSource::input_row(song, p, out);
    out[1] = song.artist;
  }

 private:
  const SongSource& symbols_;
};

class LyricsTask : public Task {
 public:
  // On a corpus: its reader (vocabulary and artists come from it), read as `config.model` reads.
  LyricsTask(std::shared_ptr<const CorpusReader> corpus, const ModelConfig& model)
      : vocab_(corpus->vocab()), artists_(corpus->artists()), path_(corpus->path()),
        conditioned_(model.condition == Condition::kArtist), reader_(corpus) {
    corpus_ = conditioned_ ? view_of<ArtistColumn>(corpus) : std::shared_ptr<const SongSource>(corpus);
  }
  // From a checkpoint's vocab.json, for a model conditioned on the artist or not.
  LyricsTask(Vocab vocab, std::vector<std::string> artists, std::string path, bool conditioned)
      : vocab_(std::move(vocab)), artists_(std::move(artists)), path_(std::move(path)),
        conditioned_(conditioned) {}

  ModelKind kind() const override { return ModelKind::kChars; }
  const Units& units() const override { return kCharUnits; }
  int64_t outputs() const override { return vocab_.size(); }
  const std::vector<std::string>& artists() const override { return artists_; }

  void check_config(const Config& config) const override {
    if (config.model.kind != ModelKind::kChars)
      throw InputError(path_ + ": model.kind is '" + name_of(config.model.kind) +
                       "' but this is a lyrics corpus (chars trains on lyrics, pianoroll and "
                       "notes on piano rolls)");
    if ((config.model.condition == Condition::kArtist) != conditioned_)
      throw std::logic_error("the lyrics task was opened for another model.condition");
    if (config.model.condition == Condition::kArtist && artists_.empty())
      throw InputError(path_ + ": model.condition is 'artist' but the corpus has no artists");
    if (config.model.head != HeadKind::kAuto && config.model.head != HeadKind::kSoftmax)
      throw InputError(path_ + ": model.head is '" + name_of(config.model.head) +
                       "', an output for piano rolls; a lyrics model's head is softmax (or auto)");
    if (config.train.transpose != 0)
      throw InputError(path_ + ": train.transpose shifts the keys of piano rolls; this is a "
                       "lyrics corpus (set it to 0)");
  }

  HeadKind head(const ModelConfig&) const override { return HeadKind::kSoftmax; }

  std::unique_ptr<Baseline> fit_baseline(const BaselineOptions& options) const override {
    return fit_symbol_baseline(corpus(), vocab_.size(), options);
  }

  SequenceModel build_model(const ModelConfig& config) const override {
    const int64_t artists = config.condition == Condition::kArtist
                                ? std::max<int64_t>(1, static_cast<int64_t>(artists_.size()))
                                : 0;
    return chorus::build_model(
        config, make_symbol_features(vocab_.size(), config.embedding_size, artists,
                                     config.artist_embedding_size),
        HeadKind::kSoftmax, vocab_.size());
  }

  std::vector<std::pair<std::string, std::string>> table_rows() const override {
    return {{"(vocabulary)", std::to_string(vocab_.size()) + " symbols"}};
  }

  // The prime followed by the sampled continuation (without the end-of-song symbol).
  std::string sample_text(SequenceModelImpl& model, const SampleOptions& options,
                          int64_t artist, uint64_t seed) const {
    const std::u32string prime = normalise_song(options.prime);
    std::vector<int64_t> ids = {Vocab::kEndOfSong};
    for (char32_t cp : prime) ids.push_back(vocab_.id(cp));
    // An artist-conditioned model reads (symbol, artist) rows.
    const bool conditioned = model.config().condition == Condition::kArtist;
    const auto rows = [&](const std::vector<int64_t>& symbols) {
      torch::Tensor x = torch::tensor(symbols, torch::kLong).unsqueeze(1);  // [P, 1]
      if (!conditioned) return x;
      return torch::stack({x, torch::full_like(x, artist)}, /*dim=*/2);      // [P, 1, 2]
    };
    HeadSampling sampling;
    sampling.temperature = options.temperature;
    sampling.method = options.method;
    sampling.excluded = {Vocab::kUnknown};  // it stands for "something else": never print it
    GenerationHooks hooks;
    hooks.stop = [](const std::vector<int64_t>& v) { return v[0] == Vocab::kEndOfSong; };
    hooks.next_input = [&](const std::vector<int64_t>& v) { return rows(v); };
    const auto drawn = generate(model, rows(ids), options.length, sampling, seed, hooks);
    std::u32string out = prime;
    for (const auto& v : drawn) out += vocab_.code_point(static_cast<int32_t>(v[0]));
    return to_utf8(out);
  }

  void write_sample(SequenceModelImpl& model, const SampleOptions& options, uint64_t seed,
                    const std::string& stem) const override {
    write_file_atomic(stem + ".txt",
                      sample_text(model, options, artist_id(artists_, options.artist), seed) + "\n");
  }

  void sample(SequenceModelImpl& model, const SampleRequest& request) const override {
    for (const auto& [option, value] :
         {std::pair<const char*, const std::string&>{"--out", request.out}, {"--image", request.image},
          {"--wav", request.wav}, {"--prime-midi", request.prime_file},
          {"--prime-data", request.prime_data}})
      if (!value.empty())
        throw InputError(std::string(option) + ": a lyrics model prints its song on stdout and "
                         "primes with --prime TEXT (" + option + " is for piano-roll models)");
    int64_t artist = 0;
    if (model.config().condition == Condition::kArtist)
      artist = artist_id(artists_, request.options.artist);
    else if (!request.options.artist.empty())
      std::cerr << "chorus: note: this model is not conditioned on the artist; --artist ignored\n";
    std::cout << sample_text(model, request.options, artist, request.seed) << std::endl;
  }

  void write_sidecar(const std::string& dir) const override {
    nlohmann::json j = vocab_.to_json();
    j["artists"] = artists_;
    write_file_atomic(dir + "/vocab.json", j.dump(1));
  }

  void check_resume(const std::string& dir) const override {
    Vocab vocab;
    std::vector<std::string> artists;
    load_vocab_from(dir, &vocab, &artists);
    if (!(vocab == vocab_) || artists != artists_)
      throw InputError("cannot resume from " + dir + ": its vocabulary or artists differ from " +
                       path_);
  }

  // Same vocabulary; for an artist-conditioned model, artist ids that mean the same artists.
  void check_eval_data(const Task& data_task, const std::string& split,
                       const std::string& checkpoint) const override {
    const auto* data = dynamic_cast<const LyricsTask*>(&data_task);
    if (data == nullptr)
      throw InputError(data_task.corpus().path() + ": a " + name_of(data_task.kind()) +
                       " corpus, but the model is a character model (model.kind chars)");
    const std::string& file = data->path_;
    if (!(data->vocab_ == vocab_))
      throw InputError(file + ": its vocabulary differs from the model's (" +
                       std::to_string(data->vocab_.size()) + " vs " +
                       std::to_string(vocab_.size()) + " symbols); prepare it with --vocab-from " +
                       checkpoint);
    if (!conditioned_) return;
    const auto& names = data->artists_;
    const bool prefix = names.size() >= artists_.size() &&
                        std::equal(artists_.begin(), artists_.end(), names.begin());
    if (!prefix)
      throw InputError(file + ": its artists differ from the model's; prepare it with "
                       "--vocab-from " + checkpoint);
    for (int32_t a : data->corpus().split(split).artist)
      if (a >= static_cast<int32_t>(artists_.size()))
        throw InputError(file + ": split '" + split + "' has songs by '" + names[a] +
                         "', an artist this artist-conditioned model does not know");
  }

  nlohmann::json describe_corpus() const override {
    corpus();  // refuses a task made from a checkpoint
    return reader_->info();
  }

  nlohmann::json describe_checkpoint() const override {
    return {{"vocab_size", vocab_.size()}, {"artists", artists_.size()}};
  }

  std::string text_of(const std::vector<int32_t>& ids) const override {
    std::u32string text;
    for (int32_t id : ids) text += vocab_.code_point(id);
    return to_utf8(text);
  }

 private:
  Vocab vocab_;
  std::vector<std::string> artists_;
  std::string path_;          // the corpus file, or the checkpoint directory
  bool conditioned_ = false;  // the model is conditioned on the artist
  std::shared_ptr<const CorpusReader> reader_;  // null when made from a checkpoint
};

}  // namespace

std::unique_ptr<Task> open_lyrics_task(const std::string& corpus_path, const Config& config) {
  return std::make_unique<LyricsTask>(std::make_shared<const CorpusReader>(corpus_path),
                                      config.model);
}

std::unique_ptr<Task> lyrics_task_from_checkpoint(const std::string& checkpoint_dir,
                                                  const Config& config) {
  Vocab vocab;
  std::vector<std::string> artists;
  load_vocab_from(checkpoint_dir, &vocab, &artists);
  return std::make_unique<LyricsTask>(std::move(vocab), std::move(artists), checkpoint_dir,
                                      config.model.condition == Condition::kArtist);
}

}  // namespace chorus
