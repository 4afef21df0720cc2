// The match stage (reference matching) end to end: a track of shaped noise matched to a reference with another
// spectral shape (at the same and at another sample rate), the boost and cut limits, identical track and
// reference, amount 0, loudness = "reference" through the delivery limiter, the report's curve, bad input and
// segment invariance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "host/dsp/eq_design.hpp"
#include "host/dsp/fft_double.hpp"
#include "host/dsp/ltas.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/meter/meter.hpp"
#include "host/profile/profile.hpp"
#include "host/report/report.hpp"
#include "tests/signals.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

constexpr int kRate = 44100;
constexpr std::size_t kFrames = std::size_t{1} << 19;  // 11.9 s at 44.1 kHz

// Stereo noise of `frames` (a power of two) frames with magnitude spectrum pink (1/sqrt(f), flat below 20 Hz)
// times `shape(f)`, at `rms` (linear) per channel. Shaped in the frequency domain over the whole signal.
Planar shaped_noise(std::size_t frames, int rate, const std::function<double(double)>& shape, unsigned seed,
                    double rms = 0.1) {
  Planar out(2);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  for (auto& ch : out) {
    std::vector<std::complex<double>> x(frames);
    for (auto& v : x) v = gauss(rng);
    host::dsp::fft_double(x, false);
    for (std::size_t k = 0; k < frames; ++k) {
      const std::size_t kk = k <= frames / 2 ? k : frames - k;
      const double f = static_cast<double>(kk) * rate / static_cast<double>(frames);
      x[k] *= shape(f) / std::sqrt(std::max(f, 20.0));
    }
    host::dsp::fft_double(x, true);
    double sum = 0;
    for (const auto& v : x) sum += v.real() * v.real();
    const double g = rms / std::sqrt(sum / static_cast<double>(frames));
    ch.resize(frames);
    for (std::size_t i = 0; i < frames; ++i) ch[i] = static_cast<float>(x[i].real() * g);
  }
  return out;
}

double flat(double) { return 1.0; }

std::function<double(double)> band(host::dsp::EqBandType type, double freq, double gain_db, double q) {
  host::dsp::EqBand b{};
  b.type = type;
  b.freq_hz = freq;
  b.gain_db = gain_db;
  b.q = q;
  return [b](double f) { return host::dsp::eq_band_gain(b, f); };
}

host::dsp::Ltas ltas_of(const Planar& p, int rate) {
  host::dsp::LtasAccumulator acc(rate, static_cast<int>(p.size()));
  std::vector<float> inter(p[0].size() * p.size());
  for (std::size_t c = 0; c < p.size(); ++c)
    for (std::size_t i = 0; i < p[0].size(); ++i) inter[i * p.size() + c] = p[c][i];
  acc.add_interleaved(inter.data(), static_cast<std::int64_t>(p[0].size()));
  return acc.finish();
}

// Largest |deviation| of the 1/3-octave-smoothed spectrum of `a` from `b` over 100 Hz .. 10 kHz, after removing
// the mean deviation (shape, not level), at 1/12-octave steps.
double shape_deviation_db(const host::dsp::Ltas& a, const host::dsp::Ltas& b) {
  std::vector<double> dev;
  const double half = std::exp2(1.0 / 6.0);
  for (double f = 100.0; f <= 10000.0; f *= std::exp2(1.0 / 12.0))
    dev.push_back(10.0 * std::log10(a.band_power(f / half, f * half) / b.band_power(f / half, f * half)));
  double mean = 0;
  for (double d : dev) mean += d;
  mean /= static_cast<double>(dev.size());
  double worst = 0;
  for (double d : dev) worst = std::max(worst, std::abs(d - mean));
  return worst;
}

std::string match_profile(const fs::path& ref, const std::string& extra = "", const std::string& head = "") {
  return head + "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"match\"\nreference = \"" + ref.string() + "\"\n" +
         extra;
}

struct Mastered {
  host::MasterResult result;
  std::vector<Planar> out;
};

Mastered master(const host::Profile& profile, const std::vector<Planar>& inputs, int rate,
                std::int64_t segment_frames = 65536) {
  auto engine = host::make_cpu_engine();
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  std::vector<host::MemoryTrack*> mem;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto t = std::make_unique<host::MemoryTrack>("t" + std::to_string(i), inputs[i], rate);
    mem.push_back(t.get());
    tracks.push_back(std::move(t));
  }
  host::MasterOptions options;
  options.segment_frames = segment_frames;
  Mastered m;
  m.result = host::master_tracks(tracks, profile, *engine, options);
  for (std::size_t i = 0; i < mem.size(); ++i) m.out.push_back(m.result.tracks[i].ok ? mem[i]->out_float() : Planar{});
  return m;
}

