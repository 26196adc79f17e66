// A check of a ggml whisper model file's header, mel filters and vocabulary
// before whisper.cpp reads it: whisper.cpp trusts the sizes it reads, so a
// truncated or foreign file could make it allocate without bound.
#pragma once

#include <string>

namespace durascribe {

// Returns "" when whisper.cpp can safely read the file's header, mel
// filters and vocabulary, otherwise what is wrong with the file.
std::string CheckModelFile(const std::string& path);

}  // namespace durascribe
