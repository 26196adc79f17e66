#include "model.h"

#include <chrono>

#include "log.h"
#include "model_check.h"
#include "transcribe.h"

namespace durascribe {
namespace {

// Loads a model off the main thread: whisper_init reads the whole file.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, bool flashAttn)
      : Napi::AsyncWorker(env, "durascribe-whisper-load"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        flashAttn_(flashAttn) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    std::string bad = CheckModelFile(path_);
    if (!bad.empty()) {
      SetError("cannot load whisper model " + path_ + ": " + bad);
      return;
    }

    whisper_context_params params = whisper_context_default_params();
    // CPU only: no GPU backend is built in, and a job must not grab one.
    params.use_gpu = false;
    params.flash_attn = flashAttn_;
    ClearCapturedErrors();
    const auto start = std::chrono::steady_clock::now();
    whisper_context* ctx =
        whisper_init_from_file_with_params(path_.c_str(), params);
    const std::chrono::duration<double, std::milli> took =
        std::chrono::steady_clock::now() - start;
    if (ctx == nullptr) {
      std::string why = CapturedErrors();
      SetError("cannot load whisper model " + path_ + ": " +
               (why.empty() ? "whisper.cpp refused it" : why));
      return;
    }
    handle_ = std::make_shared<ModelHandle>();
    handle_->ctx = ctx;
    handle_->path = path_;
    handle_->loadMs = took.count();
  }

  void OnOK() override {
    deferred_.Resolve(Model::Wrap(Env(), std::move(handle_)));
  }

  void OnError(const Napi::Error& error) override {
    error.Set("code", Napi::String::New(Env(), "E_MODEL_INVALID"));
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  bool flashAttn_;
  std::shared_ptr<ModelHandle> handle_;
};

}  // namespace

Napi::Function Model::Define(Napi::Env env) {
  return DefineClass(env, "Model",
                     {
                         InstanceMethod("transcribe", &Model::Transcribe),
                         InstanceMethod("abort", &Model::Abort),
                         InstanceMethod("free", &Model::Free),
                         InstanceMethod("info", &Model::Info),
                     });
}

Napi::Object Model::Wrap(Napi::Env env, std::shared_ptr<ModelHandle> handle) {
  // The constructor takes ownership of this heap copy of the shared pointer.
  auto* carried = new std::shared_ptr<ModelHandle>(std::move(handle));
  auto* data = env.GetInstanceData<AddonData>();
  return data->modelConstructor.New(
      {Napi::External<std::shared_ptr<ModelHandle>>::New(env, carried)});
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(),
                               "Model cannot be constructed; use loadModel()");
  }
  auto* carried =
      info[0].As<Napi::External<std::shared_ptr<ModelHandle>>>().Data();
  handle_ = std::move(*carried);
  delete carried;
}

Napi::Value Model::Transcribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!handle_) throw Napi::Error::New(env, "the whisper model was freed");
  return StartTranscription(info, handle_);
}

Napi::Value Model::Abort(const Napi::CallbackInfo& info) {
  if (handle_ && handle_->busy) handle_->abort.store(true);
  return info.Env().Undefined();
}

Napi::Value Model::Free(const Napi::CallbackInfo& info) {
  // A run in flight keeps its own reference; the context goes when it ends.
  handle_.reset();
  return info.Env().Undefined();
}

Napi::Value Model::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!handle_) throw Napi::Error::New(env, "the whisper model was freed");
  whisper_context* ctx = handle_->ctx;
  Napi::Object out = Napi::Object::New(env);
  out.Set("path", handle_->path);
  out.Set("loadMs", handle_->loadMs);
  out.Set("multilingual", whisper_is_multilingual(ctx) != 0);
  out.Set("type", whisper_model_type_readable(ctx));
  out.Set("vocabSize", whisper_model_n_vocab(ctx));
  out.Set("audioLayers", whisper_model_n_audio_layer(ctx));
  out.Set("textLayers", whisper_model_n_text_layer(ctx));
  out.Set("mels", whisper_model_n_mels(ctx));
  out.Set("ftype", whisper_model_ftype(ctx));
  return out;
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "loadModel expects a path string");
  }
  bool flashAttn = true;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Value v = info[1].As<Napi::Object>().Get("flashAttn");
    if (v.IsBoolean()) flashAttn = v.As<Napi::Boolean>().Value();
  }
  auto* worker =
      new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), flashAttn);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace durascribe