double curve_max(const host::TrackReport& r) {
  double v = -1e9;
  for (const auto& [f, db] : r.match->curve_db) v = std::max(v, db);
  return v;
}
double curve_min(const host::TrackReport& r) {
  double v = 1e9;
  for (const auto& [f, db] : r.match->curve_db) v = std::min(v, db);
  return v;
}

TEST(Match, ShelfIsMatched) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames, kRate, flat, 1);
  const Planar ref = shaped_noise(kFrames, kRate, band(host::dsp::EqBandType::kHighShelf, 4000, 4, 0.707), 2);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  const host::Profile profile = host::parse_profile(match_profile(dir / "ref.wav"), "match.toml");
  const Mastered m = master(profile, {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  const auto ref_ltas = ltas_of(ref, kRate);
  const double before = shape_deviation_db(ltas_of(track, kRate), ref_ltas);
  const double after = shape_deviation_db(ltas_of(m.out[0], kRate), ref_ltas);
  std::printf("shelf +4 dB at 4 kHz: shape deviation before %.2f dB, after %.2f dB\n", before, after);
  EXPECT_GT(before, 2.5);
  EXPECT_LT(after, 1.0);
  ASSERT_TRUE(m.result.tracks[0].match.has_value());
  // The report's curve: about +4 dB more above the shelf than below it.
  double lo = 0, hi = 0;
  for (const auto& [f, db] : m.result.tracks[0].match->curve_db) {
    if (f == 500) lo = db;
    if (f == 10000) hi = db;
  }
  EXPECT_NEAR(hi - lo, 4.0, 0.6);
}

TEST(Match, ReferenceAtAnotherRate) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames, kRate, flat, 3);
  const Planar ref = shaped_noise(kFrames, 96000, band(host::dsp::EqBandType::kLowShelf, 200, 5, 0.707), 4);
  ASSERT_TRUE(write_audio(dir / "ref96.wav", ref, 96000));
  const host::Profile profile = host::parse_profile(match_profile(dir / "ref96.wav"), "match.toml");
  const Mastered m = master(profile, {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  // The reference's spectrum at its own rate, compared in Hz.
  const auto ref_ltas = ltas_of(ref, 96000);
  const double before = shape_deviation_db(ltas_of(track, kRate), ref_ltas);
  const double after = shape_deviation_db(ltas_of(m.out[0], kRate), ref_ltas);
  std::printf("low shelf +5 dB at 200 Hz, reference at 96 kHz: before %.2f dB, after %.2f dB\n", before, after);
  EXPECT_GT(before, 2.5);
  EXPECT_LT(after, 1.0);
}

TEST(Match, BoostAndCutAreLimited) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames / 4, kRate, flat, 5);
  const Planar up = shaped_noise(kFrames / 4, kRate, band(host::dsp::EqBandType::kBell, 8000, 20, 1.0), 6);
  const Planar down = shaped_noise(kFrames / 4, kRate, band(host::dsp::EqBandType::kBell, 8000, -20, 1.0), 7);
  ASSERT_TRUE(write_audio(dir / "up.wav", up, kRate));
  ASSERT_TRUE(write_audio(dir / "down.wav", down, kRate));
  {
    const Mastered m = master(host::parse_profile(match_profile(dir / "up.wav"), "m.toml"), {track}, kRate);
    ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
    const double top = curve_max(m.result.tracks[0]);
    EXPECT_LE(top, 6.0 + 1e-12);
    EXPECT_GE(top, 5.99);
    // The realised boost at 8 kHz (output over input).
    const auto in = ltas_of(track, kRate), out = ltas_of(m.out[0], kRate);
    const double gain = 10.0 * std::log10(out.band_power(7000, 9000) / in.band_power(7000, 9000));
    std::printf("+20 dB reference bell: curve max %.3f dB, realised %.2f dB at 8 kHz\n", top, gain);
    EXPECT_LT(gain, 6.3);
    EXPECT_GT(gain, 5.0);
  }
  {
    const Mastered m =
        master(host::parse_profile(match_profile(dir / "down.wav", "max_cut_db = 3\n"), "m.toml"), {track}, kRate);
    ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
    const double bottom = curve_min(m.result.tracks[0]);
    std::printf("-20 dB reference bell, max_cut_db 3: curve min %.3f dB\n", bottom);
    EXPECT_GE(bottom, -3.0 - 1e-12);
    EXPECT_LE(bottom, -2.99);
  }
}

