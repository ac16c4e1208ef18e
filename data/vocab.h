// The symbol vocabulary of a lyrics corpus: id 0 = end of song, id 1 = unknown, then code points.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace chorus {

// The most code points a vocabulary may hold (a binary file read as lyrics, or a crafted corpus,
// must not make an output layer of millions of rows).
constexpr size_t kMaxVocabularyCodePoints = size_t{1} << 16;

class Vocab {
 public:
  static constexpr int32_t kEndOfSong = 0;
  static constexpr int32_t kUnknown = 1;
  static constexpr int32_t kFirstCodePoint = 2;

  Vocab() = default;
  // Ids 2.. are the given code points in ascending order (duplicates removed). InputError when
  // more than kMaxVocabularyCodePoints remain.
  explicit Vocab(std::vector<char32_t> code_points);

  int32_t size() const { return static_cast<int32_t>(code_points_.size()) + kFirstCodePoint; }
  // Id of a code point; kUnknown when it is not in the vocabulary.
  int32_t id(char32_t code_point) const;
  // Code point of an id >= kFirstCodePoint; U+FFFD for kUnknown; 0 for kEndOfSong.
  char32_t code_point(int32_t id) const;
  const std::vector<char32_t>& code_points() const { return code_points_; }
  bool operator==(const Vocab& other) const { return code_points_ == other.code_points_; }

  // {"code_points": [..]} — what checkpoints store as vocab.json next to the artist names.
  nlohmann::json to_json() const;
  static Vocab from_json(const nlohmann::json& j);

 private:
  std::vector<char32_t> code_points_;
  std::unordered_map<char32_t, int32_t> ids_;
};

}  // namespace chorus
