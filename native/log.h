// Routing of whisper.cpp's and ggml's log lines: silent by default, errors
// remembered per thread (so a failed load or run can say why), and an
// optional JS sink set with setLogger().
#pragma once

#include <napi.h>

#include <string>

namespace durascribe {

// Points whisper.cpp's (and ggml's) logging at our callback. Call once.
void InstallLogCallback();

// Forgets the error lines captured so far on the calling thread.
void ClearCapturedErrors();

// The error lines whisper.cpp logged on the calling thread since the last
// ClearCapturedErrors(), trimmed and joined with "; ".
std::string CapturedErrors();

// Drops the JS sink; the addon calls it when its environment shuts down.
void ReleaseLogSink();

// JS: setLogger(fn | null). fn(level, text) receives every line; null
// silences whisper.cpp again.
Napi::Value SetLogger(const Napi::CallbackInfo& info);

}  // namespace durascribe