TEST(Match, IdenticalReferenceIsFlatAndNulls) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames / 4, kRate, flat, 8);
  ASSERT_TRUE(write_audio(dir / "same.wav", track, kRate));
  const Mastered m = master(host::parse_profile(match_profile(dir / "same.wav"), "m.toml"), {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  for (const auto& [f, db] : m.result.tracks[0].match->curve_db) EXPECT_NEAR(db, 0.0, 0.2) << f;
  // The same samples: the curve is exactly flat, the FIR a unit impulse, the output the input's bits.
  EXPECT_EQ(m.out[0], track);

  // The same audio as a 24-bit file: nearly flat, and the output nulls with the input.
  ASSERT_TRUE(write_audio(dir / "same24.wav", track, kRate, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  const Mastered m24 = master(host::parse_profile(match_profile(dir / "same24.wav"), "m.toml"), {track}, kRate);
  ASSERT_TRUE(m24.result.tracks[0].ok) << m24.result.tracks[0].error;
  double worst_db = 0;
  for (const auto& [f, db] : m24.result.tracks[0].match->curve_db) worst_db = std::max(worst_db, std::abs(db));
  double err = 0, sig = 0;
  for (std::size_t c = 0; c < track.size(); ++c)
    for (std::size_t i = 0; i < track[c].size(); ++i) {
      const double d = static_cast<double>(m24.out[0][c][i]) - track[c][i];
      err += d * d;
      sig += static_cast<double>(track[c][i]) * track[c][i];
    }
  const double null_db = 10.0 * std::log10(err / sig + 1e-30);
  std::printf("24-bit copy as reference: curve within %.4f dB, null %.1f dB\n", worst_db, null_db);
  EXPECT_LT(worst_db, 0.2);
  EXPECT_LT(null_db, -80.0);
}

TEST(Match, AmountZeroIsBitIdentical) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames / 4, kRate, flat, 9);
  const Planar ref = shaped_noise(kFrames / 4, kRate, band(host::dsp::EqBandType::kHighShelf, 4000, 6, 0.707), 10);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  const Mastered m =
      master(host::parse_profile(match_profile(dir / "ref.wav", "amount_pct = 0\n"), "m.toml"), {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  for (const auto& [f, db] : m.result.tracks[0].match->curve_db) EXPECT_EQ(db, 0.0) << f;
  EXPECT_EQ(m.out[0], track);
  // Half the amount: half the curve.
  const Mastered full = master(host::parse_profile(match_profile(dir / "ref.wav"), "m.toml"), {track}, kRate);
  const Mastered half =
      master(host::parse_profile(match_profile(dir / "ref.wav", "amount_pct = 50\n"), "m.toml"), {track}, kRate);
  ASSERT_TRUE(full.result.tracks[0].ok && half.result.tracks[0].ok);
  const auto& cf = full.result.tracks[0].match->curve_db;
  const auto& ch = half.result.tracks[0].match->curve_db;
  for (std::size_t i = 0; i < cf.size(); ++i) EXPECT_NEAR(ch[i].second, 0.5 * cf[i].second, 1e-9) << cf[i].first;
}

TEST(Match, LoudnessFromReference) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames / 2, kRate, flat, 11, 0.03);
  const Planar ref = shaped_noise(kFrames / 2, kRate, band(host::dsp::EqBandType::kHighShelf, 4000, 3, 0.707), 12,
                                  0.12);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  host::meter::TrackMeter meter(kRate, 2);
  std::vector<const float*> ptrs{ref[0].data(), ref[1].data()};
  meter.add(ptrs, static_cast<std::int64_t>(ref[0].size()));
  const double ref_lufs = *meter.finish().integrated_lufs;
  const host::Profile profile = host::parse_profile(
      match_profile(dir / "ref.wav", "loudness = \"reference\"\n", "[targets]\nceiling_dbtp = -1.0\n"), "m.toml");
  ASSERT_TRUE(profile.targets.integrated_lufs.has_value());
  EXPECT_NEAR(*profile.targets.integrated_lufs, ref_lufs, 1e-9);
  const Mastered m = master(profile, {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  const auto& out = m.result.tracks[0].output_loudness;
  ASSERT_TRUE(out.integrated_lufs.has_value());
  std::printf("reference %.2f LUFS, input %.2f LUFS, delivered %.2f LUFS, true peak %.2f dBTP\n", ref_lufs,
              *m.result.tracks[0].input_loudness.integrated_lufs, *out.integrated_lufs, out.true_peak_dbtp);
  EXPECT_NEAR(*out.integrated_lufs, ref_lufs, 0.1);
  EXPECT_LE(out.true_peak_dbtp, -1.0 + 1e-6);
  // The whole-track path reports the curve too.
  EXPECT_TRUE(m.result.tracks[0].match.has_value());
  // `lathe profiles --show` output parses again: the target stays the stage's (loudness = "reference").
  const host::Profile again = host::parse_profile(profile.to_toml(), "shown.toml");
  ASSERT_TRUE(again.targets.integrated_lufs.has_value());
  EXPECT_NEAR(*again.targets.integrated_lufs, ref_lufs, 1e-9);

  // Both a [targets] loudness and the reference's: refused, naming the keys.
  try {
    host::parse_profile(match_profile(dir / "ref.wav", "loudness = \"reference\"\n",
                                      "[targets]\nintegrated_lufs = -14.0\nceiling_dbtp = -1.0\n"),
                        "m.toml");
    ADD_FAILURE() << "accepted";
  } catch (const host::ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("integrated_lufs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("loudness"), std::string::npos) << e.what();
  }
  // No [targets]: refused, saying what is needed.
  try {
    host::parse_profile(match_profile(dir / "ref.wav", "loudness = \"reference\"\n"), "m.toml");
    ADD_FAILURE() << "accepted";
  } catch (const host::ProfileError& e) {
    EXPECT_NE(e.message().find("ceiling_dbtp"), std::string::npos) << e.message();
  }
}

TEST(Match, ReportHasTheCurve) {
  TempDir dir;
  const Planar track = shaped_noise(kFrames / 8, kRate, flat, 13);
  const Planar ref = shaped_noise(kFrames / 8, kRate, band(host::dsp::EqBandType::kHighShelf, 4000, 4, 0.707), 14);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  const host::Profile profile = host::parse_profile(match_profile(dir / "ref.wav"), "m.toml");
  const Mastered m = master(profile, {track}, kRate);
  ASSERT_TRUE(m.result.tracks[0].ok) << m.result.tracks[0].error;
  const auto j = host::make_report(m.result, profile, host::OutputFormat::kWav, host::SampleBits::kFloat32);
  const auto& match = j["tracks"][0]["match"];
  ASSERT_TRUE(match.is_object()) << j["tracks"][0].dump();
  EXPECT_EQ(match["reference"].get<std::string>(), (dir / "ref.wav").string());
  ASSERT_EQ(match["curve_db"].size(), 28u);
  EXPECT_EQ(match["curve_db"][0][0].get<double>(), 31.5);
  EXPECT_EQ(match["curve_db"][27][0].get<double>(), 16000.0);
  EXPECT_GT(match["curve_db"][25][1].get<double>(), match["curve_db"][10][1].get<double>() + 2.0);
  // A profile without a match stage writes no "match" entry.
  const host::Profile plain = host::parse_profile("[delivery]\nbits = \"32f\"\n", "p.toml");
  const Mastered p = master(plain, {track}, kRate);
  const auto jp = host::make_report(p.result, plain, host::OutputFormat::kWav, host::SampleBits::kFloat32);
  EXPECT_FALSE(jp["tracks"][0].contains("match"));
}

void expect_profile_error(const std::string& text, const std::string& needle) {
  try {
    host::parse_profile(text, "bad.toml");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const host::ProfileError& e) {
    EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
  }
}

TEST(Match, BadInput) {
  TempDir dir;
  const Planar ref = shaped_noise(kFrames / 16, kRate, flat, 15);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  const Planar silence(2, std::vector<float>(kFrames / 16, 0.0f));
  ASSERT_TRUE(write_audio(dir / "silence.wav", silence, kRate));
  expect_profile_error(match_profile(dir / "missing.wav"), "no such file");
  expect_profile_error(match_profile(dir / "missing.wav"), "reference");
  expect_profile_error(match_profile(dir / "silence.wav"), "silent");
  expect_profile_error(match_profile(dir / "ref.wav", "max_boost_db = 30\n"), "max_boost_db");
  expect_profile_error(match_profile(dir / "ref.wav", "max_cut_db = -1\n"), "max_cut_db");
  expect_profile_error(match_profile(dir / "ref.wav", "smoothing_oct = 0\n"), "smoothing_oct");
  expect_profile_error(match_profile(dir / "ref.wav", "amount_pct = 101\n"), "amount_pct");
  expect_profile_error(match_profile(dir / "ref.wav", "loudness = \"loud\"\n"), "loudness");
  expect_profile_error(match_profile(dir / "ref.wav", "low_hz = 1000\nhigh_hz = 3000\n"), "high_hz");
  expect_profile_error(match_profile(dir / "ref.wav", "colour = 1\n"), "colour");
  expect_profile_error("[[stage]]\ntype = \"match\"\n", "reference");
  // Not an audio file.
  {
    std::FILE* f = std::fopen((dir / "junk.wav").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("not audio", f);
    std::fclose(f);
  }
  expect_profile_error(match_profile(dir / "junk.wav"), "cannot read");
}

TEST(Match, SegmentInvariance) {
  TempDir dir;
  const Planar a = shaped_noise(kFrames / 8, kRate, flat, 16);
  Planar b = shaped_noise(kFrames / 16, kRate, band(host::dsp::EqBandType::kLowShelf, 150, -4, 0.707), 17);
  for (auto& ch : b) ch.resize(20000);  // a short track too (shorter than one analysis frame would be 8192)
  const Planar ref = shaped_noise(kFrames / 8, kRate, band(host::dsp::EqBandType::kBell, 2500, 5, 1.0), 18);
  ASSERT_TRUE(write_audio(dir / "ref.wav", ref, kRate));
  const host::Profile profile = host::parse_profile(match_profile(dir / "ref.wav"), "m.toml");
  const Mastered whole = master(profile, {a, b}, kRate, 1 << 20);
  ASSERT_TRUE(whole.result.tracks[0].ok && whole.result.tracks[1].ok);
  EXPECT_EQ(whole.out[0][0].size(), a[0].size());
  for (std::int64_t seg : {1000, 4097, 65536}) {
    const Mastered s = master(profile, {a, b}, kRate, seg);
    ASSERT_TRUE(s.result.tracks[0].ok && s.result.tracks[1].ok);
    EXPECT_EQ(s.out[0], whole.out[0]) << seg;
    EXPECT_EQ(s.out[1], whole.out[1]) << seg;
    EXPECT_EQ(s.result.tracks[1].match->curve_db, whole.result.tracks[1].match->curve_db) << seg;
  }
}

TEST(Match, LtasAccumulatorIsSegmentInvariant) {
  const Planar x = shaped_noise(1 << 15, kRate, flat, 19);
  std::vector<float> inter(x[0].size() * 2);
  for (std::size_t i = 0; i < x[0].size(); ++i) {
    inter[2 * i] = x[0][i];
    inter[2 * i + 1] = x[1][i];
  }
  host::dsp::LtasAccumulator one(kRate, 2), many(kRate, 2);
  one.add_interleaved(inter.data(), static_cast<std::int64_t>(x[0].size()));
  for (std::size_t at = 0; at < x[0].size(); at += 777) {
    const std::size_t n = std::min<std::size_t>(777, x[0].size() - at);
    many.add_interleaved(inter.data() + 2 * at, static_cast<std::int64_t>(n));
  }
  const auto p = one.finish(), q2 = many.finish();
  EXPECT_EQ(p.fft_size, 8192);
  EXPECT_EQ(p.power, q2.power);
  // A full-scale-ish sine reads A^2 / 4 in its peak bin.
  const double f0 = 100.0 * kRate / 8192.0;
  std::vector<float> sine(static_cast<std::size_t>(kRate));
  for (std::size_t i = 0; i < sine.size(); ++i)
    sine[i] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * f0 * static_cast<double>(i) / kRate));
  host::dsp::LtasAccumulator s(kRate, 1);
  s.add_interleaved(sine.data(), static_cast<std::int64_t>(sine.size()));
  EXPECT_NEAR(s.finish().power[100], 0.0625, 1e-4);
}

}  // namespace
}  // namespace lathe::test
