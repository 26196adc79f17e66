// durascribe's whisper.cpp addon: module entry point and the functions that
// need no model.
#include <napi.h>

#include "log.h"
#include "model.h"
#include "whisper.h"

namespace durascribe {
namespace {

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whisper_version());
}

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whisper_print_system_info());
}

// languageId(name) -> the code for a code or full name, or null.
Napi::Value LanguageCode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "languageCode expects a string");
  }
  const int id = whisper_lang_id(info[0].As<Napi::String>().Utf8Value().c_str());
  if (id < 0) return env.Null();
  return Napi::String::New(env, whisper_lang_str(id));
}

}  // namespace
}  // namespace durascribe

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace durascribe;
  InstallLogCallback();
  env.AddCleanupHook(ReleaseLogSink);

  auto* data = new AddonData();
  data->modelConstructor = Napi::Persistent(Model::Define(env));
  env.SetInstanceData(data);

  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("languageCode",
              Napi::Function::New(env, LanguageCode, "languageCode"));
  exports.Set("setLogger", Napi::Function::New(env, SetLogger, "setLogger"));
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  return exports;
}

NODE_API_MODULE(durascribe_whisper, Init)
