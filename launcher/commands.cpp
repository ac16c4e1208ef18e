// The `chorus` subcommands: each parses nothing itself (main did), runs one job and keeps the
// output discipline: stdout carries only sampled text or JSON lines; tables and progress go to
// stderr.
#include "launcher/commands.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "data/corpus.h"
#include "data/errors.h"
#include "data/files.h"
#include "data/hdf5_util.h"
#include "data/midi.h"
#include "data/pianoroll_image.h"
#include "data/pianoroll_corpus.h"
#include "data/text.h"
#include "trainer/baselines.h"
#include "trainer/long_sequences.h"
#include "trainer/checkpoint_store.h"
#include "trainer/config.h"
#include "trainer/run_report.h"
#include "trainer/runtime.h"
#include "trainer/sampler.h"
#include "trainer/trainer.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void print_table(const std::vector<std::pair<std::string, std::string>>& rows,
                 std::ostream& out) {
  size_t width = 0;
  for (const auto& [key, value] : rows) width = std::max(width, key.size());
  for (const auto& [key, value] : rows)
    out << "  " << std::left << std::setw(static_cast<int>(width)) << key << "  " << value << "\n";
}

// The corpus at `path`, lyrics or piano rolls, by its format attribute.
std::unique_ptr<SongSource> open_corpus(const std::string& path) {
  if (!fs::exists(path))
    throw InputError(path + ": corpus file not found (create it with chorus prepare lyrics|pianoroll)");
  if (h5::file_format(path) == kPianoRollFormat) return std::make_unique<PianoRollReader>(path);
  return std::make_unique<CorpusReader>(path);
}

// A lyrics file a character model can score: same vocabulary, and for an artist-conditioned
// model artist ids that mean the same artists.
void check_compatible(const LoadedModel& m, const CorpusReader& corpus, const EvalArgs& args) {
  if (!(corpus.vocab() == m.vocab))
    throw InputError(args.data + ": its vocabulary differs from the model's (" +
                     std::to_string(corpus.vocab().size()) + " vs " +
                     std::to_string(m.vocab.size()) +
                     " symbols); prepare it with --vocab-from " + args.checkpoint);
  if (m.config.model.condition != "artist") return;
  const auto& names = corpus.artists();
  const bool prefix = names.size() >= m.artists.size() &&
                      std::equal(m.artists.begin(), m.artists.end(), names.begin());
  if (!prefix)
    throw InputError(args.data + ": its artists differ from the model's; prepare it with "
                     "--vocab-from " + args.checkpoint);
  for (int32_t a : corpus.split(args.split).artist)
    if (a >= static_cast<int32_t>(m.artists.size()))
      throw InputError(args.data + ": split '" + args.split + "' has songs by '" + names[a] +
                       "', an artist this artist-conditioned model does not know");
}

}  // namespace

int command_prepare_lyrics(PrepareLyricsOptions options) {
  // --vocab-from also takes a run directory: its best (else newest) checkpoint.
  if (!options.vocab_from.empty() && fs::is_directory(options.vocab_from) &&
      !fs::exists(options.vocab_from + "/vocab.json"))
    options.vocab_from = CheckpointStore::resolve(options.vocab_from, std::cerr);
  const nlohmann::json summary = prepare_lyrics(options, std::cerr);
  std::cout << summary.dump() << std::endl;
  return 0;
}

int command_prepare_pianoroll(const PreparePianoRollOptions& options) {
  const nlohmann::json summary = prepare_pianoroll(options, std::cerr);
  std::cout << summary.dump() << std::endl;
  return 0;
}

namespace {

// "1.3 GiB per window of 128 steps (plain backward pass)": the estimate for this rank's streams.
// With bptt full the window is the longest train song (capped by train.max_song_length).
std::string activation_memory_row(const Config& config, const SongSource& corpus, int64_t outputs,
                                  int ranks) {
  int64_t T = config.train.seq_len;
  if (config.train.bptt == "full") {
    const SplitIndex& train = corpus.split(config.data.train_split);
    T = 1;
    for (int64_t s = 0; s < train.songs(); ++s)
      T = std::max<int64_t>(T, train.song_length(s) + (corpus.frame_keys() > 0 ? 0 : 1));
    if (config.train.max_song_length > 0) T = std::min(T, config.train.max_song_length);
  }
  const int64_t k = recompute_segment(config.train.recompute_every, T);
  const int64_t streams = config.train.batch_size / std::max(1, ranks);
  return "~" + human_bytes(activation_bytes(config.model, outputs, streams, T, k)) +
         " per window of " + std::to_string(T) + " steps (" +
         (k > 0 ? "recomputed in segments of " + std::to_string(k)
                : std::string("plain backward pass")) +
         (config.train.bptt == "full" ? ", the longest song" : "") + ")";
}

}  // namespace

