// `lathe analyze INPUT...`: loudness (BS.1770 / EBU R 128), true peak and quality checks of every track, in
// parallel over tracks; a table on the terminal, and optionally JSON ("lathe.analysis/1") and CSV.
// `lathe verify OUTDIR --profile NAME`: the same measures held to a profile (at the end of this file).
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <map>
#include <set>

#include "cli/commands.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/audio_reader.hpp"
#include "host/master.hpp"
#include "host/meter/meter.hpp"
#include "host/profile/profile.hpp"
#include "host/stages/limiter_stage.hpp"
#include "host/report/analysis_json.hpp"
#include "host/util/text.hpp"

namespace lathe::cli {
namespace fs = std::filesystem;
using namespace lathe::host;

namespace {

const char* kAnalyzeExitCodesText =
    "Exit codes:\n"
    "  0  every track was analysed\n"
    "  1  some tracks could not be read (the others are analysed; see the errors), or an output could not be written\n"
    "  2  usage error (no inputs, bad option): nothing was analysed\n";

// Frames decoded and metered at a time: memory per track stays bounded whatever its length.
constexpr std::int64_t kSegmentFrames = std::int64_t{1} << 16;

// One INPUT, or one file found in an INPUT folder; `problem` is set when it will not be analysed.
struct Input {
  std::string name;
  std::string problem;
};

fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : a;
}

bool is_hidden(const fs::path& p) {
  const std::string s = p.filename().string();
  return s.empty() || s[0] == '.';
}

// The files to analyse, as `lathe master` finds them (host/io/jobs.cpp): files named are taken whatever their
// extension; folders are searched recursively for audio extensions, hidden files and folders (lathe's temporary
// files among them) skipped, in sorted order; a file named twice is analysed once.
std::vector<Input> find_inputs(const std::vector<std::string>& args) {
  std::vector<Input> out;
  std::set<fs::path> seen;
  auto add_file = [&](const fs::path& p) {
    if (seen.insert(absolute_normal(p)).second) out.push_back({p.string(), {}});
  };
  for (const std::string& arg : args) {
    const fs::path in(arg);
    std::error_code ec;
    const auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) {
      out.push_back({arg, "input not found (check the path)"});
      continue;
    }
    if (!fs::is_directory(st)) {
      add_file(in);
      continue;
    }
    std::vector<fs::path> found;
    fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (is_hidden(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && has_audio_extension(it->path())) found.push_back(it->path());
    }
    if (ec) out.push_back({arg, "cannot search folder: " + ec.message()});
    if (found.empty() && !ec) out.push_back({arg, "no audio files found in this folder"});
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add_file(f);
  }
  return out;
}

InputError truncated_error(std::int64_t frames) {
  return InputError("truncated: the file holds less audio than its header declares (" + std::to_string(frames) +
                        " frames readable)",
                    "the file is damaged; re-export or re-copy it");
}

// A report trimmed to what the outputs need (a catalogue run keeps one report per track).
void trim_report(meter::TrackReport& r, bool keep_album_powers, bool keep_curve) {
  if (!keep_album_powers) {
    std::vector<double>().swap(r.block_powers);
    std::vector<double>().swap(r.short_term_powers);
  }
  if (!keep_curve) std::vector<std::optional<double>>().swap(r.short_term_curve);
}

