# Writes a C++ source holding every built-in profile's TOML text, so lathe works from any folder.
# Usage: cmake -DOUT=file.cpp -DDIR=profiles -P EmbedProfiles.cmake
set(body "")
file(GLOB FILES "${DIR}/*.toml")
list(SORT FILES)
foreach(f IN LISTS FILES)
  get_filename_component(stem "${f}" NAME_WE)
  file(READ "${f}" text)
  string(FIND "${text}" ")LATHE_TOML\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the embedding delimiter )LATHE_TOML\"")
  endif()
  string(APPEND body "    {\"${stem}\", R\"LATHE_TOML(${text})LATHE_TOML\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from profiles/*.toml by cmake/EmbedProfiles.cmake. Do not edit.\n"
  "#include \"host/profile/builtin.hpp\"\n"
  "namespace lathe::host {\n"
  "const std::vector<BuiltinProfile>& builtin_profiles() {\n"
  "  static const std::vector<BuiltinProfile> all = {\n${body}  };\n  return all;\n}\n}  // namespace lathe::host\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
