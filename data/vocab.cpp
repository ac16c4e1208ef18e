// Vocab: code points <-> symbol ids (0 = end of song, 1 = unknown, 2.. = sorted code points).
// Invariant: ids depend only on the set of code points (sorted, deduplicated), so the same
// vocabulary written to HDF5 or vocab.json reads back with identical ids.
#include "data/vocab.h"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "data/errors.h"

namespace chorus {

Vocab::Vocab(std::vector<char32_t> code_points) : code_points_(std::move(code_points)) {
  std::sort(code_points_.begin(), code_points_.end());
  code_points_.erase(std::unique(code_points_.begin(), code_points_.end()), code_points_.end());
  if (code_points_.size() > kMaxVocabularyCodePoints) {
    throw InputError("a vocabulary of " + std::to_string(code_points_.size()) +
                     " distinct code points is over the limit of " +
                     std::to_string(kMaxVocabularyCodePoints) + " (is the input really text?)");
  }
  ids_.reserve(code_points_.size());
  for (size_t i = 0; i < code_points_.size(); ++i) {
    ids_.emplace(code_points_[i], static_cast<int32_t>(i) + kFirstCodePoint);
  }
}

int32_t Vocab::id(char32_t code_point) const {
  auto it = ids_.find(code_point);
  return it == ids_.end() ? kUnknown : it->second;
}

char32_t Vocab::code_point(int32_t id) const {
  if (id == kEndOfSong) return 0;
  if (id >= kFirstCodePoint && id < size()) return code_points_[id - kFirstCodePoint];
  return 0xFFFD;  // kUnknown, and any id outside the vocabulary
}

nlohmann::json Vocab::to_json() const {
  nlohmann::json cps = nlohmann::json::array();
  for (char32_t c : code_points_) cps.push_back(static_cast<uint32_t>(c));
  return nlohmann::json{{"code_points", cps}};
}

Vocab Vocab::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("code_points") || !j["code_points"].is_array()) {
    throw InputError("vocabulary: expected an object with an array \"code_points\"");
  }
  std::vector<char32_t> cps;
  const auto& arr = j["code_points"];
  for (size_t i = 0; i < arr.size(); ++i) {
    const auto& v = arr[i];
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 0x10FFFF) {
      throw InputError("vocabulary: code_points[" + std::to_string(i) +
                       "] is not a Unicode code point (0..0x10FFFF)");
    }
    cps.push_back(static_cast<char32_t>(v.get<uint64_t>()));
  }
  // Ids are positions: an unsorted or duplicated list would silently renumber the symbols.
  if (!std::is_sorted(cps.begin(), cps.end()) ||
      std::adjacent_find(cps.begin(), cps.end()) != cps.end()) {
    throw InputError("vocabulary: code_points must be strictly ascending");
  }
  return Vocab(std::move(cps));
}

}  // namespace chorus
