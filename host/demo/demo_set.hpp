#pragma once
#include <cstdint>
#include <string>
#include <vector>
namespace lathe::host {
struct DemoTrack {
  std::string file_name;      // e.g. "01-bright-pop.wav" (always .wav)
  std::string title;          // metadata title
  std::string artist;         // "lathe demo"
  int rate_hz = 0;
  int channels = 0;
  std::vector<std::vector<float>> samples;  // planar: samples[channel][frame], all channels same length
};
// Synthesises the bundled demo set: deterministic (same bits every call, no randomness from the OS or time),
// no files touched. Each piece is about 8 seconds long.
std::vector<DemoTrack> make_demo_set();
}
