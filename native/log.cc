#include "log.h"

#include <mutex>
#include <optional>

#include "whisper.h"

namespace durascribe {
namespace {

// Enough for a few messages; a runaway logger cannot grow it further.
constexpr size_t kMaxCaptured = 4096;

thread_local std::string t_errors;
// ggml continues a line with GGML_LOG_LEVEL_CONT; it keeps the level of the
// line it continues.
thread_local int t_last_level = GGML_LOG_LEVEL_INFO;

std::mutex g_sink_mutex;
std::optional<Napi::ThreadSafeFunction> g_sink;

struct LogLine {
  int level;
  std::string text;
};

const char* LevelName(int level) {
  switch (level) {
    case GGML_LOG_LEVEL_ERROR:
      return "error";
    case GGML_LOG_LEVEL_WARN:
      return "warn";
    case GGML_LOG_LEVEL_INFO:
      return "info";
    default:
      return "debug";
  }
}

void Deliver(Napi::Env env, Napi::Function fn, LogLine* line) {
  if (env != nullptr && fn != nullptr) {
    try {
      fn.Call({Napi::String::New(env, LevelName(line->level)),
               Napi::String::New(env, line->text)});
    } catch (const Napi::Error&) {
      // A throwing logger must not take the process down with it.
    }
  }
  delete line;
}

void OnLog(ggml_log_level level, const char* text, void* /*user_data*/) {
  if (text == nullptr) return;
  const int effective = level == GGML_LOG_LEVEL_CONT ? t_last_level : level;
  t_last_level = effective;
  if (effective == GGML_LOG_LEVEL_ERROR && t_errors.size() < kMaxCaptured) {
    t_errors += text;
  }

  std::lock_guard<std::mutex> lock(g_sink_mutex);
  if (!g_sink) return;
  auto* line = new LogLine{effective, text};
  if (g_sink->NonBlockingCall(line, Deliver) != napi_ok) delete line;
}

}  // namespace

void ReleaseLogSink() {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  if (!g_sink) return;
  g_sink->Release();
  g_sink.reset();
}

void InstallLogCallback() { whisper_log_set(OnLog, nullptr); }

void ClearCapturedErrors() { t_errors.clear(); }

std::string CapturedErrors() {
  std::string joined;
  size_t start = 0;
  while (start < t_errors.size()) {
    size_t end = t_errors.find('\n', start);
    if (end == std::string::npos) end = t_errors.size();
    std::string line = t_errors.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!joined.empty()) joined += "; ";
    joined += line;
  }
  return joined;
}

Napi::Value SetLogger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !(info[0].IsFunction() || info[0].IsNull() ||
                             info[0].IsUndefined())) {
    throw Napi::TypeError::New(env, "setLogger expects a function or null");
  }
  ReleaseLogSink();
  if (!info[0].IsFunction()) return env.Undefined();

  auto sink = Napi::ThreadSafeFunction::New(
      env, info[0].As<Napi::Function>(), "durascribe-whisper-log", 0, 1);
  // The logger must not keep the process alive on its own.
  sink.Unref(env);
  {
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    g_sink = sink;
  }
  return env.Undefined();
}

}  // namespace durascribe
