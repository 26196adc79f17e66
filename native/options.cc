#include "options.h"

#include <cstdio>

namespace durascribe {
namespace {

// whisper.cpp's WHISPER_MAX_DECODERS.
constexpr int kMaxBeam = 8;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

class Reader {
 public:
  Reader(Napi::Env env, Napi::Object obj) : env_(env), obj_(obj) {}

  bool Has(const char* key) const {
    Napi::Value v = obj_.Get(key);
    return !v.IsUndefined() && !v.IsNull();
  }

  std::string String(const char* key, const std::string& fallback) const {
    if (!Has(key)) return fallback;
    Napi::Value v = obj_.Get(key);
    if (!v.IsString()) Fail(key, "a string");
    return v.As<Napi::String>().Utf8Value();
  }

  bool Bool(const char* key, bool fallback) const {
    if (!Has(key)) return fallback;
    Napi::Value v = obj_.Get(key);
    if (!v.IsBoolean()) Fail(key, "a boolean");
    return v.As<Napi::Boolean>().Value();
  }

  double Number(const char* key, double fallback, double lo, double hi) const {
    if (!Has(key)) return fallback;
    Napi::Value v = obj_.Get(key);
    if (!v.IsNumber()) Fail(key, "a number");
    double n = v.As<Napi::Number>().DoubleValue();
    if (!(n >= lo && n <= hi)) {
      throw Napi::RangeError::New(
          env_, std::string("option ") + key + " must be between " +
                    Num(lo) + " and " + Num(hi));
    }
    return n;
  }

  int Int(const char* key, int fallback, int lo, int hi) const {
    double n = Number(key, fallback, lo, hi);
    if (n != static_cast<int>(n)) Fail(key, "an integer");
    return static_cast<int>(n);
  }

 private:
  [[noreturn]] void Fail(const char* key, const char* what) const {
    throw Napi::TypeError::New(env_,
                               std::string("option ") + key + " must be " + what);
  }

  Napi::Env env_;
  Napi::Object obj_;
};

void ReadVad(const Reader& r, RunOptions& o) {
  o.vad = r.Has("vadModelPath");
  if (!o.vad) return;
  o.vadModelPath = r.String("vadModelPath", "");
  whisper_vad_params& p = o.vadParams;
  p.threshold = static_cast<float>(r.Number("vadThreshold", p.threshold, 0, 1));
  p.min_speech_duration_ms =
      r.Int("vadMinSpeechMs", p.min_speech_duration_ms, 0, 600000);
  p.min_silence_duration_ms =
      r.Int("vadMinSilenceMs", p.min_silence_duration_ms, 0, 600000);
  p.speech_pad_ms = r.Int("vadSpeechPadMs", p.speech_pad_ms, 0, 60000);
  if (r.Has("vadMaxSpeechSeconds")) {
    p.max_speech_duration_s =
        static_cast<float>(r.Number("vadMaxSpeechSeconds", 0, 1, 86400));
  }
}

}  // namespace

RunOptions ReadRunOptions(Napi::Env env, const Napi::Value& value) {
  RunOptions o;
  if (value.IsUndefined() || value.IsNull()) return o;
  if (!value.IsObject()) {
    throw Napi::TypeError::New(env, "transcribe options must be an object");
  }
  Reader r(env, value.As<Napi::Object>());
  o.language = r.String("language", o.language);
  if (o.language.empty()) o.language = "auto";
  if (o.language != "auto" && whisper_lang_id(o.language.c_str()) < 0) {
    throw Napi::RangeError::New(env, "unknown language '" + o.language + "'");
  }
  o.threads = r.Int("threads", 0, 0, 1024);
  o.translate = r.Bool("translate", false);
  o.noContext = r.Bool("noContext", false);
  o.wordTimestamps = r.Bool("wordTimestamps", false);
  o.beamSize = r.Int("beamSize", 0, 0, kMaxBeam);
  o.hasPrompt = r.Has("prompt");
  o.prompt = r.String("prompt", "");
  ReadVad(r, o);
  return o;
}

whisper_full_params ToFullParams(const RunOptions& o, bool multilingual) {
  const bool beam = o.beamSize > 1;
  whisper_full_params p = whisper_full_default_params(
      beam ? WHISPER_SAMPLING_BEAM_SEARCH : WHISPER_SAMPLING_GREEDY);
  if (beam) p.beam_search.beam_size = o.beamSize;
  if (o.threads > 0) p.n_threads = o.threads;

  // Nothing of whisper.cpp's own goes to stdout or stderr.
  p.print_progress = false;
  p.print_realtime = false;
  p.print_special = false;
  p.print_timestamps = false;

  // no_context clears the text context left by the previous run on this
  // context; within a run, n_max_text_ctx decides whether windows see the
  // text before them.
  p.no_context = true;
  if (o.noContext) p.n_max_text_ctx = 0;

  // An English-only model can neither detect a language nor translate.
  p.language = multilingual ? o.language.c_str() : "en";
  p.translate = multilingual && o.translate;
  p.token_timestamps = o.wordTimestamps;
  if (o.hasPrompt) p.initial_prompt = o.prompt.c_str();
  // VAD runs before whisper_full, in vad.cc; never inside it.
  p.vad = false;
  return p;
}

}  // namespace durascribe
