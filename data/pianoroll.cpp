// Piano-roll frames: packing into 11 bytes and the benchmark text format reader/writer.
// Invariant: key k <-> MIDI note 21+k <-> byte k/8, bit k%8, everywhere; a text file is either
// read completely as written or rejected with FILE:LINE (a note is never silently dropped).
#include "data/pianoroll.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "data/errors.h"
#include "data/limits.h"

namespace chorus {

// Key k at byte k/8, bit k%8 is the little-endian byte order of the 88-bit number whose bit k is
// key k: two machine words of the bitset, not 88 bit tests (packing was a fifth of the time of
// preparing a large MIDI collection, on the thread that writes).
PackedFrame pack(const Frame& frame) {
  static const Frame kLow64 = Frame().set() >> (kKeys - 64);
  const uint64_t lo = (frame & kLow64).to_ullong(), hi = (frame >> 64).to_ullong();
  PackedFrame out{};
  for (int b = 0; b < 8; ++b) out[b] = static_cast<uint8_t>(lo >> (8 * b));
  for (int b = 0; b < kPackedFrameBytes - 8; ++b) out[8 + b] = static_cast<uint8_t>(hi >> (8 * b));
  return out;
}

Frame unpack(const PackedFrame& packed) {
  uint64_t lo = 0, hi = 0;
  for (int b = 0; b < 8; ++b) lo |= uint64_t{packed[b]} << (8 * b);
  for (int b = 0; b < kPackedFrameBytes - 8; ++b) hi |= uint64_t{packed[8 + b]} << (8 * b);
  return Frame(lo) | (Frame(hi) << 64);
}

void pack_frames(const std::vector<Frame>& frames, std::vector<uint8_t>* out) {
  out->reserve(out->size() + frames.size() * kPackedFrameBytes);
  for (const Frame& f : frames) {
    const PackedFrame p = pack(f);
    out->insert(out->end(), p.begin(), p.end());
  }
}

std::vector<Frame> unpack_frames(const uint8_t* bytes, size_t n) {
  std::vector<Frame> out(n);
  for (size_t i = 0; i < n; ++i) {
    PackedFrame p;
    std::copy(bytes + i * kPackedFrameBytes, bytes + (i + 1) * kPackedFrameBytes, p.begin());
    out[i] = unpack(p);
  }
  return out;
}

int64_t count_active(const std::vector<Frame>& frames) {
  int64_t n = 0;
  for (const Frame& f : frames) n += static_cast<int64_t>(f.count());
  return n;
}

int64_t read_pianoroll_text(const std::string& path, const PianoRollSink& sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open piano-roll text file");
  std::vector<Frame> song;
  int64_t songs = 0, line_no = 0;
  bool previous_empty = false;
  std::vector<char> buffer(kMaxPianoRollLineBytes + 1);
  while (true) {
    in.getline(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.eof() && in.gcount() == 0) break;
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (in.fail() && !in.eof()) {
      throw InputError(where + "line longer than " + std::to_string(kMaxPianoRollLineBytes) +
                       " bytes (a frame lists at most 88 notes): not piano-roll text?");
    }
    // gcount counts the newline it consumed; a last line without one has none.
    std::string line(buffer.data(), static_cast<size_t>(in.gcount()) - (in.eof() ? 0 : 1));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (previous_empty || line_no == 1) {
        throw InputError(where + "empty song (an empty line must follow a frame; "
                         "exactly one empty line ends a song)");
      }
      sink(std::move(song));
      song.clear();
      ++songs;
      previous_empty = true;
      continue;
    }
    previous_empty = false;
    Frame frame;
    bool silent = false, any = false;
    size_t pos = 0;
    while (pos < line.size()) {
      if (line[pos] == ' ' || line[pos] == '\t') {
        ++pos;
        continue;
      }
      size_t end = line.find_first_of(" \t", pos);
      if (end == std::string::npos) end = line.size();
      const std::string token = line.substr(pos, end - pos);
      pos = end;
      if (token == "-") {
        if (any || silent) throw InputError(where + "\"-\" (silent frame) must stand alone on its line");
        silent = true;
        continue;
      }
      if (silent) throw InputError(where + "\"-\" (silent frame) must stand alone on its line");
      int note = 0;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), note);
      if (ec != std::errc() || ptr != token.data() + token.size()) {
        throw InputError(where + "\"" + token + "\" is not a MIDI note number");
      }
      if (!is_piano_note(note)) {
        throw InputError(where + "note " + token + " is outside the piano range " +
                         std::to_string(kLowestNote) + ".." + std::to_string(kHighestNote));
      }
      frame.set(static_cast<size_t>(note - kLowestNote));
      any = true;
    }
    if (!any && !silent) throw InputError(where + "line holds only blanks (use \"-\" for a silent frame)");
    if (static_cast<int64_t>(song.size()) >= kMaxSongLength) {
      throw InputError(where + "a song longer than " + std::to_string(kMaxSongLength) +
                       " frames (is an empty line missing between songs?)");
    }
    song.push_back(frame);
  }
  if (in.bad()) throw InputError(path + ": read error");
  if (!song.empty()) {  // the last song's closing empty line is missing: tolerated
    sink(std::move(song));
    ++songs;
  }
  return songs;
}

std::string format_pianoroll_text(const std::vector<std::vector<Frame>>& songs) {
  std::ostringstream out;
  for (const auto& song : songs) {
    if (song.empty()) throw std::invalid_argument("format_pianoroll_text: a song needs a frame");
    for (const Frame& f : song) {
      if (f.none()) {
        out << "-\n";
        continue;
      }
      bool first = true;
      for (int k = 0; k < kKeys; ++k) {
        if (!f[k]) continue;
        out << (first ? "" : " ") << (k + kLowestNote);
        first = false;
      }
      out << "\n";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace chorus
