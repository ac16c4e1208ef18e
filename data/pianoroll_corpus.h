// The piano-roll corpus in HDF5: schema (format "chorus-pianoroll", version 1), writer and reader.
// Schema (documented in data/README.md; every dataset readable with h5dump / h5py):
//   /                 attrs: format="chorus-pianoroll", version=1 (int32), keys=88, lowest_note=21,
//                            highest_note=108 (int32), time_unit ("quarter" | "second" | "unknown"),
//                            frames_per_quarter (int32, 0 unless "quarter"),
//                            seconds_per_frame (float64, 0 unless "second"),
//                            source, source_kind ("midi" | "text"), options (JSON text), created
//   /<split>/frames   uint8 [N, 11]  packed frames of the split's songs, concatenated:
//                                    key k (note 21+k) = byte k/8, bit k%8 (LSB first)
//   /<split>/offsets  int64 [S+1]    song i is frames[offsets[i], offsets[i+1])
//   /<split>/names    vlen UTF-8 [S] song name (the MIDI file name; "" where the source has none)
// splits: "train", "valid", "test" (all written; a split may hold zero songs).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/song_source.h"
#include "data/pianoroll.h"

namespace chorus {

class CorpusFileWriter;

inline constexpr const char* kPianoRollFormat = "chorus-pianoroll";
inline constexpr int kPianoRollFormatVersion = 1;

// What one frame means in time. At most one field is non-zero; both zero = unknown (the source's
// own sampling, as in the benchmark text files, whose step is not recorded).
struct PianoRollResolution {
  int frames_per_quarter = 0;    // > 0: a musical grid
  double seconds_per_frame = 0;  // > 0: a wall-clock grid
  std::string time_unit() const;  // "quarter", "second" or "unknown"
};

// Read access. Opening checks format, version, key range and structure (frames is N x 11 uint8;
// per split offsets has S+1 entries from 0, never decreasing, ending at N; S names) and throws
// InputError with a hint on a mismatch. Songs are read one hyperslab each.
// split(name) returns the lyrics corpus's SplitIndex (artist ids all 0, symbols() = frames).
class PianoRollReader : public SongSource {
 public:
  explicit PianoRollReader(const std::string& path);
  ~PianoRollReader();
  PianoRollReader(const PianoRollReader&) = delete;
  PianoRollReader& operator=(const PianoRollReader&) = delete;

  const PianoRollResolution& resolution() const { return resolution_; }
  int64_t width() const override { return kKeys; }
  bool predicts_end() const override { return false; }
  // The song's frames unpacked: one 0/1 value per key.
  void read(const std::string& split, int64_t song, SongData* out) const override;
  // Frames of one song (one hyperslab read). std::out_of_range for a bad index.
  std::vector<Frame> read_song(const std::string& split, int64_t song) const;
  std::string name(const std::string& split, int64_t song) const;
  // Frames read from disk so far (tests check that a rank reads only its shard).
  int64_t frames_read() const { return frames_read_; }
  // format, version, provenance, resolution, key range, per-split songs and frames.
  nlohmann::json info() const;

 private:
  struct Handle;
  std::unique_ptr<Handle> h5_;
  PianoRollResolution resolution_;
  nlohmann::json attrs_;
  mutable int64_t frames_read_ = 0;
};

// Creates `path` (truncating); songs are appended in order per split; call commit() at the end.
// Destroying an uncommitted writer removes the file, so a failure never leaves a complete-looking file.
class PianoRollWriter {
 public:
  PianoRollWriter(const std::string& path, const PianoRollResolution& resolution,
                  const nlohmann::json& provenance /* source, source_kind, options, ... */);
  ~PianoRollWriter();
  void add_song(const std::string& split, const std::string& name, const std::vector<Frame>& frames);
  // The same for a song already packed (pack_frames: `frames` x 11 bytes).
  void add_packed(const std::string& split, const std::string& name, const uint8_t* packed, int64_t frames);
  void commit();

 private:
  std::unique_ptr<CorpusFileWriter> file_;
  std::map<std::string, std::vector<std::string>> names_;  // per split: name of each song
};

}  // namespace chorus
