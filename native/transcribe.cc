#include "transcribe.h"

#include <chrono>
#include <exception>
#include <vector>

#include "log.h"
#include "options.h"
#include "vad.h"
#include "words.h"

namespace durascribe {
namespace {

// Under 100 ms whisper.cpp does nothing, and language detection on such a
// sliver fails; such audio has no speech to find.
constexpr size_t kMinSamples = WHISPER_SAMPLE_RATE / 10;

struct RunResult {
  std::vector<Segment> segments;
  std::string language;  // empty: nothing to detect it from
  double whisperMs = 0;
  bool haveTimings = false;
  whisper_timings timings{};
};

class TranscribeWorker : public Napi::AsyncProgressWorker<int> {
 public:
  TranscribeWorker(Napi::Env env, std::shared_ptr<ModelHandle> handle,
                   Napi::TypedArrayOf<float> pcm, RunOptions options,
                   Napi::Value onProgress)
      : Napi::AsyncProgressWorker<int>(env, "durascribe-whisper-transcribe"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(std::move(handle)),
        samples_(pcm.Data()),
        count_(pcm.ElementLength()),
        options_(std::move(options)) {
    // Holding the array keeps its memory in place while whisper reads it.
    pcm_ = Napi::Persistent(pcm);
    if (onProgress.IsFunction()) {
      onProgress_ = Napi::Persistent(onProgress.As<Napi::Function>());
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      Run(progress);
    } catch (const std::exception& e) {
      Fail("E_WHISPER_FAILED", std::string("whisper.cpp failed: ") + e.what());
    }
  }

  void OnProgress(const int* data, size_t count) override {
    if (count == 0 || onProgress_.IsEmpty()) return;
    try {
      onProgress_.Call({Napi::Number::New(Env(), data[count - 1] / 100.0)});
    } catch (const Napi::Error&) {
      // The JS wrapper catches its callback's errors; this is a last guard.
    }
  }

  void OnOK() override {
    handle_->busy = false;
    deferred_.Resolve(ToJs(Env()));
  }

  void OnError(const Napi::Error& error) override {
    handle_->busy = false;
    Napi::Error out = Napi::Error::New(Env(), error.Message());
    out.Set("code", Napi::String::New(Env(), code_));
    if (rc_ != 0) out.Set("whisperCode", Napi::Number::New(Env(), rc_));
    deferred_.Reject(out.Value());
  }

 private:
  struct Callbacks {
    const ExecutionProgress* progress;
    std::atomic<bool>* abort;
    int last;
  };

  static void OnWhisperProgress(whisper_context*, whisper_state*, int pct,
                                void* data) {
    auto* cb = static_cast<Callbacks*>(data);
    if (pct == cb->last) return;
    cb->last = pct;
    cb->progress->Send(&pct, 1);
  }

  // TODO: an abort takes effect between encoder passes and decoder steps,
  // not inside one: whisper.cpp 1.9.1 checks abort_callback only after each
  // scheduled graph and does not hand it to the CPU backend. One tiny
  // encoder pass is about 1 s on 2 cores, a large one far more. Fixing it
  // needs whisper.cpp to pass the callback to ggml_backend_sched's backends.
  static bool ShouldAbort(void* data) {
    return static_cast<Callbacks*>(data)->abort->load();
  }

  static bool OnEncoderBegin(whisper_context*, whisper_state*, void* data) {
    return !ShouldAbort(data);
  }

  void Fail(const char* code, const std::string& message) {
    code_ = code;
    SetError(message);
  }

  void Run(const ExecutionProgress& progress) {
    whisper_context* ctx = handle_->ctx;
    const bool multilingual = whisper_is_multilingual(ctx) != 0;
    const float* samples = samples_;
    size_t count = count_;
    if (count >= kMinSamples && options_.vad &&
        !KeepSpeechOnly(samples, count)) {
      return;
    }
    if (FailIfAborted()) return;
    if (count < kMinSamples) {
      result_.language = FixedLanguage(multilingual);
      return;
    }
    if (!RunWhisper(ctx, multilingual, progress, samples, count)) return;
    Collect(ctx, multilingual);
  }

  // Points samples/count at the speech VAD finds; false when it failed.
  bool KeepSpeechOnly(const float*& samples, size_t& count) {
    std::string error;
    std::string code;
    if (!speech_.Find(options_, samples_, count_, error, code)) {
      Fail(code.c_str(), error);
      return false;
    }
    samples = speech_.Samples().data();
    count = speech_.Samples().size();
    return true;
  }

  bool FailIfAborted() {
    if (!handle_->abort.load()) return false;
    Fail("E_WHISPER_ABORTED", "the transcription was aborted");
    return true;
  }

  bool RunWhisper(whisper_context* ctx, bool multilingual,
                  const ExecutionProgress& progress, const float* samples,
                  size_t count) {
    Callbacks cb{&progress, &handle_->abort, -1};
    whisper_full_params params = ToFullParams(options_, multilingual);
    params.progress_callback = OnWhisperProgress;
    params.progress_callback_user_data = &cb;
    params.abort_callback = ShouldAbort;
    params.abort_callback_user_data = &cb;
    params.encoder_begin_callback = OnEncoderBegin;
    params.encoder_begin_callback_user_data = &cb;

    ClearCapturedErrors();
    whisper_reset_timings(ctx);
    const auto start = std::chrono::steady_clock::now();
    rc_ = whisper_full(ctx, params, samples, static_cast<int>(count));
    const std::chrono::duration<double, std::milli> took =
        std::chrono::steady_clock::now() - start;
    result_.whisperMs = took.count();

    // An abort can also end the run early with rc 0 (encoder_begin).
    if (FailIfAborted()) return false;
    if (rc_ != 0) {
      std::string why = CapturedErrors();
      Fail("E_WHISPER_FAILED", "whisper_full failed with code " +
                                   std::to_string(rc_) +
                                   (why.empty() ? "" : ": " + why));
      return false;
    }
    return true;
  }

  std::string FixedLanguage(bool multilingual) const {
    if (!multilingual) return "en";
    if (options_.language == "auto") return "";
    return whisper_lang_str(whisper_lang_id(options_.language.c_str()));
  }

  void Collect(whisper_context* ctx, bool multilingual) {
    // whisper.cpp's times are in the audio it was given: with VAD, the
    // joined speech; they go back to the original audio here.
    const TimeMap toSeconds = [this](int64_t cs) {
      return options_.vad ? speech_.ToOriginalSeconds(cs) : cs / 100.0;
    };
    const int n = whisper_full_n_segments(ctx);
    for (int i = 0; i < n; ++i) {
      Segment seg;
      seg.start = toSeconds(whisper_full_get_segment_t0(ctx, i));
      seg.end = toSeconds(whisper_full_get_segment_t1(ctx, i));
      seg.text = whisper_full_get_segment_text(ctx, i);
      if (options_.wordTimestamps) {
        seg.words = BuildWords(ctx, i, seg, toSeconds);
      }
      result_.segments.push_back(std::move(seg));
    }

    if (multilingual && options_.language == "auto") {
      const char* lang = whisper_lang_str(whisper_full_lang_id(ctx));
      result_.language = lang != nullptr ? lang : "";
    } else {
      result_.language = FixedLanguage(multilingual);
    }

    if (whisper_timings* t = whisper_get_timings(ctx)) {
      result_.timings = *t;
      result_.haveTimings = true;
      delete t;
    }
  }

  Napi::Object ToJs(Napi::Env env) const {
    Napi::Array segments = Napi::Array::New(env, result_.segments.size());
    for (size_t i = 0; i < result_.segments.size(); ++i) {
      segments.Set(i, SegmentToJs(env, result_.segments[i]));
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("segments", segments);
    out.Set("language", result_.language.empty()
                            ? env.Null()
                            : Napi::String::New(env, result_.language));
    out.Set("whisperMs", result_.whisperMs);
    out.Set("timings", TimingsToJs(env));
    if (options_.vad) out.Set("speech", SpansToJs(env));
    return out;
  }

  Napi::Array SpansToJs(Napi::Env env) const {
    const auto spans = speech_.Spans();
    Napi::Array out = Napi::Array::New(env, spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("start", spans[i].first);
      o.Set("end", spans[i].second);
      out.Set(i, o);
    }
    return out;
  }

  Napi::Object SegmentToJs(Napi::Env env, const Segment& seg) const {
    Napi::Object o = Napi::Object::New(env);
    o.Set("start", seg.start);
    o.Set("end", seg.end);
    o.Set("text", seg.text);
    if (!options_.wordTimestamps) return o;
    Napi::Array words = Napi::Array::New(env, seg.words.size());
    for (size_t j = 0; j < seg.words.size(); ++j) {
      const Word& w = seg.words[j];
      Napi::Object wo = Napi::Object::New(env);
      wo.Set("start", w.start);
      wo.Set("end", w.end);
      wo.Set("text", w.text);
      wo.Set("probability", w.probability);
      words.Set(j, wo);
    }
    o.Set("words", words);
    return o;
  }

  Napi::Value TimingsToJs(Napi::Env env) const {
    if (!result_.haveTimings) return env.Null();
    const whisper_timings& t = result_.timings;
    Napi::Object o = Napi::Object::New(env);
    o.Set("sampleMs", t.sample_ms);
    o.Set("encodeMs", t.encode_ms);
    o.Set("decodeMs", t.decode_ms);
    o.Set("batchdMs", t.batchd_ms);
    o.Set("promptMs", t.prompt_ms);
    return o;
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ModelHandle> handle_;
  Napi::Reference<Napi::TypedArrayOf<float>> pcm_;
  Napi::FunctionReference onProgress_;
  const float* samples_;
  size_t count_;
  RunOptions options_;
  SpeechAudio speech_;
  RunResult result_;
  std::string code_ = "E_WHISPER_FAILED";
  int rc_ = 0;
};

}  // namespace

Napi::Value StartTranscription(const Napi::CallbackInfo& info,
                               const std::shared_ptr<ModelHandle>& handle) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() !=
          napi_float32_array) {
    throw Napi::TypeError::New(env,
                               "transcribe expects 16 kHz mono PCM as a "
                               "Float32Array");
  }
  if (info[0].As<Napi::TypedArray>().ElementLength() > INT32_MAX) {
    throw Napi::RangeError::New(env, "the audio is too long for whisper.cpp");
  }
  RunOptions options = ReadRunOptions(env, info[1]);
  if (handle->busy) {
    throw Napi::Error::New(env,
                           "this whisper model is already transcribing; runs "
                           "on one model must not overlap");
  }

  handle->busy = true;
  handle->abort.store(false);
  auto* worker = new TranscribeWorker(env, handle,
                                      info[0].As<Napi::TypedArrayOf<float>>(),
                                      std::move(options), info[2]);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace durascribe
