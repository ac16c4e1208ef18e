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

#include "data/corpus.h"
#include "data/errors.h"
#include "data/files.h"
#include "trainer/checkpoint_store.h"
#include "trainer/config.h"
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

int command_train(const TrainArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  install_stop_handlers();
  Runtime runtime(config.train.threads);
  const CorpusReader corpus(config.data.path);
  if (runtime.rank() == 0) {
    std::cerr << "chorus train " << args.config << "\n";
    auto rows = config_rows(config);
    rows.emplace_back("(ranks x threads)", std::to_string(runtime.size()) + " x " +
                                               std::to_string(runtime.threads()));
    rows.emplace_back("(streams per rank)",
                      std::to_string(config.train.batch_size / std::max(1, runtime.size())));
    rows.emplace_back("(vocabulary)", std::to_string(corpus.vocab().size()) + " symbols");
    print_table(rows, std::cerr);
  }
  Trainer trainer(config, runtime.comm(), corpus, std::cerr);
  trainer.start(args.resume);
  nlohmann::json info = runtime.describe();
  info["command_line"] = args.command_line;
  info["start_time"] = now_iso();
  return trainer.run(info);
}

int command_sample(const SampleArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  SampleOptions opt;
  opt.prime = args.prime;
  opt.temperature = args.temperature;
  opt.method = args.method;
  opt.length = args.length;
  opt.seed = args.seed;
  if (args.temperature <= 0) throw InputError("--temperature must be > 0");
  if (m.config.model.condition == "artist") opt.artist = artist_id(m.artists, args.artist);
  else if (!args.artist.empty())
    std::cerr << "chorus: note: this model is not conditioned on the artist; --artist ignored\n";
  std::cout << sample_text(m.model, m.vocab, opt) << std::endl;
  return 0;
}

int command_eval(const EvalArgs& args) {
  LoadedModel m = load_model(args.checkpoint, std::cerr);
  Runtime runtime(/*threads=*/0);
  const CorpusReader corpus(args.data);
  if (!(corpus.vocab() == m.vocab))
    throw InputError(args.data + ": its vocabulary differs from the model's (" +
                     std::to_string(corpus.vocab().size()) + " vs " +
                     std::to_string(m.vocab.size()) +
                     " symbols); prepare it with --vocab-from " + args.checkpoint);
  if (m.config.model.condition == "artist") {
    // Artist ids must mean the same artists; songs by artists the model never saw cannot be scored.
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
  const EvalResult r = evaluate(m.model, corpus, args.split, args.max_symbols, args.batch_size,
                                m.config.train.seq_len, runtime.comm());
  if (runtime.rank() == 0) {
    std::cout << nlohmann::json{{"checkpoint", args.checkpoint}, {"step", m.step},
                                {"data", args.data},           {"split", args.split},
                                {"loss", r.loss()},            {"unit", "char"},
                                {"bpc", r.bpc()},              {"symbols", r.count},
                                {"songs", r.songs}}
                     .dump()
              << std::endl;
    std::cerr << "eval " << args.split << ": loss " << r.loss() << " nats/char, " << r.bpc()
              << " bpc over " << static_cast<int64_t>(r.count) << " symbols in " << r.songs
              << " songs\n";
  }
  return 0;
}

int command_check(const std::string& path, const std::vector<std::string>& overrides) {
  const Config config = load_config(path, overrides);
  // The config is valid; the data file is the one thing left that training would trip on.
  const CorpusReader corpus(config.data.path);
  corpus.split(config.data.train_split);
  if (!config.data.valid_split.empty()) corpus.split(config.data.valid_split);
  print_table(config_rows(config), std::cerr);
  std::cout << nlohmann::json{{"config", path}, {"ok", true}}.dump() << std::endl;
  return 0;
}

int command_info(const std::string& path) {
  nlohmann::json out;
  if (fs::is_regular_file(path)) {
    const CorpusReader corpus(path);
    out = corpus.info();
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
      Vocab vocab;
      std::vector<std::string> artists;
      load_vocab_from(path, &vocab, &artists);
      out["vocab_size"] = vocab.size();
      out["artists"] = artists.size();
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
