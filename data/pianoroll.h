// Piano-roll frames (88 keys, MIDI notes 21..108) and the benchmark text format
// (shared/data/PIANOROLL_FORMAT.md): one line per frame, "-" for silence, an empty line ends a song.
#pragma once
#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chorus {

inline constexpr int kKeys = 88;
inline constexpr int kLowestNote = 21;                        // A0: key 0
inline constexpr int kHighestNote = kLowestNote + kKeys - 1;  // C8: key 87
inline constexpr int kPackedFrameBytes = kKeys / 8;           // 11

// One time step: bit k set = MIDI note 21+k sounds.
using Frame = std::bitset<kKeys>;
// The on-disk form: key k at byte k/8, bit k%8 (LSB first). All 88 bits are used, no padding.
using PackedFrame = std::array<uint8_t, kPackedFrameBytes>;

inline bool is_piano_note(int note) { return note >= kLowestNote && note <= kHighestNote; }

PackedFrame pack(const Frame& frame);
Frame unpack(const PackedFrame& packed);
// Appends 11 bytes per frame to `out`.
void pack_frames(const std::vector<Frame>& frames, std::vector<uint8_t>* out);
// Reads `n` frames of 11 bytes each.
std::vector<Frame> unpack_frames(const uint8_t* bytes, size_t n);

// Sum over frames of the keys that sound (the "active notes" of the data READMEs).
int64_t count_active(const std::vector<Frame>& frames);

// Called once per song, in file order.
using PianoRollSink = std::function<void(std::vector<Frame> song)>;
// Called once per song of a file that holds every split ("train", "valid" or "test").
using SplitSongSink = std::function<void(const std::string& split, std::vector<Frame> song)>;

// Reads a piano-roll text file and hands each song to `sink`; returns the number of songs.
// Rules (data/README.md "Piano-roll text"): tokens are separated by spaces or tabs, a trailing
// '\r' is ignored; a frame lists notes in any order (a repeated note counts once); "-" alone is a
// silent frame. InputError "FILE:LINE: ..." for a token that is not a decimal number, a note outside
// 21..108, "-" mixed with notes, a line of only blanks, or an empty song (two empty lines in a row).
// A last song without its closing empty line is tolerated (editors strip it); an empty file has
// zero songs. A missing file is an InputError naming it.
int64_t read_pianoroll_text(const std::string& path, const PianoRollSink& sink);

// The text form of `songs` (each song's frames, then one empty line), as read_pianoroll_text reads it.
std::string format_pianoroll_text(const std::vector<std::vector<Frame>>& songs);

}  // namespace chorus
