// Silero voice activity detection before whisper: the speech pieces of the
// audio joined with short silences, and the way back from a time in that
// joined audio to the original. whisper.cpp's built-in VAD (params.vad)
// is not used: it always runs on 4 threads, keeps the first VAD model it
// loaded for the life of the context, and maps only segment times back,
// not token times.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "options.h"

namespace durascribe {

class SpeechAudio {
 public:
  // Runs VAD over `samples`. On failure returns false with `error` set
  // and `errorCode` E_VAD_MODEL_INVALID (the model did not load) or
  // E_WHISPER_FAILED (detection failed).
  bool Find(const RunOptions& options, const float* samples, size_t count,
            std::string& error, std::string& errorCode);

  // The speech, joined; empty when there is none.
  const std::vector<float>& Samples() const { return samples_; }

  // Seconds in the original audio for `cs` centiseconds into Samples().
  // A time inside a joining silence maps to the end of the piece before it.
  double ToOriginalSeconds(int64_t cs) const;

  // Where speech was found, as [start, end) seconds of the original audio.
  std::vector<std::pair<double, double>> Spans() const;

 private:
  struct Piece {
    int64_t joinedStart;    // sample index in samples_
    int64_t originalStart;  // sample index in the original audio
    int64_t length;         // samples
  };

  std::vector<float> samples_;
  std::vector<Piece> pieces_;
};

}  // namespace durascribe
