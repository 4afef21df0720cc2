// libsndfile's text metadata ids and lathe's names for them (shared by the reader and the writer).
#pragma once

#include <sndfile.h>

#include <array>

namespace lathe::host {

struct SndfileStringKey {
  int id;
  const char* name;
};

inline constexpr std::array<SndfileStringKey, 10> kSndfileStringKeys{{{SF_STR_TITLE, "title"},
                                                                      {SF_STR_ARTIST, "artist"},
                                                                      {SF_STR_ALBUM, "album"},
                                                                      {SF_STR_DATE, "date"},
                                                                      {SF_STR_COMMENT, "comment"},
                                                                      {SF_STR_COPYRIGHT, "copyright"},
                                                                      {SF_STR_SOFTWARE, "software"},
                                                                      {SF_STR_LICENSE, "license"},
                                                                      {SF_STR_TRACKNUMBER, "tracknumber"},
                                                                      {SF_STR_GENRE, "genre"}}};

}  // namespace lathe::host
