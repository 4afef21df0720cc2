// `lathe demo [OUTDIR]`: writes the bundled demo set (synthesised here, no downloads) as 24-bit WAV files.
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "host/demo/demo_set.hpp"
#include "host/io/audio_writer.hpp"

namespace lathe::cli {

CLI::App* add_demo(CLI::App& app, DemoArgs& a) {
  CLI::App* cmd = app.add_subcommand("demo", "Write the bundled demo set (synthesised music-like pieces) to a folder");
  cmd->add_option("OUTDIR", a.out_dir, "Folder to write the demo WAV files to")->capture_default_str();
  return cmd;
}

int run_demo(const DemoArgs& a) {
  std::filesystem::create_directories(a.out_dir);
  for (const host::DemoTrack& t : host::make_demo_set()) {
    host::WriterSpec spec;
    spec.format = host::OutputFormat::kWav;
    spec.bits = host::SampleBits::kFloat32;  // the pieces are float; keep them exactly
    spec.rate_hz = t.rate_hz;
    spec.channels = t.channels;
    spec.metadata = {{"title", t.title}, {"artist", t.artist}, {"album", "lathe demo set"}};
    const auto path = std::filesystem::path(a.out_dir) / t.file_name;
    host::AudioWriter w(path, spec, a.overwrite);
    std::vector<const float*> planar;
    for (const auto& ch : t.samples) planar.push_back(ch.data());
    w.write_float(planar, static_cast<std::int64_t>(t.samples[0].size()));
    w.commit();
    std::cout << "wrote " << path.string() << " (" << t.rate_hz << " Hz, " << t.channels << " ch, "
              << static_cast<double>(t.samples[0].size()) / t.rate_hz << " s)\n";
  }
  return kExitOk;
}

}  // namespace lathe::cli
