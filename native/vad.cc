#include "vad.h"

#include <algorithm>
#include <cstring>

#include "log.h"
#include "whisper.h"

namespace durascribe {
namespace {

// Silence put between two pieces of speech, as whisper.cpp does, so the
// decoder hears a pause there.
constexpr int64_t kGapSamples = WHISPER_SAMPLE_RATE / 10;

int64_t CsToSamples(float cs, int64_t count) {
  const auto s = static_cast<int64_t>(cs / 100.0 * WHISPER_SAMPLE_RATE + 0.5);
  return std::clamp<int64_t>(s, 0, count);
}

struct VadContext {
  whisper_vad_context* ctx = nullptr;
  ~VadContext() {
    if (ctx != nullptr) whisper_vad_free(ctx);
  }
};

struct Segments {
  whisper_vad_segments* list = nullptr;
  ~Segments() {
    if (list != nullptr) whisper_vad_free_segments(list);
  }
};

}  // namespace

bool SpeechAudio::Find(const RunOptions& options, const float* samples,
                       size_t count, std::string& error,
                       std::string& errorCode) {
  whisper_vad_context_params cparams = whisper_vad_default_context_params();
  // The Silero graph is small: one thread spends no time waiting on others.
  cparams.n_threads = 1;
  cparams.use_gpu = false;
  ClearCapturedErrors();
  VadContext vad{whisper_vad_init_from_file_with_params(
      options.vadModelPath.c_str(), cparams)};
  if (vad.ctx == nullptr) {
    errorCode = "E_VAD_MODEL_INVALID";
    error = "cannot load VAD model " + options.vadModelPath + ": " +
            CapturedErrors();
    return false;
  }

  Segments found{whisper_vad_segments_from_samples(
      vad.ctx, options.vadParams, samples, static_cast<int>(count))};
  if (found.list == nullptr) {
    errorCode = "E_WHISPER_FAILED";
    error = "voice activity detection failed: " + CapturedErrors();
    return false;
  }

  const int n = whisper_vad_segments_n_segments(found.list);
  const auto total = static_cast<int64_t>(count);
  const auto overlap = static_cast<int64_t>(options.vadParams.samples_overlap *
                                            WHISPER_SAMPLE_RATE);
  for (int i = 0; i < n; ++i) {
    const int64_t start = CsToSamples(
        whisper_vad_segments_get_segment_t0(found.list, i), total);
    int64_t end = CsToSamples(
        whisper_vad_segments_get_segment_t1(found.list, i), total);
    // A little of what follows each piece, so no word is cut at its end.
    if (i + 1 < n) end = std::min(end + overlap, total);
    if (end <= start) continue;

    if (!pieces_.empty()) samples_.resize(samples_.size() + kGapSamples, 0.f);
    pieces_.push_back(
        Piece{static_cast<int64_t>(samples_.size()), start, end - start});
    samples_.insert(samples_.end(), samples + start, samples + end);
  }
  return true;
}

double SpeechAudio::ToOriginalSeconds(int64_t cs) const {
  const int64_t at = cs * WHISPER_SAMPLE_RATE / 100;
  // The last piece starting at or before `at`.
  auto it = std::upper_bound(
      pieces_.begin(), pieces_.end(), at,
      [](int64_t t, const Piece& p) { return t < p.joinedStart; });
  if (it == pieces_.begin()) {
    return pieces_.empty() ? cs / 100.0
                           : static_cast<double>(pieces_.front().originalStart) /
                                 WHISPER_SAMPLE_RATE;
  }
  const Piece& p = *(it - 1);
  const int64_t into = std::min(at - p.joinedStart, p.length);
  return static_cast<double>(p.originalStart + into) / WHISPER_SAMPLE_RATE;
}

std::vector<std::pair<double, double>> SpeechAudio::Spans() const {
  std::vector<std::pair<double, double>> spans;
  spans.reserve(pieces_.size());
  for (const Piece& p : pieces_) {
    spans.emplace_back(
        static_cast<double>(p.originalStart) / WHISPER_SAMPLE_RATE,
        static_cast<double>(p.originalStart + p.length) / WHISPER_SAMPLE_RATE);
  }
  return spans;
}

}  // namespace durascribe
