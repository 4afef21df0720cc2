// Golden hashes: every stage and every built-in profile over seeded signals at several rates and channel
// counts. The SHA-256 of the output samples must match tests/golden/goldens.txt on the CPU engine (CI) and on
// the CUDA engine (wherever a GPU exists): that is the bit-identical promise of DESIGN.md section 2.
//
// Regenerate knowingly with tests/golden/update.sh (LATHE_UPDATE_GOLDENS=1), which lists what changed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "host/engine/engine.hpp"
#include "host/master.hpp"
#include "host/profile/builtin.hpp"
#include "host/profile/profile.hpp"
#include "host/util/sha256.hpp"
#include "host/io/memory_track.hpp"
#include "tests/signals.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

struct SignalCase {
  SignalKind kind;
  int channels;
  std::int64_t frames;
  int rate_hz;
  std::string name() const {
    return std::string(name_of(kind)) + "_" + std::to_string(channels) + "ch_" + std::to_string(rate_hz) + "Hz_" +
           std::to_string(frames);
  }
};

// Rates from 8 kHz to 384 kHz, 1 to 8 channels, 1 frame to several segments (65536 frames each) long.
const std::vector<SignalCase>& signal_cases() {
  static const std::vector<SignalCase> cases = {
      {SignalKind::kSine, 2, 48000, 48000},        {SignalKind::kSweep, 2, 96000, 96000},
      {SignalKind::kNoise, 1, 44100, 44100},       {SignalKind::kImpulse, 6, 4800, 48000},
      {SignalKind::kSilence, 2, 4410, 44100},      {SignalKind::kSquareFullScale, 2, 9600, 48000},
      {SignalKind::kDenormal, 1, 4800, 48000},     {SignalKind::kMusicLike, 8, 12000, 8000},
      {SignalKind::kMusicLike, 2, 1, 44100},       {SignalKind::kNoise, 1, 3, 384000},
      {SignalKind::kMusicLike, 2, 200003, 48000},
  };
  return cases;
}

struct Chain {
  std::string name;
  std::string toml;  // empty: a built-in profile of that name
};

// A true-stereo IR (4 channels, 0.1 s at 48 kHz, seeded decaying noise; converted to each track's rate by the
// stage), written once per process to the temp folder: the chain that uses it names the file.
std::string true_stereo_ir_path() {
  static const std::string path = [] {
    const fs::path p = fs::temp_directory_path() / "lathe-golden-true-stereo-ir.wav";
    std::vector<std::vector<float>> ir(4, std::vector<float>(4800));
    for (std::size_t c = 0; c < ir.size(); ++c) {
      Noise n(900 + c);
      for (std::size_t i = 0; i < ir[c].size(); ++i)
        ir[c][i] = static_cast<float>(n.next() / (1.0 + 0.004 * static_cast<double>(i)));
    }
    if (!write_audio(p, ir, 48000)) ADD_FAILURE() << "cannot write " << p;
    return p.string();
  }();
  return path;
}

// A reference for the match stage: 2 s of stereo noise at 44.1 kHz through a one-pole low-pass (a darker balance
// than the test signals), written once per process to the temp folder.
std::string match_reference_path() {
  static const std::string path = [] {
    const fs::path p = fs::temp_directory_path() / "lathe-golden-match-reference.wav";
    std::vector<std::vector<float>> ref(2, std::vector<float>(88200));
    for (std::size_t c = 0; c < ref.size(); ++c) {
      Noise n(700 + c);
      double lp = 0;
      for (float& v : ref[c]) {
        lp += 0.2 * (n.next() - lp);
        v = static_cast<float>(0.5 * lp);
      }
    }
    if (!write_audio(p, ref, 44100)) ADD_FAILURE() << "cannot write " << p;
    return p.string();
  }();
  return path;
}