int command_train(const TrainArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  install_stop_handlers();
  Runtime runtime(config.train.threads);
  const std::unique_ptr<SongSource> corpus = open_corpus(config.data.path);
  Accelerator accelerator = place_rank(config, runtime.comm(), runtime.local_rank(),
                                       runtime.local_size(), runtime.host());
  if (runtime.rank() == 0) {
    std::cerr << "chorus train " << args.config << "\n";
    auto rows = config_rows(config);
    rows.emplace_back("(ranks x threads)", std::to_string(runtime.size()) + " x " +
                                               std::to_string(runtime.threads()));
    rows.emplace_back("(device, rank 0)", accelerator.describe());
    rows.emplace_back("(streams per rank)",
                      std::to_string(config.train.batch_size / std::max(1, runtime.size())));
    int64_t outputs = kKeys;
    if (auto* lyrics = dynamic_cast<const CorpusReader*>(corpus.get())) {
      outputs = lyrics->vocab().size();
      rows.emplace_back("(vocabulary)", std::to_string(outputs) + " symbols");
    }
    rows.emplace_back("(activation memory)",
                      activation_memory_row(config, *corpus, outputs, runtime.size()));
    print_table(rows, std::cerr);
  }
  Trainer trainer(config, runtime.comm(), *corpus, std::cerr, accelerator);
  trainer.start(args.resume);
  nlohmann::json info = runtime.describe();
  info["device"] = accelerator.describe();  // rank 0's; each rank drives its local-rank GPU
  info["command_line"] = args.command_line;
  info["start_time"] = now_iso();
  return trainer.run(info);
}

