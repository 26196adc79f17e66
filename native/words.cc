#include "words.h"

#include <algorithm>

namespace durascribe {
namespace {

struct RawWord {
  int64_t t0 = 0;  // centiseconds, as whisper.cpp gives them
  int64_t t1 = 0;
  std::string text;
  double pSum = 0;
  int tokens = 0;
};

std::vector<RawWord> GroupTokens(whisper_context* ctx, int i) {
  std::vector<RawWord> raw;
  const whisper_token eot = whisper_token_eot(ctx);
  const int n = whisper_full_n_tokens(ctx, i);
  for (int j = 0; j < n; ++j) {
    const whisper_token_data data = whisper_full_get_token_data(ctx, i, j);
    if (data.id >= eot) continue;
    const char* piece = whisper_token_to_str(ctx, data.id);
    if (piece == nullptr || *piece == '\0') continue;
    if (raw.empty() || *piece == ' ') {
      raw.push_back(RawWord{data.t0, data.t1, "", 0, 0});
    }
    RawWord& word = raw.back();
    word.text += piece;
    word.t1 = std::max(word.t1, data.t1);
    word.pSum += data.p;
    word.tokens += 1;
  }
  return raw;
}

}  // namespace

std::vector<Word> BuildWords(whisper_context* ctx, int i, const Segment& seg,
                             const TimeMap& toSeconds) {
  std::vector<Word> words;
  const double lo = seg.start;
  const double hi = std::max(seg.start, seg.end);
  for (const RawWord& r : GroupTokens(ctx, i)) {
    Word w;
    w.start = std::clamp(toSeconds(r.t0), lo, hi);
    w.end = std::clamp(toSeconds(r.t1), w.start, hi);
    w.text = r.text;
    w.probability = r.tokens > 0 ? r.pSum / r.tokens : 0;
    words.push_back(std::move(w));
  }
  return words;
}

}  // namespace durascribe
