// libFuzzer target for the lyrics readers (data/lyrics_source.cpp, CSV through libcsv and fortune
// files) and the song normaliser behind them (data/text.cpp, UTF-8 decoding): any bytes must parse
// or throw InputError. Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>

#include "data/errors.h"
#include "data/lyrics_source.h"
#include "data/text.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = chorus::fuzz_file(data, size, ".lyrics");
  for (auto format : {chorus::LyricsFormat::kAuto, chorus::LyricsFormat::kCsv,
                      chorus::LyricsFormat::kFortune}) {
    try {
      chorus::read_lyrics(path, format, [&](const chorus::RawSong& song) {
        if (song.line < 1) __builtin_trap();
        const std::u32string text = chorus::normalise_song(song.text);
        if (text.size() > song.text.size()) __builtin_trap();  // one code point per byte at most
      });
    } catch (const chorus::InputError&) {
    }
  }
  return 0;
}
