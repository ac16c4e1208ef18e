// Small fixtures the tests generate for themselves: temporary directories and synthetic corpora.
#pragma once
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/corpus.h"
#include "data/pianoroll_corpus.h"

#include "trainer/config/config.h"

namespace chorus {
// gtest prints the choices that parameterise tests by their YAML names.
inline void PrintTo(RecurrenceKind value, std::ostream* os) { *os << name_of(value); }
inline void PrintTo(SampleMethod value, std::ostream* os) { *os << name_of(value); }
inline void PrintTo(ModelKind value, std::ostream* os) { *os << name_of(value); }
}  // namespace chorus

namespace chorus::testing {

// Loss curves equal up to `rel` (relative to b), step by step.
inline void expect_close(const std::vector<double>& a, const std::vector<double>& b, double rel) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_LE(std::abs(a[i] - b[i]), rel * std::abs(b[i]))
        << "step " << i + 1 << ": " << a[i] << " vs " << b[i];
}

inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = ::testing::TempDir() + "chorus_" + tag + "_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

// A test with its own scratch directory, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("test"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Writes `content` to dir_/name (bytes as given) and returns the path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

// A corpus of `songs` training songs (and `valid_songs` valid songs) of varied lengths over a
// 12-letter alphabet with some structure (repeated words), artists cycling over 3 names.
inline std::string write_fixture_corpus(const std::string& dir, int64_t songs = 24,
                                        int64_t valid_songs = 4, uint64_t seed = 7) {
  const std::u32string letters = U"abcdefgh \n.,";
  Vocab vocab(std::vector<char32_t>(letters.begin(), letters.end()));
  const std::vector<std::string> artists = {"Alpha", "Beta", "Gamma"};
  const std::string path = dir + "/fixture.h5";
  CorpusWriter writer(path, vocab, artists, {{"source", "fixture"}, {"source_sha256", ""},
                                             {"options", nlohmann::json::object()}});
  std::mt19937_64 engine(seed);
  const std::vector<std::string> words = {"abc", "bad", "cafe", "head", "gag", "fed"};
  auto make_song = [&](int64_t i) {
    std::vector<int32_t> s;
    const int64_t n_words = 5 + static_cast<int64_t>(engine() % 40);
    for (int64_t w = 0; w < n_words; ++w) {
      for (char ch : words[(engine() + i) % words.size()]) s.push_back(vocab.id(char32_t(ch)));
      s.push_back(vocab.id(w % 6 == 5 ? U'\n' : U' '));
    }
    return s;
  };
  for (int64_t i = 0; i < songs; ++i)
    writer.add_song("train", static_cast<int32_t>(i % 3), "song " + std::to_string(i), make_song(i));
  for (int64_t i = 0; i < valid_songs; ++i)
    writer.add_song("valid", static_cast<int32_t>(i % 3), "valid " + std::to_string(i), make_song(i));
  writer.commit();
  return path;
}

// A piano-roll corpus of `songs` training and `valid_songs` valid songs of 20..80 frames: a
// walking three-note chord, so there is something to learn. Grid: 4 frames per quarter.
inline std::string write_fixture_pianoroll(const std::string& dir, int64_t songs = 16,
                                           int64_t valid_songs = 3, uint64_t seed = 5) {
  const std::string path = dir + "/fixture-rolls.h5";
  PianoRollResolution resolution;
  resolution.frames_per_quarter = 4;
  PianoRollWriter writer(path, resolution, {{"source", "fixture"}, {"source_kind", "text"},
                                            {"options", "{}"}});
  std::mt19937_64 engine(seed);
  auto make_song = [&]() {
    std::vector<Frame> frames(20 + engine() % 61);
    int root = 30 + static_cast<int>(engine() % 20);
    for (size_t t = 0; t < frames.size(); ++t) {
      if (t % 4 == 0) root = 30 + (root - 30 + 5) % 24;
      for (int offset : {0, 4, 7}) frames[t][root + offset] = true;
    }
    return frames;
  };
  for (int64_t i = 0; i < songs; ++i) writer.add_song("train", "song " + std::to_string(i), make_song());
  for (int64_t i = 0; i < valid_songs; ++i) writer.add_song("valid", "valid " + std::to_string(i), make_song());
  writer.commit();
  return path;
}

}  // namespace chorus::testing
