#include "host/report/report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "host/errors.hpp"

namespace lathe::host {
namespace {

// Undefined loudness (below gate) and the peaks of digital silence (-infinity) are null, never NaN or -inf.
nlohmann::json loudness_json(const LoudnessSummary& l) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  auto db = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"integrated_lufs", opt(l.integrated_lufs)},
          {"lra_lu", opt(l.lra_lu)},
          {"short_term_max_lufs", opt(l.short_term_max_lufs)},
          {"true_peak_dbtp", db(l.true_peak_dbtp)},
          {"sample_peak_dbfs", db(l.sample_peak_dbfs)},
          {"correlation", opt(l.correlation)}};
}

// A curve's values to hundredths (a plot needs no more, and the report stays small); NaN as null.
nlohmann::json curve_json(const std::vector<float>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const float x : v)
    a.push_back(std::isfinite(x) ? nlohmann::json(std::round(static_cast<double>(x) * 100.0) / 100.0)
                                 : nlohmann::json(nullptr));
  return a;
}

nlohmann::json curves_json(const TrackCurves& c) {
  return {{"loudness_step_s", c.loudness_step_s},
          {"short_term_in_lufs", curve_json(c.short_term_in_lufs)},
          {"short_term_out_lufs", curve_json(c.short_term_out_lufs)},
          {"gain_reduction_step_s", c.gain_reduction_step_s},
          {"gain_reduction_db", curve_json(c.gain_reduction_db)},
          {"spectrum_hz", curve_json(c.spectrum_hz)},
          {"spectrum_in_db", curve_json(c.spectrum_in_db)},
          {"spectrum_out_db", curve_json(c.spectrum_out_db)}};
}

// Seconds from the run's start, to the millisecond.
double since(std::chrono::steady_clock::time_point origin, std::chrono::steady_clock::time_point t) {
  return std::round(std::chrono::duration<double>(t - origin).count() * 1000.0) / 1000.0;
}

}  // namespace