// Decodes one file in bounded segments into a TrackMeter. NaN/Inf samples are counted by the meter, not refused:
// analysis is the quality check. Unreadable, empty and truncated files fail with the reason.
AnalysedTrack analyse_file(const std::string& name, bool keep_album_powers, bool keep_curve) {
  AnalysedTrack t;
  t.input = name;
  try {
    AudioReader reader{fs::path(name)};
    const AudioInfo& info = reader.info();
    t.container = info.container;
    t.encoding = info.encoding;
    if (info.truncated) throw truncated_error(info.frames);
    meter::TrackMeter meter(info.rate_hz, info.channels);
    std::vector<float> buf(static_cast<std::size_t>(kSegmentFrames) * static_cast<std::size_t>(info.channels));
    std::int64_t frames = 0;
    for (;;) {
      const std::int64_t got = reader.read_interleaved(buf.data(), kSegmentFrames);
      if (got <= 0) break;
      meter.add_interleaved(buf.data(), got);
      frames += got;
    }
    if (frames == 0) throw InputError("no audio: the file holds 0 samples", "nothing to analyse; remove it");
    if (info.frames > 0 && frames < info.frames) throw truncated_error(frames);
    t.report = meter.finish();
    trim_report(t.report, keep_album_powers, keep_curve);
    t.ok = true;
  } catch (const Error& e) {
    t.error = e.message();
  } catch (const std::bad_alloc&) {
    t.error = "out of memory while analysing (analyse fewer tracks at once: --threads)";
  } catch (const std::exception& e) {
    // One track's failure never loses the others' analysis.
    t.error = std::string("internal error: ") + e.what() + " (please report this with the file)";
  }
  return t;
}

// The engine path (--engine gpu|auto): tracks in groups of kBatchTracks, the next segment of every track of a
// group decoded side by side, then metered in one Engine::meter call. The same kernels as analyse_file, so the
// same bits; `done` is called for each track as it ends.
constexpr std::size_t kBatchTracks = 32;

void analyse_batched(const std::vector<std::string>& names, Engine& engine, bool keep_album_powers, bool keep_curve,
                     const std::function<void(std::size_t, AnalysedTrack&&)>& done) {
  struct Open {
    std::size_t index = 0;
    AnalysedTrack track;
    std::unique_ptr<AudioReader> reader;
    std::unique_ptr<meter::TrackMeter> meter;
    std::int64_t frames = 0;
    std::int64_t got = 0;
    std::vector<float> interleaved;
    std::vector<std::vector<float>> planar;
    std::vector<const float*> ptrs;
    bool finished = false;
    bool reported = false;
  };
  auto fail = [](Open& o, const std::string& why) {
    o.track.ok = false;
    o.track.error = why;
    o.finished = true;
  };
  for (std::size_t base = 0; base < names.size(); base += kBatchTracks) {
    const std::size_t count = std::min(kBatchTracks, names.size() - base);
    std::vector<Open> group(count);
    auto guarded = [&](Open& o, auto&& body) {
      try {
        body();
      } catch (const Error& e) {
        fail(o, e.message());
      } catch (const std::bad_alloc&) {
        fail(o, "out of memory while analysing (analyse fewer tracks at once)");
      } catch (const std::exception& e) {
        fail(o, std::string("internal error: ") + e.what() + " (please report this with the file)");
      }
    };
    tbb::parallel_for(std::size_t{0}, count, [&](std::size_t k) {
      Open& o = group[k];
      o.index = base + k;
      o.track.input = names[o.index];
      guarded(o, [&] {
        o.reader = std::make_unique<AudioReader>(fs::path(names[o.index]));
        const AudioInfo& info = o.reader->info();
        o.track.container = info.container;
        o.track.encoding = info.encoding;
        if (info.truncated) throw truncated_error(info.frames);
        o.meter = std::make_unique<meter::TrackMeter>(info.rate_hz, info.channels);
        const auto ch = static_cast<std::size_t>(info.channels);
        o.interleaved.resize(static_cast<std::size_t>(kSegmentFrames) * ch);
        o.planar.assign(ch, std::vector<float>(static_cast<std::size_t>(kSegmentFrames)));
        o.ptrs.resize(ch);
        for (std::size_t c = 0; c < ch; ++c) o.ptrs[c] = o.planar[c].data();
      });
    });
    for (;;) {
      // Decode the next segment of every open track, side by side.
      tbb::parallel_for(std::size_t{0}, count, [&](std::size_t k) {
        Open& o = group[k];
        o.got = 0;
        if (o.finished) return;
        guarded(o, [&] {
          o.got = o.reader->read_interleaved(o.interleaved.data(), kSegmentFrames);
          const std::size_t ch = o.planar.size();
          for (std::size_t c = 0; c < ch; ++c)
            for (std::int64_t i = 0; i < o.got; ++i)
              o.planar[c][static_cast<std::size_t>(i)] = o.interleaved[static_cast<std::size_t>(i) * ch + c];
          if (o.got > 0) return;
          // The end of this track.
          const AudioInfo& info = o.reader->info();
          if (o.frames == 0) throw InputError("no audio: the file holds 0 samples", "nothing to analyse; remove it");
          if (info.frames > 0 && o.frames < info.frames) throw truncated_error(o.frames);
          o.track.report = o.meter->finish();
          trim_report(o.track.report, keep_album_powers, keep_curve);
          o.track.ok = true;
          o.finished = true;
        });
      });
      std::vector<meter::SegmentInput> inputs;
      for (Open& o : group)
        if (!o.finished && o.got > 0) inputs.push_back(meter::SegmentInput{o.meter.get(), o.ptrs, o.got});
      for (Open& o : group) {
        if (o.finished && !o.reported) {
          o.reported = true;
          o.reader.reset();
          o.meter.reset();
          done(o.index, std::move(o.track));
        }
      }
      if (inputs.empty()) break;
      meter::TrackMeter::add_many(engine, inputs);
      for (Open& o : group)
        if (!o.finished && o.got > 0) o.frames += o.got;
    }
  }
}

