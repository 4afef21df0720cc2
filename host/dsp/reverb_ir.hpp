// Impulse responses for the reverb stage: the built-in ones (generated, with their recipe below), loading a file,
// and preparing an IR for one sample rate (resample, trim, fade, wet filters, level, predelay). Host-side, in
// double; the result is folded with the dry path into one FIR per channel (host/stages/reverb_stage.cpp).
#pragma once

#include <string>
#include <vector>

namespace lathe::host::dsp {

// The built-in IRs: "room", "plate", "hall".
const std::vector<std::string>& builtin_ir_names();

// A built-in IR generated at `rate_hz` (stereo, planar). Recipe: a late tail of deterministic white noise split
// at 3 kHz by a one-pole filter, each band decaying exponentially with its own T60 (the highs faster), built up
// over a short fade-in, plus (room, hall) a set of discrete early reflections that differ between the channels.
//   room:  T60 0.55 s (lows) / 0.35 s (highs), reflections 3 .. 31 ms, build-up 8 ms, length 0.7 s
//   plate: T60 1.8 s / 1.2 s, no reflections, build-up 2 ms, length 2.0 s
//   hall:  T60 2.6 s / 1.5 s, reflections 12 .. 86 ms, build-up 25 ms, length 3.0 s
// Deterministic: the same bits on every machine (no libm randomness; exp/log of the host libm in double, rounded
// once into the design).
std::vector<std::vector<double>> builtin_ir(const std::string& name, int rate_hz);

// How an IR is shaped before use.
struct IrShaping {
  double length_s = 0;          // trim to this length (0: keep the whole IR)
  double fade_ms = 0;           // raised-cosine fade-out over the last fade_ms of the (trimmed) IR
  double highpass_hz = 0;       // 2nd-order Butterworth high-pass on the wet signal (0: off)
  double lowpass_hz = 0;        // 2nd-order Butterworth low-pass on the wet signal (0: off)
  double predelay_ms = 0;       // silence before the IR
};

// Trims, fades, filters and normalises `ir` (planar, at rate_hz) in place, then prepends the predelay. The level
// is normalised to unit energy per output (the mean over outputs of the sum of squares is 1: for a true-stereo
// IR each output sums two responses), so a wet level of 0 dB gives a wet signal about as loud as the dry one on
// broadband material. Throws Error for an IR that is silent.
void shape_ir(std::vector<std::vector<double>>& ir, int rate_hz, const IrShaping& s);

// Reads an IR file (any format lathe reads; 1, 2 or 4 channels: a true-stereo IR in the order L>L, L>R, R>L,
// R>R) and converts it to `rate_hz` when its rate differs. Throws Error naming the file for a missing or
// unreadable file or another channel count.
std::vector<std::vector<double>> load_ir_file(const std::string& path, int rate_hz);

}  // namespace lathe::host::dsp