std::vector<Chain> chains() {
  std::vector<Chain> c = {
      {"stage-gain+6-tpdf24", "[delivery]\nbits = 24\n[[stage]]\ntype = \"gain\"\ngain_db = 6.0\n"},
      {"stage-gain-20-none16",
       "[delivery]\nbits = 16\n[[stage]]\ntype = \"gain\"\ngain_db = -20\n[[stage]]\ntype = \"dither\"\nkind = \"none\"\n"},
      {"stage-dither-tpdf16", "[delivery]\nbits = 16\n[[stage]]\ntype = \"dither\"\nkind = \"tpdf\"\n"},
      {"stage-dither-tpdf24", "[delivery]\nbits = 24\n[[stage]]\ntype = \"dither\"\nkind = \"tpdf\"\n"},
      {"stage-dither-none24", "[delivery]\nbits = 24\n[[stage]]\ntype = \"dither\"\nkind = \"none\"\n"},
      {"stage-gain-1.5-float32", "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"gain\"\ngain_db = -1.5\n"},
      // Bands below 4 kHz: the 8 kHz case must pass too.
      {"stage-eq-stereo-tpdf24",
       "[delivery]\nbits = 24\n[[stage]]\ntype = \"eq\"\nbands = [\n"
       "{ type = \"highpass\", freq_hz = 30, slope_db_per_oct = 12 },\n"
       "{ type = \"low_shelf\", freq_hz = 120, gain_db = 2, q = 0.7 },\n"
       "{ type = \"bell\", freq_hz = 2500, gain_db = -2, q = 1.2 },\n"
       "{ type = \"tilt\", db_per_oct = 0.3 },\n]\n"},
      {"stage-eq-midside-float32",
       "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"eq\"\nbands = [\n"
       "{ type = \"bell\", freq_hz = 300, gain_db = -3, q = 1, channels = \"mid\" },\n"
       "{ type = \"high_shelf\", freq_hz = 3000, gain_db = 2, slope = 0.7, channels = \"side\" },\n"
       "{ type = \"lowpass\", freq_hz = 3900, slope_db_per_oct = 6 },\n]\n"},
      {"stage-eq-taps255-gain-none16",
       "[delivery]\nbits = 16\n[[stage]]\ntype = \"eq\"\nfir_taps = 255\nbands = [\n"
       "{ type = \"bell\", freq_hz = 1000, gain_db = 4, q = 0.7 },\n]\n"
       "[[stage]]\ntype = \"gain\"\ngain_db = -3\n[[stage]]\ntype = \"dither\"\nkind = \"none\"\n"},
  };
  // The chain stages of issue 7.
  c.push_back({"stage-corrective-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"corrective\"\nsubsonic_hz = 20\nmono_below_hz = 100\n"
               "polarity = \"invert_left\"\ntrim_db = -1.0\n"});
  c.push_back({"stage-corrective-swap-tpdf16",
               "[delivery]\nbits = 16\n[[stage]]\ntype = \"corrective\"\nswap_channels = true\ntrim_db = -3.0\n"});
  c.push_back({"stage-width-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"width\"\nwidth_pct = 130\nmono_below_hz = 120\n"});
  c.push_back({"stage-reverb-room-tpdf24",
               "[delivery]\nbits = 24\n[[stage]]\ntype = \"reverb\"\nir = \"room\"\nwet_db = -12\npredelay_ms = 5\n"});
  c.push_back({"stage-reverb-plate-cut-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"reverb\"\nir = \"plate\"\nmix_pct = 30\n"
               "wet_highpass_hz = 150\ntail = \"cut\"\n"});
  c.push_back({"stage-compressor-rms-unlinked-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"compressor\"\nthreshold_db = -24\nratio = 4\n"
               "knee_db = 6\nattack_ms = 2\nrelease_ms = 60\ndetection = \"rms\"\nlink = \"unlinked\"\n"
               "sidechain_hpf_hz = 100\nmakeup_db = 3\nmix = 70\n"});
  c.push_back({"stage-compressor-peak-tpdf24",
               "[delivery]\nbits = 24\n[[stage]]\ntype = \"compressor\"\nthreshold_db = -12\nratio = 2\n"});
  c.push_back({"stage-saturation-tape-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"saturation\"\nmodel = \"tape\"\ndrive_db = 12\n"});
  c.push_back({"stage-saturation-tube-mix-tpdf24",
               "[delivery]\nbits = 24\n[[stage]]\ntype = \"saturation\"\nmodel = \"tube\"\ndrive_db = 6\n"
               "bias = 0.3\nmix = 50\noutput_db = -1\noversampling = 4\n"});
  c.push_back({"stage-multiband-3-float32",
               "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"multiband\"\ncrossovers_hz = [150, 2500]\n"
               "bands = [\n  { threshold_db = -24, ratio = 3, attack_ms = 15, release_ms = 150 },\n"
               "  { threshold_db = -20, ratio = 2 },\n  { threshold_db = -18, ratio = 1.5, makeup_db = 1 },\n]\n"});
  c.push_back({"stage-match-float32", "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"match\"\nreference = \"" +
                                          match_reference_path() + "\"\nmax_boost_db = 4\n"});
  c.push_back({"stage-reverb-room-fade-tpdf24",
               "[delivery]\nbits = 24\n[[stage]]\ntype = \"reverb\"\nir = \"room\"\nwet_db = -9\ntail = \"fade\"\n"
               "tail_fade_s = 0.05\n"});
  c.push_back({"stage-reverb-truestereo-float32", "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"reverb\"\nir = \"" +
                                                      true_stereo_ir_path() + "\"\nwet_db = -10\n"});
  for (const auto& b : host::builtin_profiles()) c.push_back({std::string("profile-") + b.name, ""});
  return c;
}

using Hashes = std::map<std::string, std::string>;

