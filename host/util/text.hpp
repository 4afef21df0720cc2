// Numbers in messages and reports: fixed decimals through snprintf, the same on every machine and locale.
#pragma once

#include <cstdio>
#include <string>

namespace lathe::host {

// `v` with `digits` decimals ("%.*f").
inline std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace lathe::host
