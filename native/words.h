// Words from whisper.cpp's token-level timestamps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "whisper.h"

namespace durascribe {

// One word of a segment. Times in seconds from the start of the media.
struct Word {
  double start = 0;
  double end = 0;
  std::string text;
  // Mean probability of the word's tokens.
  double probability = 0;
};

// One segment of a run's result. Times in seconds.
struct Segment {
  double start = 0;
  double end = 0;
  std::string text;
  std::vector<Word> words;
};

// Maps a whisper.cpp time (centiseconds into the audio it was given) to
// seconds into the original audio.
using TimeMap = std::function<double(int64_t)>;

// Builds the words of segment i from its tokens: a token that starts with a
// space starts a word, one that does not continues the current word, and
// special tokens (id >= eot) are skipped. Word times stay inside the
// segment's [start, end].
std::vector<Word> BuildWords(whisper_context* ctx, int i, const Segment& seg,
                             const TimeMap& toSeconds);

}  // namespace durascribe
