// A loaded whisper.cpp model (one whisper_context) exposed to JS as the
// class Model, and loadModel(), which loads one on a worker thread.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

#include "whisper.h"

namespace durascribe {

// Owns a whisper_context. Shared by the JS object and any run in flight,
// so freeing the JS side never pulls the context from under a run.
struct ModelHandle {
  whisper_context* ctx = nullptr;
  std::string path;
  double loadMs = 0;
  // Set from JS, read by whisper.cpp's abort callback on the worker thread.
  std::atomic<bool> abort{false};
  // Main thread only: a context runs one transcription at a time.
  bool busy = false;

  ~ModelHandle() {
    if (ctx != nullptr) whisper_free(ctx);
  }
};

// Per-environment data of the addon.
struct AddonData {
  Napi::FunctionReference modelConstructor;
};

// JS class Model: transcribe(pcm, options, onProgress?), abort(), free(),
// and read-only facts about the model.
class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ModelHandle> handle);

  explicit Model(const Napi::CallbackInfo& info);

 private:
  Napi::Value Transcribe(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelHandle> handle_;
};

// JS: loadModel(path, { flashAttn? }) -> Promise<Model>.
Napi::Value LoadModel(const Napi::CallbackInfo& info);

}  // namespace durascribe