std::string level(const std::optional<double>& v) { return v && std::isfinite(*v) ? fixed(*v, 1) : "-"; }
std::string peak(double v) { return std::isfinite(v) ? fixed(v, 1) : "-inf"; }

// The flags of the table: the JSON names, with the count where one says more.
std::string table_flags(const meter::TrackReport& r) {
  std::uint64_t clipped_runs = 0, overs = 0, nonfinite = 0;
  for (const auto& c : r.per_channel) {
    clipped_runs += c.clipped_runs;
    overs += c.intersample_overs;
    nonfinite += c.nonfinite_samples;
  }
  std::string out;
  for (const std::string& f : quality_flags(r)) {
    out += out.empty() ? "" : " ";
    out += f;
    if (f == "clipped") out += ":" + std::to_string(clipped_runs);
    if (f == "intersample-overs") out += ":" + std::to_string(overs);
    if (f == "non-finite") out += ":" + std::to_string(nonfinite);
  }
  return out;
}

constexpr const char* kTableHeader = "integrated  M max  S max   LRA   dBTP   dBFS  duration  track  [flags]\n";

void print_row(std::ostream& out, const AnalysedTrack& t) {
  const meter::TrackReport& r = t.report;
  const std::string integrated = r.integrated_lufs ? fixed(*r.integrated_lufs, 1) : "below gate";
  char line[256];
  std::snprintf(line, sizeof line, "%10s %6s %6s %5s %6s %6s %9s  ", integrated.c_str(),
                level(r.momentary_max_lufs).c_str(), level(r.short_term_max_lufs).c_str(), level(r.lra_lu).c_str(),
                peak(r.true_peak_dbtp).c_str(), peak(r.sample_peak_dbfs).c_str(),
                format_time(r.rate_hz > 0 ? static_cast<double>(r.frames) / r.rate_hz : 0.0).c_str());
  const std::string flags = table_flags(r);
  out << line << t.input << (flags.empty() ? "" : "  [" + flags + "]") << "\n" << std::flush;
}

// --json/--csv FILE must name a file in an existing folder, checked before anything is analysed.
void check_output_path(const std::string& option, const std::string& path) {
  if (path.empty() || path == "-") return;
  const fs::path p(path);
  const fs::path folder = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (fs::is_directory(p, ec) || !fs::is_directory(folder, ec))
    throw UsageError("cannot write " + option + " to " + p.string(),
                     "give " + option + " a file name in an existing folder, or - for standard output");
}

}  // namespace

