// Host-side design of the linear-phase EQ (DESIGN.md section 3): profile bands -> the exact magnitude curve of
// their analog prototypes -> a symmetric (linear-phase) FIR by frequency sampling on a dense grid with a
// (sharpened) Kaiser window, computed once per (profile, sample rate) in double. The `eq` stage rounds the taps
// to float once and hands the same bytes to both engines.
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace lathe::host::dsp {

enum class EqBandType { kBell, kLowShelf, kHighShelf, kHighPass, kLowPass, kTilt };
enum class EqChannels { kStereo, kMid, kSide };

struct EqBand {
  EqBandType type;
  EqChannels channels = EqChannels::kStereo;
  double freq_hz = 0;      // centre / corner / pivot
  double gain_db = 0;      // bell, shelves
  double q = 0;            // bell, shelves (0 for shelves given by slope)
  double shelf_slope = 0;  // shelves given by slope S (RBJ cookbook meaning), else 0
  int order = 0;           // high/low-pass: Butterworth order = slope_db_per_oct / 6 (1..8)
  double db_per_oct = 0;   // tilt
  int line = 0;            // profile line of the band's table, for messages
  std::string label;       // e.g. "stage 2 (eq) band 3 (bell)"
};

// Ranges accepted in profiles (messages quote them).
inline constexpr double kEqMinFreqHz = 10.0;       // below this a band is inaudible and needs absurd FIR lengths
inline constexpr double kEqMaxFreqHz = 192000.0;   // exclusive: the Nyquist frequency of 384 kHz
inline constexpr double kEqMaxGainDb = 24.0;       // bells and shelves, +-
inline constexpr double kEqMinQ = 0.1;
inline constexpr double kEqMaxQ = 20.0;
inline constexpr double kEqMinShelfSlope = 0.1;    // RBJ S; 1 is the steepest shelf without overshoot
inline constexpr double kEqMaxShelfSlope = 1.0;
inline constexpr double kEqMaxTiltDbPerOct = 3.0;  // +-; 3 dB/oct is +-15 dB or more across 20 Hz .. 20 kHz
inline constexpr double kEqTiltLowHz = 20.0;       // the tilt is flat below and above these
inline constexpr double kEqTiltHighHz = 20000.0;
inline constexpr int kEqMaxBands = 64;
inline constexpr long kEqMaxFirTaps = (1L << 20) - 1;

// Parses the `bands` key of an eq stage's table (an array of tables, written either as
// `bands = [ { type = "bell", freq_hz = 3000, gain_db = -2, q = 1.4 }, ... ]` or as `[[stage.bands]]` tables).
// `where` names the stage in messages ("stage 2 (eq)"). An absent or empty `bands` is a flat EQ (no bands).
//   every band: type = "bell" | "low_shelf" | "high_shelf" | "highpass" | "lowpass" | "tilt";
//               channels = "stereo" (default) | "mid" | "side"
//   bell:       freq_hz, gain_db, q (all required)
//   shelves:    freq_hz, gain_db, and exactly one of q or slope (S, 0.1 .. 1)
//   highpass/lowpass: freq_hz, slope_db_per_oct (6 .. 48, a multiple of 6; default 12)
//   tilt:       db_per_oct (-3 .. 3), pivot_hz (20 .. 20000, default 1000)
// freq_hz: at least 10 Hz and below 192000 Hz; gain_db: -24 .. 24; q: 0.1 .. 20.
// Throws ProfileError "FILE:LINE: stage 2 (eq) band 3 (bell): q = 0: must be between 0.1 and 20 ...";
// unknown keys in a band are refused.
std::vector<EqBand> parse_eq_bands(const toml::table& stage_table, const std::string& file, const std::string& where);
// The bands as the `bands` array (every key written, defaults included); round-trips through parse_eq_bands.
toml::array eq_bands_to_toml(std::span<const EqBand> bands);
// Throws ProfileError (naming the band's line and label and the allowed range) when a band's freq_hz is at or
// above rate_hz / 2. A tilt's pivot is not a band edge (its curve is defined at any rate) and is not checked.
void eq_check_rate(std::span<const EqBand> bands, double rate_hz, const std::string& file);

// The specified curve: exact magnitude (linear gain) of one band, and of a set of bands (the product of all of
// them: the caller picks the bands of one channel path), at f_hz >= 0. Always finite.
//   bell: RBJ analog peaking |(s^2 + s A/Q + 1) / (s^2 + s/(A Q) + 1)|, A = 10^(gain/40), s = j f/f0
//   shelves: RBJ analog shelves (Q from S by the cookbook when given by slope), gain_db at DC / at infinity
//   highpass/lowpass: Butterworth, |H|^2 = 1/(1 + (fc/f)^2n) and 1/(1 + (f/fc)^2n); highpass is 0 at 0 Hz
//   tilt: db_per_oct * log2(f'/pivot) dB with f' = f clamped to [20 Hz, 20 kHz] (flat outside)
double eq_band_gain(const EqBand& band, double f_hz);
double eq_curve_gain(std::span<const EqBand> bands, double f_hz);

// The range [low, high] over which eq_auto_fir_taps holds the design to its tolerance: from 20 Hz (or the lowest
// band frequency when a band other than a tilt lies below 20 Hz) to min(20 kHz, 0.45 * rate_hz).
struct EqCheckRange {
  double low_hz;
  double high_hz;
};
EqCheckRange eq_check_range(std::span<const EqBand> bands, double rate_hz);

// The worst deviation of the realised magnitude of `taps` (designed for rate_hz) from eq_curve_gain over
// eq_check_range, measured on the design's dense frequency grid: in dB where the curve is at or above -60 dB
// (`db`), and in absolute linear gain where it is below (`below_60db_abs`).
struct EqFirError {
  double db = 0;
  double below_60db_abs = 0;
};
EqFirError eq_fir_error(std::span<const EqBand> bands, double rate_hz, std::span<const double> taps);

// Smallest FIR length 2^k - 1 (k = 6 .. 20) whose realised magnitude is within +-0.05 dB of eq_curve_gain over
// eq_check_range where the curve is at or above -60 dB, and within 1e-4 (-80 dB) absolute where it is below;
// checked numerically on the designed taps. 63 for an empty band list (a unit impulse). Returns 0 when even
// 2^20 - 1 taps do not reach it. The search starts at 2 * rate / (the narrowest feature in Hz: a bell's
// f0/Q, a shelf's or filter's corner, 20 Hz for a tilt), which no shorter FIR could resolve, so a narrow
// band cannot slip between grid points. Costs about twice the final design (1-30 ms for mastering curves at
// 44.1-192 kHz; ~0.5 s for 2^19 taps, ~1.5 s when it has to go to 2^20 - 1).
long eq_auto_fir_taps(std::span<const EqBand> bands, double rate_hz);

// The symmetric (linear-phase) FIR of exactly `taps` (odd, 3 .. 2^20 - 1) taps
// realising eq_curve_gain at rate_hz: the magnitude sampled on a dense grid (4 (taps + 1) points), zero phase,
// inverse FFT, a Kaiser window (beta 8) sharpened to 1 - (1 - w)^3. Centre tap at index (taps-1)/2;
// h[i] == h[taps-1-i] exactly. An empty band list (or one whose curve is exactly 1 everywhere on the grid, such
// as 0 dB bells) gives exactly a unit impulse. Deterministic (same taps on every run and thread).
// Throws std::invalid_argument for an even or out-of-range `taps` or a rate that is not positive.
std::vector<double> eq_design_fir(std::span<const EqBand> bands, double rate_hz, long taps);

// The same design for any magnitude curve: `gain(f_hz)` (linear, finite, >= 0) is sampled at k * rate_hz / m,
// k = 0 .. m/2, on the dense grid (m = the power of two >= 4 (taps + 1)), then zero phase, inverse FFT and the
// sharpened Kaiser window as above. A curve that is exactly 1.0 at every grid point gives exactly a unit
// impulse. eq_design_fir is this function with the bands' product as `gain`.
std::vector<double> design_linear_phase_fir(const std::function<double(double f_hz)>& gain, double rate_hz,
                                            long taps);

// The realised magnitude (linear) of symmetric FIR taps at f_hz: |sum h[n] e^{-j w n}| by a direct sum in
// double (for tests and diagnostics).
double fir_gain(std::span<const double> taps, double rate_hz, double f_hz);

}  // namespace lathe::host::dsp
