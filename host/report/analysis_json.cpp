#include "host/report/analysis_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace lathe::host {
namespace {

using nlohmann::json;

// Finite numbers as numbers, everything else (undefined, -infinity, NaN) as null.
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json number_or_null(const std::optional<double>& v) { return v ? number_or_null(*v) : json(nullptr); }

struct Totals {
  std::uint64_t clipped_runs = 0, clipped_samples = 0, intersample_overs = 0, nonfinite_samples = 0;
  double max_abs_dc_offset = 0;
};

Totals totals_of(const meter::TrackReport& r) {
  Totals t;
  for (const auto& c : r.per_channel) {
    t.clipped_runs += c.clipped_runs;
    t.clipped_samples += c.clipped_samples;
    t.intersample_overs += c.intersample_overs;
    t.nonfinite_samples += c.nonfinite_samples;
    if (std::isfinite(c.dc_offset)) t.max_abs_dc_offset = std::max(t.max_abs_dc_offset, std::fabs(c.dc_offset));
  }
  return t;
}

double duration_of(const meter::TrackReport& r) {
  return r.rate_hz > 0 ? static_cast<double>(r.frames) / r.rate_hz : 0.0;
}

// Shortest text that reads back as the same double; "" for undefined or non-finite values.
std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}
std::string csv_number(const std::optional<double>& v) { return v ? csv_number(*v) : std::string(); }

// RFC 4180: a text cell in double quotes, inner quotes doubled.
std::string csv_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

}  // namespace

double linear_to_db(double x) {
  if (!(x > 0)) return -std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(x);
}

std::vector<std::string> quality_flags(const meter::TrackReport& r, const QualityThresholds& t) {
  const Totals totals = totals_of(r);
  std::vector<std::string> flags;
  if (totals.clipped_runs > 0) flags.emplace_back("clipped");
  if (totals.intersample_overs > 0) flags.emplace_back("intersample-overs");
  if (totals.max_abs_dc_offset > t.dc_offset) flags.emplace_back("dc-offset");
  if (r.correlation && *r.correlation < t.correlation_below) flags.emplace_back("out-of-phase");
  if (r.mono_loss_lu && *r.mono_loss_lu > t.mono_loss_lu) flags.emplace_back("mono-loss");
  if (r.balance_lu && std::fabs(*r.balance_lu) > t.balance_lu) flags.emplace_back("unbalanced");
  if (r.leading_silence_s > t.silence_s) flags.emplace_back("leading-silence");
  if (r.trailing_silence_s > t.silence_s) flags.emplace_back("trailing-silence");
  if (totals.nonfinite_samples > 0) flags.emplace_back("non-finite");
  return flags;
}

json analysis_track_json(const AnalysedTrack& track, const QualityThresholds& thresholds) {
  json j = {{"input", track.input}, {"status", track.ok ? "analysed" : "failed"}};
  if (!track.ok) j["error"] = track.error;
  if (!track.container.empty()) {
    j["container"] = track.container;
    j["encoding"] = track.encoding;
  }
  if (!track.ok) return j;
  const meter::TrackReport& r = track.report;
  const Totals totals = totals_of(r);
  j["rate_hz"] = r.rate_hz;
  j["channels"] = r.channels;
  j["frames"] = r.frames;
  j["duration_s"] = duration_of(r);
  j["oversampling"] = r.oversampling;
  j["integrated_lufs"] = number_or_null(r.integrated_lufs);
  j["momentary_max_lufs"] = number_or_null(r.momentary_max_lufs);
  j["short_term_max_lufs"] = number_or_null(r.short_term_max_lufs);
  j["lra_lu"] = number_or_null(r.lra_lu);
  j["true_peak_dbtp"] = number_or_null(r.true_peak_dbtp);
  j["sample_peak_dbfs"] = number_or_null(r.sample_peak_dbfs);
  j["correlation"] = number_or_null(r.correlation);
  j["mono_loss_lu"] = number_or_null(r.mono_loss_lu);
  j["balance_lu"] = number_or_null(r.balance_lu);
  j["leading_silence_s"] = number_or_null(r.leading_silence_s);
  j["trailing_silence_s"] = number_or_null(r.trailing_silence_s);
  j["clipped_runs"] = totals.clipped_runs;
  j["clipped_samples"] = totals.clipped_samples;
  j["intersample_overs"] = totals.intersample_overs;
  j["nonfinite_samples"] = totals.nonfinite_samples;
  j["max_abs_dc_offset"] = number_or_null(totals.max_abs_dc_offset);
  j["flags"] = quality_flags(r, thresholds);
  json channels = json::array();
  for (std::size_t c = 0; c < r.per_channel.size(); ++c) {
    const meter::ChannelReport& ch = r.per_channel[c];
    channels.push_back({{"channel", c + 1},
                        {"sample_peak", number_or_null(ch.sample_peak)},
                        {"sample_peak_dbfs", number_or_null(linear_to_db(ch.sample_peak))},
                        {"true_peak", number_or_null(ch.true_peak)},
                        {"true_peak_dbtp", number_or_null(linear_to_db(ch.true_peak))},
                        {"dc_offset", number_or_null(ch.dc_offset)},
                        {"clipped_runs", ch.clipped_runs},
                        {"clipped_samples", ch.clipped_samples},
                        {"intersample_overs", ch.intersample_overs},
                        {"nonfinite_samples", ch.nonfinite_samples}});
  }
  j["per_channel"] = channels;
  json curve = json::array();
  for (const auto& v : r.short_term_curve) curve.push_back(number_or_null(v));
  j["short_term_curve"] = {{"step_s", r.curve_step_s}, {"lufs", curve}};
  return j;
}