CLI::App* add_analyze(CLI::App& app, AnalyzeArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Measure loudness (BS.1770 / EBU R 128), true peak and quality problems of audio files or folders");
  cmd->add_option("INPUT", a.inputs, "Audio files, or folders searched recursively")->required();
  cmd->add_option("--json", a.json,
                  "Write the analysis as JSON (schema lathe.analysis/1) to this file, or - for standard output "
                  "(the table then goes to standard error)");
  cmd->add_option("--csv", a.csv,
                  "Write one CSV row per track to this file, or - for standard output (the table then goes to "
                  "standard error)");
  cmd->add_flag("--album", a.album, "Also measure all tracks as one album (integrated loudness and LRA)");
  cmd->add_option("--threads", a.threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 4096));
  cmd->add_option("-e,--engine", a.engine,
                  "cpu (default): every core decodes and meters whole tracks; gpu: segments of 32 tracks at a time "
                  "metered in one GPU call (exit 3 without a GPU); auto: the GPU when one works. Every engine gives "
                  "the same numbers, bit for bit")
      ->check(CLI::IsMember({"auto", "cpu", "gpu"}))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", a.quiet, "Print only errors, the album line and the summary");
  cmd->footer(kAnalyzeExitCodesText);
  return cmd;
}

int run_analyze(const AnalyzeArgs& a) {
  if (a.json == "-" && a.csv == "-")
    throw UsageError("--json - and --csv - both ask for standard output", "write one of them to a file");
  if (!a.json.empty() && a.json != "-" && a.json == a.csv)
    throw UsageError("--json and --csv name the same file " + a.json, "give them different files");
  check_output_path("--json", a.json);
  check_output_path("--csv", a.csv);
  // A document on standard output stays clean: the table and the summary go to standard error instead.
  std::ostream& out = (a.json == "-" || a.csv == "-") ? std::cerr : std::cout;

  std::unique_ptr<tbb::global_control> threads;
  if (a.threads > 0)
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<std::size_t>(a.threads));

  const auto start = std::chrono::steady_clock::now();
  const std::vector<Input> inputs = find_inputs(a.inputs);
  std::vector<AnalysedTrack> tracks(inputs.size());
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tracks[i].input = inputs[i].name;
    if (inputs[i].problem.empty()) {
      todo.push_back(i);
    } else {
      tracks[i].error = inputs[i].problem;
      print_error(inputs[i].name + ": " + inputs[i].problem);
    }
  }

  if (!a.quiet) {
    out << "lathe " LATHE_VERSION ": analysing " << todo.size() << " track(s)\n" << kTableHeader << std::flush;
  }
  std::mutex print_mutex;
  const bool keep_curve = !a.json.empty();
  auto record = [&](std::size_t k, AnalysedTrack&& t) {
    {
      const std::lock_guard<std::mutex> lock(print_mutex);
      if (t.ok && !a.quiet) print_row(out, t);
      if (!t.ok) print_error(t.input + ": " + t.error);
    }
    tracks[todo[k]] = std::move(t);
  };
  if (a.engine == "cpu") {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, todo.size(), 1),
        [&](const tbb::blocked_range<std::size_t>& range) {
          for (std::size_t k = range.begin(); k != range.end(); ++k)
            record(k, analyse_file(inputs[todo[k]].name, a.album, keep_curve));
        },
        tbb::simple_partitioner());
  } else {
    std::unique_ptr<Engine> engine = choose_engine(a.engine);  // GpuError -> exit 3
    std::vector<std::string> names;
    for (std::size_t k : todo) names.push_back(inputs[k].name);
    analyse_batched(names, *engine, a.album, keep_curve, record);
  }

  AnalysisSummary summary;
  int failed = 0;
  for (const auto& t : tracks) {
    if (t.ok)
      summary.audio_seconds += static_cast<double>(t.report.frames) / t.report.rate_hz;
    else
      ++failed;
  }

  std::optional<AlbumMeasures> album;
  if (a.album) {
    // The album gates the blocks of every analysed track as one programme.
    std::vector<meter::TrackReport> reports;
    std::vector<std::size_t> from;
    for (std::size_t i = 0; i < tracks.size(); ++i)
      if (tracks[i].ok) {
        reports.push_back(std::move(tracks[i].report));
        from.push_back(i);
      }
    album = AlbumMeasures{static_cast<int>(reports.size()), meter::album_integrated_lufs(reports),
                          meter::album_lra_lu(reports)};
    for (std::size_t k = 0; k < from.size(); ++k) tracks[from[k]].report = std::move(reports[k]);
    out << "album (" << album->tracks << " track(s)): integrated "
        << (album->integrated_lufs ? fixed(*album->integrated_lufs, 1) + " LUFS" : std::string("below gate"))
        << ", LRA " << (album->lra_lu ? fixed(*album->lra_lu, 1) + " LU" : std::string("-")) << "\n";
  }
  summary.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out << tracks.size() - static_cast<std::size_t>(failed) << " analysed, " << failed << " failed; "
      << fixed(summary.audio_seconds, 1) << " s of audio in " << fixed(summary.wall_seconds, 2) << " s ("
      << fixed(summary.wall_seconds > 0 ? summary.audio_seconds / summary.wall_seconds : 0.0, 1)
      << "x real time)\n"
      << std::flush;

  bool write_failed = false;
  auto emit = [&](const std::string& option, const std::string& path, const std::string& text) {
    if (path.empty()) return;
    if (path == "-") {
      std::cout << text << std::flush;
      return;
    }
    try {
      write_text_atomically(path, text);
    } catch (const Error& e) {
      // The analysis is done; only this output is lost: a partial failure, not a usage error.
      print_error(option.substr(2) + ": " + e.message());
      write_failed = true;
    }
  };
  if (!a.json.empty()) emit("--json", a.json, make_analysis_json(tracks, album, summary).dump(2) + "\n");
  if (!a.csv.empty()) emit("--csv", a.csv, make_analysis_csv(tracks));
  return failed > 0 || write_failed ? kExitSomeFailed : kExitOk;
}

