#include "model_check.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

namespace durascribe {
namespace {

constexpr uint32_t kGgmlMagic = 0x67676d6c;  // "lmgg" on disk
constexpr int32_t kMaxVocab = 1 << 20;
constexpr uint32_t kMaxTokenBytes = 1 << 16;

// Reads forward through the file, refusing to go past its end (a seek past
// the end of an ifstream does not fail by itself).
struct Reader {
  std::ifstream in;
  uint64_t size = 0;
  uint64_t pos = 0;

  bool Read(void* out, size_t n) {
    if (pos + n > size) return false;
    in.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    pos += n;
    return static_cast<size_t>(in.gcount()) == n;
  }
  bool Skip(uint64_t n) {
    if (pos + n > size) return false;
    pos += n;
    in.seekg(static_cast<std::streamoff>(pos), std::ios::beg);
    return static_cast<bool>(in);
  }
};

bool InRange(int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; }

std::string CheckHparams(const int32_t h[11]) {
  static const char* const kNames[] = {
      "n_vocab",     "n_audio_ctx",  "n_audio_state", "n_audio_head",
      "n_audio_layer", "n_text_ctx", "n_text_state",  "n_text_head",
      "n_text_layer", "n_mels",      "ftype"};
  static const int32_t kMax[] = {kMaxVocab, 1 << 16, 1 << 14, 1024, 1024,
                                 1 << 16,   1 << 14, 1024,    1024, 1024,
                                 1 << 20};
  for (int i = 0; i < 10; ++i) {
    if (!InRange(h[i], 1, kMax[i])) {
      return std::string("implausible ") + kNames[i] + " " +
             std::to_string(h[i]);
    }
  }
  if (!InRange(h[10], 0, kMax[10])) {
    return "implausible ftype " + std::to_string(h[10]);
  }
  if (h[2] != h[6]) return "n_audio_state differs from n_text_state";
  return "";
}

std::string CheckBody(Reader& r, int32_t n_vocab) {
  int32_t mel[2];
  if (!r.Read(mel, sizeof mel)) return "truncated before the mel filters";
  if (!InRange(mel[0], 1, 1024) || !InRange(mel[1], 1, 4096)) {
    return "implausible mel filter size " + std::to_string(mel[0]) + "x" +
           std::to_string(mel[1]);
  }
  if (!r.Skip(uint64_t(mel[0]) * uint64_t(mel[1]) * 4)) {
    return "truncated inside the mel filters";
  }

  int32_t count = 0;
  if (!r.Read(&count, sizeof count)) return "truncated before the vocabulary";
  if (!InRange(count, 0, n_vocab)) {
    return "vocabulary of " + std::to_string(count) + " tokens for n_vocab " +
           std::to_string(n_vocab);
  }
  for (int32_t i = 0; i < count; ++i) {
    uint32_t len = 0;
    if (!r.Read(&len, sizeof len) || len > kMaxTokenBytes || !r.Skip(len)) {
      return "truncated or corrupt vocabulary at token " + std::to_string(i);
    }
  }
  return "";
}

}  // namespace

std::string CheckModelFile(const std::string& path) {
  Reader r{std::ifstream(path, std::ios::binary | std::ios::ate)};
  if (!r.in) return std::string("cannot open it: ") + std::strerror(errno);
  r.size = static_cast<uint64_t>(r.in.tellg());
  r.in.seekg(0, std::ios::beg);

  uint32_t magic = 0;
  int32_t hparams[11];
  if (!r.Read(&magic, sizeof magic)) return "the file is empty";
  if (magic != kGgmlMagic) {
    if (std::memcmp(&magic, "GGUF", 4) == 0) {
      return "it is a GGUF file, not a whisper.cpp ggml model";
    }
    return "it is not a whisper.cpp ggml model (bad magic)";
  }
  if (!r.Read(hparams, sizeof hparams)) return "truncated inside the header";

  std::string bad = CheckHparams(hparams);
  if (!bad.empty()) return bad;
  return CheckBody(r, hparams[0]);
}

}  // namespace durascribe