// Runs every chain over every signal (all signals of a chain in one batch) and hashes each output.
Hashes compute(host::Engine& engine) {
  Hashes out;
  for (const Chain& chain : chains()) {
    const host::Profile profile = chain.toml.empty() ? host::load_profile(chain.name.substr(8))
                                                     : host::parse_profile(chain.toml, chain.name);
    std::vector<std::unique_ptr<host::TrackIo>> tracks;
    std::vector<host::MemoryTrack*> mem;
    for (const SignalCase& s : signal_cases()) {
      auto t = std::make_unique<host::MemoryTrack>(s.name(), make_signal(s.kind, s.channels, s.frames, s.rate_hz), s.rate_hz);
      mem.push_back(t.get());
      tracks.push_back(std::move(t));
    }
    const host::MasterResult r = host::master_tracks(tracks, profile, engine, host::MasterOptions{});
    for (std::size_t i = 0; i < mem.size(); ++i) {
      // A track the chain refuses (a built-in profile's band above an 8 kHz track's Nyquist) is a golden
      // outcome too: "refused", the same on every engine.
      const auto bytes = mem[i]->output_bytes();
      out[chain.name + "/" + mem[i]->name()] =
          r.tracks[i].ok ? host::sha256_hex(bytes.data(), bytes.size()) : std::string("refused");
      if (!r.tracks[i].ok) std::cout << "refused: " << chain.name << "/" << mem[i]->name() << ": " << r.tracks[i].error << "\n";
    }
  }
  return out;
}

Hashes load_goldens() {
  Hashes h;
  std::ifstream in(LATHE_GOLDEN_FILE);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name, hash;
    if (ls >> name >> hash) h[name] = hash;
  }
  return h;
}

void save_goldens(const Hashes& h) {
  std::ofstream out(LATHE_GOLDEN_FILE);
  out << "# SHA-256 of the output samples (int32 left-justified PCM or float32, channel after channel) of each\n"
         "# chain/signal case of tests/golden/test_golden.cpp. Both engines must produce these exact bits.\n"
         "# Regenerate knowingly with tests/golden/update.sh; say in the commit which changed and why.\n";
  for (const auto& [name, hash] : h) out << name << " " << hash << "\n";
}

void check_engine(host::Engine& engine) {
  const Hashes got = compute(engine);
  if (const char* update = std::getenv("LATHE_UPDATE_GOLDENS"); update && std::string(update) == "1") {
    const Hashes old = load_goldens();
    int changed = 0;
    for (const auto& [name, hash] : got) {
      const auto it = old.find(name);
      if (it == old.end())
        std::cout << "golden new:     " << name << "\n", ++changed;
      else if (it->second != hash)
        std::cout << "golden changed: " << name << "\n", ++changed;
    }
    for (const auto& [name, hash] : old)
      if (!got.count(name)) std::cout << "golden removed: " << name << "\n", ++changed;
    save_goldens(got);
    std::cout << "goldens: " << changed << " of " << got.size() << " changed, written to " LATHE_GOLDEN_FILE "\n";
    return;
  }
  const Hashes want = load_goldens();
  ASSERT_FALSE(want.empty()) << "no goldens in " LATHE_GOLDEN_FILE "; run tests/golden/update.sh";
  for (const auto& [name, hash] : got) {
    const auto it = want.find(name);
    if (it == want.end()) {
      ADD_FAILURE() << "no golden for " << name << " (new case? run tests/golden/update.sh)";
      continue;
    }
    EXPECT_EQ(hash, it->second) << name << " on " << engine.description();
  }
  for (const auto& [name, hash] : want) EXPECT_TRUE(got.count(name)) << "golden without a case: " << name;
}

TEST(Golden, CpuEngineMatchesCommittedHashes) {
  auto engine = host::make_cpu_engine();
  check_engine(*engine);
}

TEST(Golden, CudaEngineMatchesCommittedHashes) {
  if (const std::string why = host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  if (std::getenv("LATHE_UPDATE_GOLDENS")) GTEST_SKIP() << "goldens are regenerated from the CPU engine only";
  auto engine = host::make_cuda_engine();
  check_engine(*engine);
}

// The goldens must be able to fail: a one-ulp change of a single input sample changes the hash.
TEST(Golden, HashesSeeAOneUlpChange) {
  auto engine = host::make_cpu_engine();
  const host::Profile profile = host::load_profile("hires-float");
  auto signal = make_signal(SignalKind::kMusicLike, 2, 1000, 48000);
  auto run = [&](const Planar& p) {
    std::vector<std::unique_ptr<host::TrackIo>> tracks;
    auto t = std::make_unique<host::MemoryTrack>("x", p, 48000);
    host::MemoryTrack* m = t.get();
    tracks.push_back(std::move(t));
    host::master_tracks(tracks, profile, *engine, host::MasterOptions{});
    const auto bytes = m->output_bytes();
    return host::sha256_hex(bytes.data(), bytes.size());
  };
  const std::string a = run(signal);
  signal[1][500] = std::nextafter(signal[1][500], 2.0f);
  EXPECT_NE(a, run(signal));
}

}  // namespace
}  // namespace lathe::test
