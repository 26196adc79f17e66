// Model.transcribe(): whisper_full on a worker thread, with progress,
// abort, and the result converted to JS.
#pragma once

#include <napi.h>

#include <memory>

#include "model.h"

namespace durascribe {

// Validates the arguments of Model.transcribe(pcm, options, onProgress?),
// queues the run and returns its promise.
Napi::Value StartTranscription(const Napi::CallbackInfo& info,
                               const std::shared_ptr<ModelHandle>& handle);

}  // namespace durascribe