nlohmann::json make_report(const MasterResult& result, const Profile& profile, OutputFormat format, SampleBits bits) {
  using nlohmann::json;
  json j;
  j["schema"] = "lathe.report/1";
  j["version"] = LATHE_VERSION;
  j["engine"] = result.engine;
  json targets = json::object();
  if (profile.targets.integrated_lufs) targets["integrated_lufs"] = *profile.targets.integrated_lufs;
  if (profile.targets.ceiling_dbtp) targets["ceiling_dbtp"] = *profile.targets.ceiling_dbtp;
  targets["tolerance_lu"] = profile.targets.tolerance_lu;
  targets["max_gain_db"] = profile.targets.max_gain_db;
  targets["max_gain_reduction_db"] = profile.targets.max_gain_reduction_db;
  targets["album"] = profile.targets.album;
  json stages = json::array();
  for (const auto& s : profile.stages) stages.push_back(s->type());
  j["profile"] = {{"name", profile.name},
                  {"source", profile.source},
                  {"delivery", {{"format", to_string(format)}, {"bits", to_string(bits)}, {"sample_rate_hz", profile.delivery.sample_rate_hz ? json(*profile.delivery.sample_rate_hz) : json("keep")}}},
                  {"targets", targets},
                  {"stages", stages}};
  const int failed = result.failed();
  json stage_seconds = json::object();
  for (const auto& [k, v] : result.stage_seconds) stage_seconds[k] = v;
  j["summary"] = {{"tracks", result.tracks.size()},
                  {"written", static_cast<int>(result.tracks.size()) - failed},
                  {"failed", failed},
                  {"audio_seconds", result.audio_seconds},
                  {"wall_seconds", result.wall_seconds},
                  {"times_real_time", result.wall_seconds > 0 ? result.audio_seconds / result.wall_seconds : 0.0},
                  {"stage_seconds", stage_seconds}};
  json tracks = json::array();
  for (const auto& t : result.tracks) {
    json r = {{"input", t.input}, {"output", t.output}, {"status", t.ok ? "written" : "failed"}};
    if (!t.engine.empty()) r["engine"] = t.engine;
    if (!t.ok) r["error"] = t.error;
    const std::chrono::steady_clock::time_point unset{};
    if (t.started_at != unset && t.finished_at != unset && result.started_at != unset)
      r["timing"] = {{"started_s", since(result.started_at, t.started_at)},
                     {"finished_s", since(result.started_at, t.finished_at)},
                     {"seconds", since(t.started_at, t.finished_at)}};
    if (t.rate_hz > 0) {
      r["rate_hz"] = t.rate_hz;
      r["channels"] = t.channels;
      r["frames"] = t.frames;
      r["duration_s"] = t.duration_s;
      r["content_key"] = t.content_key;
      r["input_peak_dbfs"] = std::isfinite(t.input_peak_dbfs) ? json(t.input_peak_dbfs) : json(nullptr);
      r["clipped_samples"] = t.clipped_samples;
      r["stages"] = stages;
      r["input_loudness"] = loudness_json(t.input_loudness);
      if (t.ok) r["output_loudness"] = loudness_json(t.output_loudness);
      if (t.ok && t.delivery.whole_track) {
        const DeliveryReport& d = t.delivery;
        json dj = {{"rate_hz", d.rate_hz},
                   {"frames", d.frames},
                   {"target_lufs", d.target_lufs ? json(*d.target_lufs) : json(nullptr)},
                   {"gain_db", d.gain_db},
                   {"album", d.album},
                   {"limited", d.limited},
                   {"target_reached", d.target_reached},
                   {"passes", d.passes}};
        if (d.album) dj["album_lufs"] = d.album_lufs ? json(*d.album_lufs) : json(nullptr);
        if (d.limited)
          dj["gain_reduction"] = {{"max_db", d.max_gain_reduction_db},
                                  {"mean_db", d.mean_gain_reduction_db},
                                  {"seconds_above_1db", d.seconds_above_1db},
                                  {"ceiling_correction_db", d.ceiling_correction_db}};
        if (!d.target_reached) dj["not_reached"] = d.not_reached;
        r["delivery"] = dj;
      }
      r["metadata"] = t.metadata;
      // What an engineer should look at, in words (empty when nothing).
      json warnings = json::array();
      auto hundredths = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", v);
        return std::string(buf);
      };
      if (t.ok && t.delivery.whole_track && !t.delivery.target_reached)
        warnings.push_back("target not reached: " + t.delivery.not_reached);
      if (t.clipped_samples > 0)
        warnings.push_back(std::to_string(t.clipped_samples) + " samples clipped at quantisation");
      if (t.ok && t.delivery.ceiling_correction_db > 0)
        warnings.push_back("the limiter's ceiling was lowered by " + hundredths(t.delivery.ceiling_correction_db) +
                           " dB to remove a true-peak residue");
      if (t.ok && t.delivery.limited && t.delivery.max_gain_reduction_db > 6.0)
        warnings.push_back("heavy limiting: up to " + hundredths(t.delivery.max_gain_reduction_db) + " dB");
      if (!t.input_loudness.integrated_lufs) warnings.push_back("input below the loudness gate (silence or very short)");
      r["warnings"] = warnings;
      if (t.match) {
        json curve = json::array();
        for (const auto& [hz, db] : t.match->curve_db) curve.push_back(json::array({hz, db}));
        r["match"] = {{"reference", t.match->reference}, {"curve_db", curve}};
      }
      if (t.ok && t.curves) r["curves"] = curves_json(*t.curves);
    }
    tracks.push_back(r);
  }
  j["tracks"] = tracks;
  if (!result.albums.empty()) {
    json albums = json::array();
    for (const auto& a : result.albums) {
      json r = {{"output", a.output}, {"cue", a.cue}, {"tracks", a.tracks}, {"status", a.error.empty() ? "written" : "failed"}};
      if (!a.error.empty()) {
        r["error"] = a.error;
      } else {
        r["rate_hz"] = a.rate_hz;
        r["frames"] = a.frames;
        r["loudness"] = loudness_json(a.loudness);
      }
      albums.push_back(r);
    }
    j["albums"] = albums;
  }
  return j;
}

