// Tests of the checkpoint protocol on a real filesystem: what commit leaves, what counts as
// complete and valid, fallback past damaged checkpoints, pruning, the best marker and resolve().
#include "trainer/run/checkpoint_store.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<int64_t> steps_of(const std::vector<CheckpointEntry>& entries) {
  std::vector<int64_t> steps;
  for (const auto& e : entries) steps.push_back(e.step);
  return steps;
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "chorus_ckpt_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    run_dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(run_dir_); }

  // A checkpoint as two ranks would leave it: rank 0's model plus one stream file per rank.
  std::string save(const CheckpointStore& store, int64_t step, const std::string& model = "weights") {
    const fs::path staging = store.begin(step);
    write_text(staging / "model.bin", model + std::to_string(step));
    write_text(staging / "streams-rank0.bin", "rank0-state");
    write_text(staging / "streams-rank1.bin", "rank1-state-longer");
    return store.commit(step, {{"ranks", 2}});
  }

  bool any_tmp(const CheckpointStore& store) const {
    for (const auto& e : fs::directory_iterator(store.root())) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp") != std::string::npos || name.find(".old") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  fs::path run_dir_;
};

TEST_F(CheckpointStoreTest, CommitProducesVerifiedCheckpoint) {
  CheckpointStore store(run_dir_.string());
  EXPECT_EQ(store.root(), (run_dir_ / "checkpoints").string());
  const fs::path dir = save(store, 100);

  EXPECT_EQ(dir, run_dir_ / "checkpoints" / "step-00000100");
  EXPECT_EQ(read_text(dir / "model.bin"), "weights100");
  EXPECT_EQ(read_text(dir / "DONE"), "100\n");
  const auto manifest = nlohmann::json::parse(read_text(dir / "MANIFEST.json"));
  EXPECT_EQ(manifest["step"], 100);
  EXPECT_EQ(manifest["meta"]["ranks"], 2);
  ASSERT_EQ(manifest["files"].size(), 3u);
  EXPECT_EQ(manifest["files"]["streams-rank1.bin"]["size"], 18);
  EXPECT_EQ(manifest["files"]["model.bin"]["sha256"], sha256_file((dir / "model.bin").string()));
  EXPECT_FALSE(manifest["files"].contains("DONE"));
  EXPECT_FALSE(manifest["files"].contains("MANIFEST.json"));

  EXPECT_EQ(CheckpointStore::verify(dir.string()), "");
  EXPECT_FALSE(fs::exists(store.staging_path(100)));
  EXPECT_FALSE(any_tmp(store));
}

TEST_F(CheckpointStoreTest, BeginEmptiesAnExistingStagingDirectory) {
  CheckpointStore store(run_dir_.string());
  const fs::path staging = store.begin(7);
  EXPECT_EQ(staging, run_dir_ / "checkpoints" / "step-00000007.tmp");
  EXPECT_EQ(store.staging_path(7), staging.string());
  write_text(staging / "leftover.bin", "from a crashed save");
  store.begin(7);
  EXPECT_TRUE(fs::is_directory(staging));
  EXPECT_TRUE(fs::is_empty(staging));
}

TEST_F(CheckpointStoreTest, CommitWithoutBeginThrows) {
  CheckpointStore store(run_dir_.string());
  EXPECT_THROW(store.commit(5, nlohmann::json::object()), std::runtime_error);
  EXPECT_TRUE(store.complete().empty());
}

TEST_F(CheckpointStoreTest, CompleteIsAscendingAndIgnoresStagingAndUnfinished) {
  CheckpointStore store(run_dir_.string());
  EXPECT_TRUE(store.complete().empty());  // no checkpoints directory at all yet
  save(store, 300);
  save(store, 100);
  save(store, 2000);
  const fs::path root = store.root();
  // Staging directory with a DONE (crash after DONE, before rename): not complete.
  fs::create_directories(root / "step-00000400.tmp");
  write_text(root / "step-00000400.tmp" / "DONE", "400\n");
  // Final name but no DONE: not complete.
  fs::create_directories(root / "step-00000500");
  // Non-canonical names and a plain file: never checkpoints.
  fs::create_directories(root / "step-600");
  write_text(root / "step-600" / "DONE", "600\n");
  fs::create_directories(root / "step-00000700x");
  write_text(root / "step-00000700x" / "DONE", "700\n");
  write_text(root / "step-00000800", "not a directory");

  const auto entries = store.complete();
  EXPECT_EQ(steps_of(entries), (std::vector<int64_t>{100, 300, 2000}));
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].path, (root / "step-00000100").string());
}