namespace {

// `chorus sample` on a piano-roll model: frames to MIDI (and a picture, and audio); one JSON line.
int sample_pianoroll(LoadedModel& m, const SampleArgs& args) {
  if (args.out.empty()) throw InputError("a piano-roll model samples into a MIDI file: pass --out FILE.mid");
  FrameSampleOptions opt;
  opt.length = args.length;
  opt.temperature = args.temperature;
  opt.seed = args.seed;
  if (!args.prime_midi.empty()) {
    MidiTiming grid;
    grid.frames_per_quarter = m.resolution.frames_per_quarter > 0 ? m.resolution.frames_per_quarter : 4;
    grid.seconds_per_frame = m.resolution.seconds_per_frame;
    opt.prime = read_midi(args.prime_midi, grid).frames;
  } else if (!args.prime_data.empty()) {
    const PianoRollReader corpus(args.prime_data);
    const SplitIndex& valid = corpus.split("valid");
    if (args.prime_song < 0 || args.prime_song >= valid.songs())
      throw InputError("--prime-song " + std::to_string(args.prime_song) + ": " + args.prime_data +
                       " has " + std::to_string(valid.songs()) + " valid songs");
    opt.prime = corpus.read_song("valid", args.prime_song);
    if (static_cast<int64_t>(opt.prime.size()) > args.prime_frames) opt.prime.resize(args.prime_frames);
  }
  const std::vector<Frame> frames = sample_frames(*m.model, opt);
  write_midi(frames, args.out, midi_write_timing(m.resolution));
  nlohmann::json out = {{"midi", args.out}, {"frames", frames.size()}, {"prime_frames", opt.prime.size()}};
  if (!args.image.empty()) {
    write_pianoroll_png(frames, args.image, frames_per_beat(m.resolution));
    out["image"] = args.image;
  }
  if (!args.wav.empty()) {
    std::string soundfont;
    for (const char* sf : {"/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                           "/usr/share/sounds/sf2/default-GM.sf2"})
      if (fs::exists(sf)) soundfont = sf;
    if (soundfont.empty() || std::system("command -v fluidsynth >/dev/null 2>&1") != 0)
      throw InputError("--wav needs fluidsynth and a General MIDI soundfont: apt-get install "
                       "fluidsynth fluid-soundfont-gm");
    const std::string cmd = "fluidsynth -ni -q -F '" + args.wav + "' '" + soundfont + "' '" + args.out +
                            "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0 || !fs::exists(args.wav))
      throw std::runtime_error("fluidsynth failed to render " + args.out);
    out["wav"] = args.wav;
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int command_sample(const SampleArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  if (args.temperature <= 0) throw InputError("--temperature must be > 0");
  if (m.frames()) return sample_pianoroll(m, args);
  SampleOptions opt;
  opt.prime = args.prime;
  opt.temperature = args.temperature;
  opt.method = args.method;
  opt.length = args.length;
  opt.seed = args.seed;
  if (m.config.model.condition == "artist") opt.artist = artist_id(m.artists, args.artist);
  else if (!args.artist.empty())
    std::cerr << "chorus: note: this model is not conditioned on the artist; --artist ignored\n";
  std::cout << sample_text(*m.model, m.vocab, opt) << std::endl;
  return 0;
}

int command_eval(const EvalArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  Runtime runtime(/*threads=*/0);
  std::unique_ptr<SongSource> corpus;
  std::vector<std::string> artists;
  if (m.frames()) {
    if (args.by_artist) throw InputError("--by-artist: a piano-roll corpus has no artists");
    corpus = std::make_unique<PianoRollReader>(args.data);
  } else {
    auto lyrics = std::make_unique<CorpusReader>(args.data);
    check_compatible(m, *lyrics, args);
    artists = lyrics->artists();
    if (args.by_artist && artists.empty())
      throw InputError("--by-artist: " + args.data + " records no artists");
    corpus = std::move(lyrics);
  }
  if (args.prime_symbols < 0) throw InputError("--prime-symbols: must be >= 0");
  EvalOptions options;
  options.max_symbols = args.max_symbols;
  options.batch_size = args.batch_size;
  options.seq_len = m.config.train.seq_len;
  options.skip_predictions = args.prime_symbols;
  if (args.by_artist) options.num_artists = static_cast<int64_t>(artists.size());
  const EvalResult r = evaluate(*m.model, *corpus, args.split, options, runtime.comm());
  if (runtime.rank() != 0) return 0;
  const std::string unit = m.frames() ? " frames" : " symbols";
  nlohmann::json out = {{"checkpoint", args.checkpoint}, {"step", m.step}, {"data", args.data},
                        {"split", args.split}};
  if (args.prime_symbols > 0) out["prime_symbols"] = args.prime_symbols;
  out.update(r.metrics(m.frames()));
  out.update({{"symbols", r.count}, {"songs", r.songs}});
  std::cout << out.dump() << std::endl;
  std::cerr << "eval " << args.split << ": loss " << r.loss()
            << (m.frames() ? " nats/frame over " : " nats/char (" + std::to_string(r.bpc()) + " bpc) over ")
            << static_cast<int64_t>(r.count) << unit << " in " << r.songs << " songs"
            << (args.prime_symbols > 0
                    ? " (after a prime of " + std::to_string(args.prime_symbols) + unit + " each)"
                    : std::string())
            << "\n";
  if (!args.by_artist) return 0;
  std::vector<std::pair<std::string, std::string>> rows;
  for (size_t a = 0; a < artists.size(); ++a) {
    if (r.artist_count[a] == 0) continue;
    EvalResult one;
    one.loss_sum = r.artist_loss_sum[a];
    one.count = r.artist_count[a];
    nlohmann::json line = {{"checkpoint", args.checkpoint}, {"split", args.split},
                           {"artist", artists[a]}};
    line.update(one.metrics(false));
    line["symbols"] = one.count;
    std::cout << line.dump() << std::endl;
    std::ostringstream cell;
    cell << std::fixed << std::setprecision(3) << one.bpc() << " bpc over "
         << static_cast<int64_t>(one.count) << " symbols";
    rows.emplace_back(artists[a], cell.str());
  }
  print_table(rows, std::cerr);
  return 0;
}

int command_baseline(const BaselineArgs& args) {
  const std::unique_ptr<SongSource> corpus = open_corpus(args.data);
  const bool frames = corpus->frame_keys() > 0;
  int64_t vocab_size = 0;
  const CorpusReader* lyrics = dynamic_cast<const CorpusReader*>(corpus.get());
  if (lyrics) vocab_size = lyrics->vocab().size();
  BaselineOptions options;
  options.model = args.model;
  options.order = args.order;
  options.train_split = args.train_split;
  options.add_k = args.add_k;
  options.discount = args.discount;
  const int order = baseline_order(options);
  if (args.model != "ngram" && args.order != 0 && args.order != order)
    throw InputError("--order " + std::to_string(args.order) + " does not fit --model " +
                     args.model + " (order " + std::to_string(order) + "); use --model ngram");
  if (args.sample > 0 && frames) throw InputError("--sample: only the lyrics baselines generate text");
  const auto start = std::chrono::steady_clock::now();
  const std::unique_ptr<Baseline> model = fit_baseline(*corpus, vocab_size, options);
  const BaselineScore score = score_baseline(*model, *corpus, args.split);
  EvalResult as_eval;
  as_eval.loss_sum = score.loss_sum;
  as_eval.count = score.count;
  const std::string smoothing = order == 0 ? "none"
                                : args.model == "ngram" && !frames
                                    ? "interpolated Kneser-Ney, D = " + std::to_string(args.discount)
                                    : "add-k, k = " + std::to_string(args.add_k);
  nlohmann::json out = {{"data", args.data}, {"model", args.model}, {"order", order},
                        {"train_split", args.train_split}, {"split", args.split},
                        {"smoothing", smoothing}};
  out.update(as_eval.metrics(frames));
  out.update({{"symbols", score.count}, {"songs", score.songs},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}});
  if (args.sample > 0) {
    std::u32string text;
    for (int32_t id : model->sample(args.sample, args.seed)) text += lyrics->vocab().code_point(id);
    out["sample"] = to_utf8(text);
  }
  std::cout << out.dump() << std::endl;
  std::ostringstream value;
  value << std::fixed << std::setprecision(4);
  if (frames) value << as_eval.loss() << " nats per frame";
  else value << as_eval.bpc() << " bits per character (" << as_eval.loss() << " nats)";
  print_table({{"baseline", args.model + (args.model == "ngram" ? " (order " + std::to_string(order) + ")" : "")},
               {"fitted on", args.data + " / " + args.train_split},
               {"scored on", args.split + ": " + std::to_string(score.songs) + " songs, " +
                                 std::to_string(static_cast<int64_t>(score.count)) +
                                 (frames ? " frames" : " predictions")},
               {"smoothing", smoothing},
               {"loss", value.str()}},
              std::cerr);
  if (args.sample > 0) std::cerr << "\nsample:\n" << out["sample"].get<std::string>() << "\n";
  return 0;
}

int command_check(const std::string& path, const std::vector<std::string>& overrides) {
  const Config config = load_config(path, overrides);
  // The config is valid; the data file is the one thing left that training would trip on.
  const std::unique_ptr<SongSource> corpus = open_corpus(config.data.path);
  corpus->split(config.data.train_split);
  if (!config.data.valid_split.empty()) corpus->split(config.data.valid_split);
  print_table(config_rows(config), std::cerr);
  std::cout << nlohmann::json{{"config", path}, {"ok", true}}.dump() << std::endl;
  return 0;
}

int command_info(const std::string& path) {
  nlohmann::json out;
  if (fs::is_regular_file(path)) {
    if (h5::file_format(path) == kPianoRollFormat) {
      out = PianoRollReader(path).info();
    } else {
      out = CorpusReader(path).info();
    }
    out["kind"] = "corpus";
  } else if (fs::exists(path + "/MANIFEST.json") || fs::exists(path + "/DONE")) {
    out["kind"] = "checkpoint";
    out["path"] = path;
    const std::string problem = CheckpointStore::verify(path);
    out["valid"] = problem.empty();
    if (!problem.empty()) out["problem"] = problem;
    if (problem.empty()) {
      out["meta"] = nlohmann::json::parse(read_file(path + "/MANIFEST.json")).at("meta");
      const Config config = parse_config(read_file(path + "/config.yaml"), path, {});
      for (const auto& [key, value] : config_rows(config)) out["config"][key] = value;
      if (config.model.kind == "chars") {
        Vocab vocab;
        std::vector<std::string> artists;
        load_vocab_from(path, &vocab, &artists);
        out["vocab_size"] = vocab.size();
        out["artists"] = artists.size();
      }
    }
  } else if (fs::is_directory(path + "/checkpoints") || fs::exists(path + "/manifest.json")) {
    out["kind"] = "run";
    out["path"] = path;
    const CheckpointStore store(path);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : store.complete()) list.push_back({{"step", e.step}, {"path", e.path}});
    out["checkpoints"] = list;
    if (auto best = store.best()) out["best"] = {{"step", best->step}, {"path", best->path}};
    if (auto metric = store.best_metric()) out["best_valid_loss"] = *metric;
  } else {
    throw InputError(path + ": not a corpus file, a checkpoint or a run directory");
  }
  std::cerr << out.dump(2) << "\n";
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace chorus

// `chorus plot` and `chorus runs`: thin wrappers over trainer/run_report.h (kept at the end of
// this file, include included, so they stay out of the way of the commands above).

namespace chorus {

int command_plot(const PlotArgs& args) {
  PlotOptions options;
  options.metric = args.metric;
  const PlotResult r = plot_runs(args.run_dirs, args.out, options, std::cerr);
  std::cout << r.to_json().dump() << std::endl;
  std::cerr << "plot: " << r.out << ": " << r.runs.size() << " run(s), " << r.points << " points ("
            << r.y_label << ")\n";
  return 0;
}

int command_runs(const std::string& root) {
  const std::vector<RunSummary> runs = list_runs(root);
  if (runs.empty()) {
    std::cerr << "runs: no runs under " << root << " (a run directory holds metrics.jsonl or "
              << "manifest.json)\n";
    return 0;
  }
  for (const auto& r : runs) std::cout << r.to_json().dump() << "\n";
  std::cout << std::flush;
  print_runs_table(runs, std::cerr);
  return 0;
}

}  // namespace chorus