// ---- lathe verify OUTDIR --profile NAME ----------------------------------------------------------------------
// The compliance check before delivery: every audio file under OUTDIR is measured again and held to the
// profile's delivery (sample rate, word length) and targets (integrated loudness within the tolerance, true peak
// at or under the ceiling, both as lathe's meter reads them; in album mode the album's loudness, per folder).

CLI::App* add_verify(CLI::App& app, VerifyArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "verify", "Measure delivered files again and fail (exit 1) on any off target, over the ceiling or in the "
                "wrong format for the profile");
  cmd->add_option("OUTDIR", a.out_dir, "Folder of delivered files (searched recursively)")->required();
  cmd->add_option("-p,--profile", a.profile, "The profile the files were mastered with (name or .toml file)")
      ->capture_default_str();
  cmd->add_flag("--album", a.album, "Check each folder's album loudness instead of each track's (album mode)");
  cmd->add_option("--threads", a.threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 4096));
  cmd->add_flag("-q,--quiet", a.quiet, "Print only the failures and the summary");
  cmd->footer("Exit codes:\n  0  every file complies\n  1  some file is off target, over the ceiling, in the wrong "
              "format or unreadable\n  2  usage error (no files, bad profile)\n");
  return cmd;
}

int run_verify(const VerifyArgs& a) {
  const Profile profile = load_profile(a.profile);  // ProfileError -> exit 2
  std::vector<Input> found = find_inputs({a.out_dir});
  std::vector<std::string> names;
  for (const Input& in : found)
    if (in.problem.empty()) names.push_back(in.name);
  if (names.empty()) throw UsageError("no audio files found in " + a.out_dir, "give the folder lathe master wrote");
  std::sort(names.begin(), names.end());
  std::unique_ptr<tbb::global_control> threads;
  if (a.threads > 0)
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<std::size_t>(a.threads));
  const bool album = a.album || profile.targets.album;
  std::vector<AnalysedTrack> tracks(names.size());
  tbb::parallel_for(std::size_t{0}, names.size(),
                    [&](std::size_t i) { tracks[i] = analyse_file(names[i], album, false); });

  const std::optional<double> target = profile.targets.integrated_lufs;
  const double tolerance = profile.targets.tolerance_lu;
  // The ceiling the profile delivers to: its targets', else its limiter's own.
  std::optional<double> ceiling = profile.targets.ceiling_dbtp;
  for (const auto& st : profile.stages)
    if (const auto* lim = dynamic_cast<const LimiterStage*>(st.get())) ceiling = lim->params(ceiling).ceiling_dbtp;
  // libsndfile's names of the encodings ("Signed 24 bit PCM", "32 bit float"), and ours for messages.
  const bool is_float = profile.delivery.bits == SampleBits::kFloat32;
  const std::string word_sf =
      is_float ? "32 bit float" : std::to_string(static_cast<int>(profile.delivery.bits)) + " bit PCM";
  const std::string word =
      is_float ? "32-bit float" : std::to_string(static_cast<int>(profile.delivery.bits)) + "-bit PCM";
  std::map<std::string, std::vector<std::size_t>> folders;
  for (std::size_t i = 0; i < tracks.size(); ++i) folders[fs::path(names[i]).parent_path().string()].push_back(i);
  std::map<std::string, std::optional<double>> album_lufs;
  if (album) {
    for (const auto& [folder, idx] : folders) {
      std::vector<meter::TrackReport> reports;
      for (const std::size_t i : idx)
        if (tracks[i].ok) reports.push_back(tracks[i].report);
      album_lufs[folder] = meter::album_integrated_lufs(reports);
    }
  }
  int failed = 0;
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    const AnalysedTrack& t = tracks[i];
    std::vector<std::string> why;
    if (!t.ok) {
      why.push_back(t.error);
    } else {
      const meter::TrackReport& r = t.report;
      if (profile.delivery.sample_rate_hz && r.rate_hz != *profile.delivery.sample_rate_hz)
        why.push_back("rate " + std::to_string(r.rate_hz) + " Hz, the profile delivers " +
                      std::to_string(*profile.delivery.sample_rate_hz) + " Hz");
      if (t.encoding.find(word_sf) == std::string::npos)
        why.push_back(t.encoding + ", the profile delivers " + word);
      if (target) {
        const std::optional<double> got =
            album ? album_lufs[fs::path(names[i]).parent_path().string()] : r.integrated_lufs;
        const std::string what = album ? "album" : "integrated";
        if (!got)
          why.push_back(what + " loudness below gate, target " + fixed(*target, 1) + " LUFS");
        else if (std::abs(*got - *target) > tolerance)
          why.push_back(what + " " + fixed(*got, 2) + " LUFS, target " + fixed(*target, 1) + " +- " +
                        fixed(tolerance, 2));
      }
      if (ceiling && r.true_peak_dbtp > *ceiling)
        why.push_back("true peak " + fixed(r.true_peak_dbtp, 2) + " dBTP over the ceiling " + fixed(*ceiling, 1));
    }
    if (!why.empty()) ++failed;
    if (why.empty() && a.quiet) continue;
    std::cout << (why.empty() ? "ok      " : "FAILED  ") << names[i];
    if (t.ok)
      std::cout << "  (" << level(t.report.integrated_lufs) << " LUFS, " << peak(t.report.true_peak_dbtp) << " dBTP)";
    std::cout << "\n";
    for (const auto& w : why) std::cout << "        " << w << "\n";
  }
  std::cout << tracks.size() - static_cast<std::size_t>(failed) << " of " << tracks.size() << " files comply with '"
            << profile.name << "'" << (failed ? "; " + std::to_string(failed) + " do not" : std::string()) << "\n";
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