TEST_F(CheckpointStoreTest, VerifyDetectsTruncatedFile) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 1);
  fs::resize_file(dir / "streams-rank1.bin", 5);
  EXPECT_EQ(CheckpointStore::verify(dir.string()),
            "file streams-rank1.bin has size 5, expected 18");
}

TEST_F(CheckpointStoreTest, VerifyDetectsFlippedByte) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 1);
  std::string content = read_text(dir / "model.bin");
  content[2] ^= 0x01;
  write_text(dir / "model.bin", content);
  EXPECT_EQ(fs::file_size(dir / "model.bin"), 8u);  // same size: only the checksum can tell
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "file model.bin fails its checksum");
}

TEST_F(CheckpointStoreTest, VerifyDetectsMissingFile) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 1);
  fs::remove(dir / "streams-rank0.bin");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "file streams-rank0.bin is missing");
}

TEST_F(CheckpointStoreTest, VerifyDetectsMissingDone) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 1);
  fs::remove(dir / "DONE");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "no DONE marker");
}

TEST_F(CheckpointStoreTest, VerifyDetectsMissingOrCorruptManifest) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 1);
  const std::string good = read_text(dir / "MANIFEST.json");

  write_text(dir / "MANIFEST.json", good.substr(0, good.size() / 2));
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "MANIFEST.json is corrupt");
  write_text(dir / "MANIFEST.json", R"({"step": 1, "files": [1, 2]})");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "MANIFEST.json is corrupt");
  write_text(dir / "MANIFEST.json", R"({"step": 1, "files": {"model.bin": {"size": -1, "sha256": "x"}}})");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "MANIFEST.json is corrupt");
  // A name that escapes the directory would let the manifest vouch for files elsewhere.
  write_text(dir / "MANIFEST.json", R"({"step": 1, "files": {"../x": {"size": 0, "sha256": "x"}}})");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "MANIFEST.json is corrupt");

  fs::remove(dir / "MANIFEST.json");
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "no MANIFEST.json");

  write_text(dir / "MANIFEST.json", good);
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "");
}

TEST_F(CheckpointStoreTest, VerifyOfMissingDirectoryReportsInsteadOfThrowing) {
  std::string reason;
  EXPECT_NO_THROW(reason = CheckpointStore::verify((run_dir_ / "nowhere").string()));
  EXPECT_NE(reason, "");
}

TEST_F(CheckpointStoreTest, NewestValidFallsBackAndLogsSkipped) {
  CheckpointStore store(run_dir_.string());
  std::ostringstream log;
  EXPECT_FALSE(store.newest_valid(log).has_value());

  save(store, 100);
  const std::string second = save(store, 200);
  const std::string third = save(store, 300);
  write_text(fs::path(third) / "model.bin", "garbage!!!");  // same size, other bytes

  const auto newest = store.newest_valid(log);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->step, 200);
  EXPECT_EQ(newest->path, second);
  EXPECT_EQ(log.str(),
            "chorus: skipping checkpoint " + third + ": file model.bin fails its checksum\n");

  fs::remove(fs::path(second) / "streams-rank0.bin");
  std::ostringstream log2;
  EXPECT_EQ(store.newest_valid(log2)->step, 100);
  EXPECT_NE(log2.str().find(third), std::string::npos);
  EXPECT_NE(log2.str().find(second + ": file streams-rank0.bin is missing"), std::string::npos);
}

TEST_F(CheckpointStoreTest, PruneKeepsNewestAndBestAndRemovesStaleStaging) {
  CheckpointStore store(run_dir_.string());
  for (int64_t step : {100, 200, 300, 400, 500}) save(store, step);
  store.mark_best(200, 1.5);
  store.begin(600);  // a crashed save's staging directory
  const fs::path unfinished = fs::path(store.root()) / "step-00000050";
  fs::create_directories(unfinished);

  store.prune(2);
  EXPECT_EQ(steps_of(store.complete()), (std::vector<int64_t>{200, 400, 500}));
  EXPECT_FALSE(fs::exists(store.staging_path(600)));
  EXPECT_FALSE(any_tmp(store));
  EXPECT_TRUE(fs::exists(unfinished));  // never counts, but is not ours to delete
  EXPECT_EQ(store.best()->step, 200);

  store.mark_best(500, 1.0);
  store.prune(2);
  EXPECT_EQ(steps_of(store.complete()), (std::vector<int64_t>{400, 500}));
  store.prune(5);
  EXPECT_EQ(steps_of(store.complete()), (std::vector<int64_t>{400, 500}));
  EXPECT_THROW(store.prune(0), std::invalid_argument);
}

