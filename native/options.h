// The options of one transcription, read from the JS options object.
#pragma once

#include <napi.h>

#include <string>

#include "whisper.h"

namespace durascribe {

struct RunOptions {
  // "auto" or anything whisper_lang_id() knows ("en", "german").
  std::string language = "auto";
  // 0: whisper.cpp's default.
  int threads = 0;
  bool translate = false;
  // Do not condition each 30 s window on the text of the windows before it.
  bool noContext = false;
  bool wordTimestamps = false;
  // 0 or 1: greedy decoding; more: beam search of that width.
  int beamSize = 0;
  bool hasPrompt = false;
  std::string prompt;
  bool vad = false;
  std::string vadModelPath;
  whisper_vad_params vadParams = whisper_vad_default_params();
};

// Reads and checks the options object; throws a JS TypeError or RangeError
// naming the option that is wrong.
RunOptions ReadRunOptions(Napi::Env env, const Napi::Value& value);

// whisper_full parameters for these options, without the callbacks.
whisper_full_params ToFullParams(const RunOptions& options,
                                 bool multilingual);

}  // namespace durascribe
