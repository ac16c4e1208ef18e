// Split lookup shared by the corpus readers: a missing split is an InputError listing the ones the
// file has.
#include "data/song_source.h"

#include "data/errors.h"

namespace chorus {

bool SongSource::has_split(const std::string& split) const {
  for (const auto& s : splits_) {
    if (s.name == split) return true;
  }
  return false;
}

const SplitIndex& SongSource::split(const std::string& split) const {
  for (const auto& s : splits_) {
    if (s.name == split) return s;
  }
  std::string have;
  for (const auto& s : splits_) have += (have.empty() ? "" : ", ") + s.name;
  throw InputError(path_ + ": no split \"" + split + "\" (the file has: " + have + ")");
}

}  // namespace chorus