TEST_F(CheckpointStoreTest, MarkBestAndBest) {
  CheckpointStore store(run_dir_.string());
  EXPECT_FALSE(store.best().has_value());
  EXPECT_FALSE(store.best_metric().has_value());

  save(store, 100);
  const std::string second = save(store, 200);
  store.mark_best(100, 2.5);
  EXPECT_EQ(store.best()->step, 100);
  EXPECT_DOUBLE_EQ(*store.best_metric(), 2.5);
  store.mark_best(200, 2.25);
  EXPECT_EQ(store.best()->step, 200);
  EXPECT_EQ(store.best()->path, second);
  EXPECT_DOUBLE_EQ(*store.best_metric(), 2.25);
  const auto marker = nlohmann::json::parse(read_text(fs::path(store.root()) / "best.json"));
  EXPECT_EQ(marker["step"], 200);
  EXPECT_FALSE(fs::exists(fs::path(store.root()) / "best.json.tmp"));

  fs::remove(fs::path(second) / "DONE");  // no longer complete
  EXPECT_FALSE(store.best().has_value());
  fs::remove_all(second);
  EXPECT_FALSE(store.best().has_value());
  EXPECT_FALSE(store.best_metric().has_value());
}

TEST_F(CheckpointStoreTest, ResolveCheckpointDirectory) {
  CheckpointStore store(run_dir_.string());
  const std::string dir = save(store, 100);
  std::ostringstream log;
  EXPECT_EQ(CheckpointStore::resolve(dir, log), dir);
}

TEST_F(CheckpointStoreTest, ResolveRunDirectoryPrefersBestThenNewest) {
  CheckpointStore store(run_dir_.string());
  const std::string first = save(store, 100);
  const std::string second = save(store, 200);
  const std::string third = save(store, 300);
  std::ostringstream log;
  EXPECT_EQ(CheckpointStore::resolve(run_dir_.string(), log), third);  // no best: newest
  store.mark_best(100, 0.5);
  EXPECT_EQ(CheckpointStore::resolve(run_dir_.string(), log), first);
  EXPECT_EQ(log.str(), "");

  fs::resize_file(fs::path(first) / "model.bin", 1);  // best damaged: newest valid instead
  fs::remove(fs::path(third) / "DONE");               // newest incomplete: not even considered
  EXPECT_EQ(CheckpointStore::resolve(run_dir_.string(), log), second);
  EXPECT_NE(log.str().find("chorus: skipping checkpoint " + first), std::string::npos);
}

TEST_F(CheckpointStoreTest, ResolveRejectsCorruptCheckpointDirectory) {
  CheckpointStore store(run_dir_.string());
  const std::string dir = save(store, 100);
  save(store, 50);
  fs::remove(fs::path(dir) / "model.bin");
  std::ostringstream log;
  try {
    CheckpointStore::resolve(dir, log);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": checkpoint is not valid: file model.bin is missing");
  }
  // A manifest without DONE is a checkpoint directory too, just an unfinished one.
  fs::remove(fs::path(dir) / "DONE");
  EXPECT_THROW(CheckpointStore::resolve(dir, log), InputError);
}

TEST_F(CheckpointStoreTest, ResolveRejectsMissingPathAndEmptyRunDirectory) {
  std::ostringstream log;
  const std::string missing = (run_dir_ / "no-such-run").string();
  try {
    CheckpointStore::resolve(missing, log);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
  }
  try {
    CheckpointStore::resolve(run_dir_.string(), log);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              run_dir_.string() + ": no valid checkpoint (neither a checkpoint directory nor a "
                                  "run directory holding one)");
  }
}

TEST_F(CheckpointStoreTest, CommitReplacesExistingCheckpointOfSameStep) {
  CheckpointStore store(run_dir_.string());
  const fs::path dir = save(store, 100, "old");
  write_text(dir / "stray.bin", "only in the old one");

  const fs::path staging = store.begin(100);
  write_text(staging / "model.bin", "new");
  EXPECT_EQ(store.commit(100, {{"attempt", 2}}), dir.string());

  EXPECT_EQ(read_text(dir / "model.bin"), "new");
  EXPECT_FALSE(fs::exists(dir / "stray.bin"));
  EXPECT_FALSE(fs::exists(dir / "streams-rank0.bin"));
  EXPECT_EQ(CheckpointStore::verify(dir.string()), "");
  EXPECT_EQ(nlohmann::json::parse(read_text(dir / "MANIFEST.json"))["meta"]["attempt"], 2);
  EXPECT_EQ(steps_of(store.complete()), (std::vector<int64_t>{100}));
  EXPECT_FALSE(any_tmp(store));
}

}  // namespace
}  // namespace chorus