nlohmann::json merge_reports(const std::vector<nlohmann::json>& reports, const std::vector<std::string>& files) {
  using nlohmann::json;
  if (reports.empty()) throw InputError("no reports to merge", "give the shards' report files");
  json tracks = json::array(), albums = json::array(), shards = json::array(), profiles = json::array();
  std::map<std::string, std::size_t> track_at;  // output (or input) -> index in `tracks`
  json stage_seconds = json::object();
  double wall_max = 0, wall_sum = 0;
  std::set<std::string> engines;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const json& r = reports[i];
    const std::string& file = files.at(i);
    if (!r.is_object() || r.value("schema", "") != "lathe.report/1")
      throw InputError(file + " is not a lathe report (schema lathe.report/1)", "give the files --report wrote");
    shards.push_back({{"file", file}, {"shard", r.contains("shard") ? r["shard"] : json(nullptr)}});
    if (r.contains("profile") && r["profile"].contains("name")) {
      const json name = r["profile"]["name"];
      if (std::find(profiles.begin(), profiles.end(), name) == profiles.end()) profiles.push_back(name);
    }
    if (r.contains("engine")) engines.insert(r["engine"].get<std::string>());
    if (r.contains("tracks"))
      for (const json& t : r["tracks"]) {
        const std::string key = t.value("output", "") + "\n" + t.value("input", "");
        if (const auto it = track_at.find(key); it != track_at.end()) {
          tracks[it->second] = t;
        } else {
          track_at.emplace(key, tracks.size());
          tracks.push_back(t);
        }
      }
    if (r.contains("albums"))
      for (const json& a : r["albums"]) albums.push_back(a);
    if (r.contains("summary")) {
      const json& s = r["summary"];
      const double wall = s.value("wall_seconds", 0.0);
      wall_max = std::max(wall_max, wall);
      wall_sum += wall;
      if (s.contains("stage_seconds"))
        for (const auto& [k, v] : s["stage_seconds"].items()) stage_seconds[k] = stage_seconds.value(k, 0.0) + v.get<double>();
    }
  }
  int written = 0, skipped = 0, failed = 0;
  double audio = 0;
  for (const json& t : tracks) {
    const std::string status = t.value("status", "");
    if (status == "written") {
      ++written;
      audio += t.value("duration_s", 0.0);
    } else if (status == "skipped") {
      ++skipped;
    } else {
      ++failed;
    }
  }
  json m;
  m["schema"] = "lathe.report/1";
  m["version"] = LATHE_VERSION;
  std::string engine;
  for (const auto& e : engines) engine += (engine.empty() ? "" : "; ") + e;
  m["engine"] = engine;
  m["profile"] = reports.front().contains("profile") ? reports.front()["profile"] : json(nullptr);
  if (profiles.size() > 1) m["profiles"] = profiles;
  m["merged_from"] = shards;
  m["summary"] = {{"tracks", tracks.size()},        {"written", written},
                  {"skipped", skipped},             {"failed", failed},
                  {"audio_seconds", audio},         {"wall_seconds", wall_max},
                  {"wall_seconds_sum", wall_sum},   {"stage_seconds", stage_seconds}};
  m["tracks"] = tracks;
  if (!albums.empty()) m["albums"] = albums;
  return m;
}

