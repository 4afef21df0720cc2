// The `compressor` stage (feed-forward, kernels/dynamics.hpp), and the reading and writing of its curve keys,
// which the multiband stage's bands share.
#pragma once

#include <toml++/toml.h>

#include <memory>

#include "host/dsp/compressor.hpp"
#include "host/stage.hpp"

namespace lathe::host {

std::unique_ptr<Stage> make_compressor_stage(ProfileTable& table);

// The curve and timing keys (threshold_db, ratio, knee_db, attack_ms, release_ms, makeup_db, mix) with their
// ranges and defaults, read from `t` into `p` (errors name the key); and written back as TOML.
void read_compressor_curve(ProfileTable& t, dsp::CompressorParams& p);
void write_compressor_curve(const dsp::CompressorParams& p, toml::table& out);

}  // namespace lathe::host
