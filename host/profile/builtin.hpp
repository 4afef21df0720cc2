#pragma once

#include <string>
#include <vector>

namespace lathe::host {

struct BuiltinProfile {
  const char* name;  // file stem in profiles/
  const char* toml;  // the file's text
};

// Every profiles/*.toml, embedded at build time (cmake/EmbedProfiles.cmake), sorted by name.
const std::vector<BuiltinProfile>& builtin_profiles();

}  // namespace lathe::host