namespace {

// report_text's writer: JSON's own indentation of two spaces, but an array of numbers and nulls on one line.
void write_indented(const nlohmann::json& v, int indent, std::string& out) {
  const auto scalar = [](const nlohmann::json& e) { return e.is_number() || e.is_null(); };
  const bool compound = (v.is_object() || v.is_array()) && !v.empty();
  if (!compound) {
    out += v.dump();
    return;
  }
  if (v.is_array() && std::all_of(v.begin(), v.end(), scalar)) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i].dump();
    out += ']';
    return;
  }
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  out += v.is_object() ? "{\n" : "[\n";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    out += (first ? "" : ",\n") + pad;
    if (v.is_object()) out += nlohmann::json(it.key()).dump() + ": ";
    write_indented(*it, indent + 2, out);
    first = false;
  }
  out += '\n' + std::string(static_cast<std::size_t>(indent), ' ') + (v.is_object() ? '}' : ']');
}

}  // namespace

std::string report_text(const nlohmann::json& report) {
  std::string out;
  write_indented(report, 0, out);
  return out + "\n";
}

std::string report_csv(const nlohmann::json& report) {
  using nlohmann::json;
  // A cell: text quoted when it holds a comma, a quote or a line break; numbers as JSON writes them.
  auto cell = [](const json* v) -> std::string {
    if (!v || v->is_null()) return "";
    std::string t;
    if (v->is_array()) {  // a list of words (stages, warnings): joined by "; "
      for (const json& e : *v) t += (t.empty() ? "" : "; ") + (e.is_string() ? e.get<std::string>() : e.dump());
    } else {
      t = v->is_string() ? v->get<std::string>() : v->dump();
    }
    if (t.find_first_of(",\"\r\n") == std::string::npos) return t;
    std::string q = "\"";
    for (const char c : t) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  static const std::vector<std::pair<const char*, std::vector<const char*>>> columns = {
      {"input", {"input"}},
      {"output", {"output"}},
      {"status", {"status"}},
      {"error", {"error"}},
      {"rate_hz", {"rate_hz"}},
      {"channels", {"channels"}},
      {"duration_s", {"duration_s"}},
      {"input_lufs", {"input_loudness", "integrated_lufs"}},
      {"input_true_peak_dbtp", {"input_loudness", "true_peak_dbtp"}},
      {"output_lufs", {"output_loudness", "integrated_lufs"}},
      {"output_lra_lu", {"output_loudness", "lra_lu"}},
      {"output_true_peak_dbtp", {"output_loudness", "true_peak_dbtp"}},
      {"delivered_rate_hz", {"delivery", "rate_hz"}},
      {"target_lufs", {"delivery", "target_lufs"}},
      {"target_reached", {"delivery", "target_reached"}},
      {"gain_db", {"delivery", "gain_db"}},
      {"max_gain_reduction_db", {"delivery", "gain_reduction", "max_db"}},
      {"mean_gain_reduction_db", {"delivery", "gain_reduction", "mean_db"}},
      {"seconds_above_1db", {"delivery", "gain_reduction", "seconds_above_1db"}},
      {"ceiling_correction_db", {"delivery", "gain_reduction", "ceiling_correction_db"}},
      {"clipped_samples", {"clipped_samples"}},
      {"stages", {"stages"}},
      {"warnings", {"warnings"}},
      {"engine", {"engine"}},
      {"started_s", {"timing", "started_s"}},
      {"seconds", {"timing", "seconds"}},
      {"input_lra_lu", {"input_loudness", "lra_lu"}},
      {"input_sample_peak_dbfs", {"input_loudness", "sample_peak_dbfs"}},
      {"output_short_term_max_lufs", {"output_loudness", "short_term_max_lufs"}},
      {"output_sample_peak_dbfs", {"output_loudness", "sample_peak_dbfs"}},
      {"output_correlation", {"output_loudness", "correlation"}},
  };
  std::string out;
  for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + std::string(columns[c].first);
  out += "\r\n";
  if (report.contains("tracks"))
    for (const json& t : report["tracks"]) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        const auto& path = columns[c].second;
        const json* v = &t;
        for (const char* k : path) {
          if (!v->is_object() || !v->contains(k)) {
            v = nullptr;
            break;
          }
          v = &(*v)[k];
        }
        out += (c ? "," : "") + cell(v);
      }
      out += "\r\n";
    }
  return out;
}

}  // namespace lathe::host