json make_analysis_json(const std::vector<AnalysedTrack>& tracks, const std::optional<AlbumMeasures>& album,
                        const AnalysisSummary& summary, const QualityThresholds& thresholds) {
  const auto analysed = std::count_if(tracks.begin(), tracks.end(), [](const AnalysedTrack& t) { return t.ok; });
  json j;
  j["schema"] = "lathe.analysis/1";
  j["version"] = LATHE_VERSION;
  j["summary"] = {{"tracks", tracks.size()},
                  {"analysed", analysed},
                  {"failed", static_cast<std::int64_t>(tracks.size()) - analysed},
                  {"audio_seconds", number_or_null(summary.audio_seconds)},
                  {"wall_seconds", number_or_null(summary.wall_seconds)},
                  {"times_real_time", summary.wall_seconds > 0
                                          ? number_or_null(summary.audio_seconds / summary.wall_seconds)
                                          : json(nullptr)}};
  j["thresholds"] = {{"dc_offset", thresholds.dc_offset},
                     {"correlation_below", thresholds.correlation_below},
                     {"mono_loss_lu", thresholds.mono_loss_lu},
                     {"balance_lu", thresholds.balance_lu},
                     {"silence_s", thresholds.silence_s}};
  json list = json::array();
  for (const auto& t : tracks) list.push_back(analysis_track_json(t, thresholds));
  j["tracks"] = list;
  if (album)
    j["album"] = {{"tracks", album->tracks},
                  {"integrated_lufs", number_or_null(album->integrated_lufs)},
                  {"lra_lu", number_or_null(album->lra_lu)}};
  return j;
}

std::string make_analysis_csv(const std::vector<AnalysedTrack>& tracks, const QualityThresholds& thresholds) {
  std::string out =
      "input,status,error,container,encoding,rate_hz,channels,frames,duration_s,integrated_lufs,momentary_max_lufs,"
      "short_term_max_lufs,lra_lu,true_peak_dbtp,sample_peak_dbfs,correlation,mono_loss_lu,balance_lu,"
      "leading_silence_s,trailing_silence_s,clipped_runs,clipped_samples,intersample_overs,nonfinite_samples,"
      "max_abs_dc_offset,flags\n";
  for (const auto& t : tracks) {
    std::vector<std::string> cells = {csv_text(t.input), csv_text(t.ok ? "analysed" : "failed"), csv_text(t.error),
                                      csv_text(t.container), csv_text(t.encoding)};
    if (t.ok) {
      const meter::TrackReport& r = t.report;
      const Totals totals = totals_of(r);
      for (const std::string& s :
           {std::to_string(r.rate_hz), std::to_string(r.channels), std::to_string(r.frames), csv_number(duration_of(r)),
            csv_number(r.integrated_lufs), csv_number(r.momentary_max_lufs), csv_number(r.short_term_max_lufs),
            csv_number(r.lra_lu), csv_number(r.true_peak_dbtp), csv_number(r.sample_peak_dbfs),
            csv_number(r.correlation), csv_number(r.mono_loss_lu), csv_number(r.balance_lu),
            csv_number(r.leading_silence_s), csv_number(r.trailing_silence_s), std::to_string(totals.clipped_runs),
            std::to_string(totals.clipped_samples), std::to_string(totals.intersample_overs),
            std::to_string(totals.nonfinite_samples), csv_number(totals.max_abs_dc_offset),
            csv_text(join(quality_flags(r, thresholds), " "))})
        cells.push_back(s);
    } else {
      cells.resize(cells.size() + 21);  // the measures of a track that could not be read are empty
    }
    out += join(cells, ",") + "\n";
  }
  return out;
}

}  // namespace lathe::host
