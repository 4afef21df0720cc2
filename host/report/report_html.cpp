// The HTML report: one self-contained page drawn from a lathe.report/1 JSON (see report_html.hpp).
//
// Everything is inline (CSS, a small sorting script, SVG plots) and nothing refers to a URL, so the file opens
// offline and can be mailed or archived as it is. The JSON is read defensively: every field may be missing, null
// or of another type (older reports, merged reports, hand-edited ones), and shows as a dash then. Text from the
// report goes through esc() everywhere; the script reads its data from data-* attributes, never from strings
// pasted into it. Numbers are written with snprintf and fixed decimals so the page is the same on every machine.
#include "host/report/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace lathe::host {
namespace {

using nlohmann::json;
using Opt = std::optional<double>;

constexpr const char* kDash = "\xE2\x80\x93";  // en dash: a value that does not exist
constexpr const char* kBeforeColour = "#2b6cb0";
constexpr const char* kAfterColour = "#dd6b20";
constexpr const char* kGrColour = "#c53030";

// ---- reading the JSON ---------------------------------------------------------------------------------------

// The value at `path` below `j`, or nullptr when any step is missing or not an object.
const json* at(const json& j, std::initializer_list<const char*> path) {
  const json* v = &j;
  for (const char* key : path) {
    if (!v->is_object()) return nullptr;
    const auto it = v->find(key);
    if (it == v->end()) return nullptr;
    v = &*it;
  }
  return v;
}

Opt number(const json& j, std::initializer_list<const char*> path) {
  const json* v = at(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  const double d = v->get<double>();
  return std::isfinite(d) ? Opt(d) : std::nullopt;
}

std::string text(const json& j, std::initializer_list<const char*> path) {
  const json* v = at(j, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

std::optional<bool> flag(const json& j, std::initializer_list<const char*> path) {
  const json* v = at(j, path);
  if (!v || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

// An array of numbers where anything else (null, text) is a gap.
std::vector<Opt> series(const json& j, const char* key) {
  std::vector<Opt> out;
  const json* v = at(j, {key});
  if (!v || !v->is_array()) return out;
  out.reserve(v->size());
  for (const json& e : *v) {
    if (e.is_number() && std::isfinite(e.get<double>())) {
      out.emplace_back(e.get<double>());
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

// ---- writing text -------------------------------------------------------------------------------------------

// Safe in element content and in double- or single-quoted attribute values.
std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Fixed decimals, and never "-0.0" (a value that rounds to zero shows without a sign).
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s(buf);
  if (s.size() > 1 && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string fixed(const Opt& v, int decimals) { return v ? fixed(*v, decimals) : std::string(kDash); }

// A data-v attribute: the raw sort value, empty when missing.
std::string data_v(const Opt& v) { return " data-v=\"" + (v ? fixed(*v, 4) : std::string()) + "\""; }

// 1234567 -> "1,234,567".
std::string grouped(long long n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// m:ss, or h:mm:ss from an hour on; whole seconds.
std::string clock(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

// A wall time: tenths of a second under a minute, a clock above.
std::string wall(const Opt& seconds) {
  if (!seconds) return kDash;
  return *seconds < 60 ? fixed(*seconds, 1) + " s" : clock(*seconds);
}

// The file name of a path (either separator), for table cells where the whole path would not fit.
std::string file_name(const std::string& path) {
  const std::size_t slash = path.find_last_of("/\\");
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  return name.empty() ? path : name;
}

// ---- one track, as the page needs it -----------------------------------------------------------------------

struct Curves {
  double loudness_step_s = 0.5;
  std::vector<Opt> loudness_in, loudness_out;
  double gr_step_s = 0.5;
  std::vector<Opt> gr_db;
  std::vector<Opt> spectrum_hz, spectrum_in, spectrum_out;
  bool any() const {
    return !loudness_in.empty() || !loudness_out.empty() || !gr_db.empty() || !spectrum_in.empty() ||
           !spectrum_out.empty();
  }
};

struct TrackView {
  std::size_t index = 0;
  std::string status, input, name, output, engine, error;
  Opt duration_s, rate_hz, channels, lufs_in, lufs_out, tp_in, tp_out, lra_out, gain_db, gr_max_db, seconds;
  Opt target_lufs, ceiling_dbtp;
  int compliant = -1;  // 1 or 0 for a written track, -1 for the others (not judged)
  std::string not_compliant_because;
  std::vector<std::string> warnings;
  Curves curves;
  bool has_curves = false;

  bool bad() const { return status == "failed" || compliant == 0; }
};

TrackView view_track(const json& t, std::size_t index, const Opt& profile_ceiling) {
  TrackView v;
  v.index = index;
  v.status = text(t, {"status"});
  v.input = text(t, {"input"});
  v.name = file_name(v.input);
  v.output = text(t, {"output"});
  v.engine = text(t, {"engine"});
  v.error = text(t, {"error"});
  v.duration_s = number(t, {"duration_s"});
  v.rate_hz = number(t, {"rate_hz"});
  v.channels = number(t, {"channels"});
  v.lufs_in = number(t, {"input_loudness", "integrated_lufs"});
  v.tp_in = number(t, {"input_loudness", "true_peak_dbtp"});
  v.lufs_out = number(t, {"output_loudness", "integrated_lufs"});
  v.tp_out = number(t, {"output_loudness", "true_peak_dbtp"});
  v.lra_out = number(t, {"output_loudness", "lra_lu"});
  v.gain_db = number(t, {"delivery", "gain_db"});
  v.gr_max_db = number(t, {"delivery", "gain_reduction", "max_db"});
  // A delivery that says it did not limit has no gain reduction at all, which is a zero, not an unknown.
  if (!v.gr_max_db && flag(t, {"delivery", "limited"}) == false) v.gr_max_db = 0.0;
  v.seconds = number(t, {"timing", "seconds"});
  v.target_lufs = number(t, {"delivery", "target_lufs"});
  // A manifest row may set its own ceiling; the profile's applies otherwise.
  const Opt manifest_ceiling = number(t, {"manifest", "ceiling_dbtp"});
  v.ceiling_dbtp = manifest_ceiling ? manifest_ceiling : profile_ceiling;
  if (const json* w = at(t, {"warnings"}); w && w->is_array()) {
    for (const json& s : *w) v.warnings.push_back(s.is_string() ? s.get<std::string>() : s.dump());
  }
  if (v.status == "written") {
    const bool target_ok = !v.target_lufs || flag(t, {"delivery", "target_reached"}) == true;
    // Half a thousandth of a dB of slack: the ceiling as written in a profile against a peak measured in doubles.
    const bool peak_ok = !v.ceiling_dbtp || !v.tp_out || *v.tp_out <= *v.ceiling_dbtp + 0.0005;
    v.compliant = target_ok && peak_ok ? 1 : 0;
    if (!target_ok) v.not_compliant_because = "target " + fixed(*v.target_lufs, 1) + " LUFS not reached";
    if (!peak_ok) {
      v.not_compliant_because += (v.not_compliant_because.empty() ? "" : "; ") + std::string("true peak ") +
                                 fixed(*v.tp_out, 2) + " dBTP above the ceiling " + fixed(*v.ceiling_dbtp, 2) +
                                 " dBTP";
    }
  }
  if (const json* c = at(t, {"curves"}); c && c->is_object()) {
    Curves& cv = v.curves;
    if (const Opt s = number(*c, {"loudness_step_s"}); s && *s > 0) cv.loudness_step_s = *s;
    if (const Opt s = number(*c, {"gain_reduction_step_s"}); s && *s > 0) cv.gr_step_s = *s;
    cv.loudness_in = series(*c, "short_term_in_lufs");
    cv.loudness_out = series(*c, "short_term_out_lufs");
    cv.gr_db = series(*c, "gain_reduction_db");
    cv.spectrum_hz = series(*c, "spectrum_hz");
    cv.spectrum_in = series(*c, "spectrum_in_db");
    cv.spectrum_out = series(*c, "spectrum_out_db");
    v.has_curves = cv.any();
  }
  return v;
}

// ---- SVG plots ----------------------------------------------------------------------------------------------

// Every plot is a 360 x 190 viewBox; the plot area leaves room for the legend above and tick labels left and below.
constexpr double kWidth = 360, kHeight = 190;
constexpr double kLeft = 40, kRight = 342, kTop = 22, kBottom = 164;

// Coordinates with one decimal: enough at this size, and it keeps a page of hundreds of plots small.
std::string c1(double v) { return fixed(v, 1); }

class Plot {
 public:
  // The value range maps onto the plot area; y_lo is drawn at the bottom (y_lo > y_hi turns the axis over).
  Plot(const char* kind, const std::string& title, double x_lo, double x_hi, double y_lo, double y_hi, bool log_x)
      : x_lo_(log_x ? std::log10(x_lo) : x_lo), x_hi_(log_x ? std::log10(x_hi) : x_hi), y_lo_(y_lo), y_hi_(y_hi),
        log_x_(log_x) {
    svg_ = "<svg class=\"plot\" data-plot=\"" + std::string(kind) + "\" viewBox=\"0 0 " + c1(kWidth) + " " +
           c1(kHeight) + "\" width=\"" + c1(kWidth) + "\" height=\"" + c1(kHeight) + "\" role=\"img\"><title>" +
           esc(title) + "</title>";
  }

  double x(double v) const {
    const double u = log_x_ ? std::log10(v) : v;
    const double f = x_hi_ > x_lo_ ? (u - x_lo_) / (x_hi_ - x_lo_) : 0.0;
    return kLeft + std::clamp(f, 0.0, 1.0) * (kRight - kLeft);
  }
  double y(double v) const {
    const double f = y_hi_ != y_lo_ ? (v - y_lo_) / (y_hi_ - y_lo_) : 0.0;
    return kBottom - std::clamp(f, 0.0, 1.0) * (kBottom - kTop);
  }
  bool x_inside(double v) const {
    if (log_x_ && v <= 0) return false;
    const double u = log_x_ ? std::log10(v) : v;
    return u >= x_lo_ - 1e-9 && u <= x_hi_ + 1e-9;
  }

  void x_tick(double v, const std::string& label) {
    grid_ += "M" + c1(x(v)) + " " + c1(kTop) + "V" + c1(kBottom);
    labels_ += "<text class=\"xt\" x=\"" + c1(x(v)) + "\" y=\"" + c1(kBottom + 13) + "\">" + esc(label) + "</text>";
  }
  void y_tick(double v, const std::string& label) {
    grid_ += "M" + c1(kLeft) + " " + c1(y(v)) + "H" + c1(kRight);
    labels_ += "<text class=\"yt\" x=\"" + c1(kLeft - 4) + "\" y=\"" + c1(y(v) + 3.5) + "\">" + esc(label) + "</text>";
  }

  // A horizontal reference line (a target), dashed, with its label at the right end.
  void marker(double v, const std::string& label) {
    body_ += "<path class=\"target\" d=\"M" + c1(kLeft) + " " + c1(y(v)) + "H" + c1(kRight) + "\"/>";
    body_ += "<text class=\"mt\" x=\"" + c1(kRight - 2) + "\" y=\"" + c1(y(v) - 3) + "\">" + esc(label) + "</text>";
  }

  // A curve through (x, y) points; a missing y breaks it, so undefined loudness is not bridged by a straight line.
  void line(const char* cls, const char* colour, const std::vector<std::pair<double, Opt>>& points) {
    std::string d;
    bool open = false;
    std::size_t in_segment = 0;
    for (const auto& [px, py] : points) {
      if (!py || !x_inside(px)) {
        if (open && in_segment == 1) d += "h0.1";  // a lone point shows as a dot (round caps)
        open = false;
        continue;
      }
      d += (open ? (in_segment == 1 ? "L" : " ") : "M") + c1(x(px)) + " " + c1(y(*py));
      in_segment = open ? in_segment + 1 : 1;
      open = true;
    }
    if (open && in_segment == 1) d += "h0.1";
    if (d.empty()) return;
    body_ += "<path class=\"" + std::string(cls) + "\" d=\"" + d + "\" fill=\"none\" stroke=\"" + colour +
             "\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>";
  }

  // The area between y = `base` and the points, filled (gain reduction hangs down from 0 dB).
  void area(const char* colour, double base, const std::vector<std::pair<double, Opt>>& points) {
    std::string d;
    bool open = false;
    double last_x = 0;
    for (const auto& [px, py] : points) {
      if (!py || !x_inside(px)) {
        if (open) d += "L" + c1(x(last_x)) + " " + c1(y(base)) + "Z";
        open = false;
        continue;
      }
      if (!open) d += "M" + c1(x(px)) + " " + c1(y(base));
      d += "L" + c1(x(px)) + " " + c1(y(*py));
      last_x = px;
      open = true;
    }
    if (open) d += "L" + c1(x(last_x)) + " " + c1(y(base)) + "Z";
    if (!d.empty()) body_ += "<path class=\"gr-fill\" d=\"" + d + "\" fill=\"" + colour + "\" fill-opacity=\"0.22\"/>";
  }

  // Text in the middle of the plot area (a plot with nothing to draw says why).
  void message(const std::string& words) {
    body_ += "<text class=\"msg\" x=\"" + c1((kLeft + kRight) / 2) + "\" y=\"" + c1((kTop + kBottom) / 2) + "\">" +
             esc(words) + "</text>";
  }

  // Keys above the plot area, left to right: a short stroke in the curve's colour and its name.
  void legend(const std::vector<std::pair<const char*, std::string>>& keys) {
    double at_x = kLeft;
    for (const auto& [colour, label] : keys) {
      legend_ += "<path class=\"key\" d=\"M" + c1(at_x) + " 10H" + c1(at_x + 14) + "\" stroke=\"" + colour +
                 "\" stroke-width=\"2.5\"/><text class=\"kt\" x=\"" + c1(at_x + 18) + "\" y=\"13.5\">" + esc(label) +
                 "</text>";
      at_x += 18 + 5.8 * static_cast<double>(label.size()) + 14;
    }
  }

  std::string str() const {
    return svg_ + "<path class=\"grid\" d=\"" + grid_ + "\"/><path class=\"axis\" d=\"M" + c1(kLeft) + " " +
           c1(kTop) + "V" + c1(kBottom) + "H" + c1(kRight) + "\"/>" + labels_ + body_ + legend_ + "</svg>";
  }

 private:
  double x_lo_, x_hi_, y_lo_, y_hi_;
  bool log_x_;
  std::string svg_, grid_, labels_, body_, legend_;
};

// Points of a curve sampled every `step` seconds from 0.
std::vector<std::pair<double, Opt>> timed(const std::vector<Opt>& values, double step) {
  std::vector<std::pair<double, Opt>> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out.emplace_back(static_cast<double>(i) * step, values[i]);
  return out;
}

// The time axis: 0 .. the track's duration (or the curves' length), ticks at a round step, labelled m:ss.
double time_span(const TrackView& t, std::initializer_list<std::pair<const std::vector<Opt>*, double>> curves) {
  double span = t.duration_s && *t.duration_s > 0 ? *t.duration_s : 0.0;
  for (const auto& [values, step] : curves) {
    if (values->size() > 1) span = std::max(span, static_cast<double>(values->size() - 1) * step);
  }
  return span > 0 ? span : 1.0;
}

void time_ticks(Plot& p, double span) {
  static const double steps[] = {1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 18000};
  double step = steps[std::size(steps) - 1];
  for (const double s : steps) {
    if (span / s <= 6) {
      step = s;
      break;
    }
  }
  for (double v = 0; v <= span + 1e-9; v += step) p.x_tick(v, clock(v));
}

std::string loudness_plot(const TrackView& t) {
  const Curves& c = t.curves;
  const double span = time_span(t, {{&c.loudness_in, c.loudness_step_s}, {&c.loudness_out, c.loudness_step_s}});
  // The range follows the data in 6 dB steps, no lower than -60 LUFS (quieter passages sit on the floor).
  double lo = 0, hi = -60;
  bool any = false;
  for (const auto* values : {&c.loudness_in, &c.loudness_out}) {
    for (const Opt& v : *values) {
      if (!v) continue;
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
      any = true;
    }
  }
  if (t.target_lufs) {
    lo = std::min(lo, *t.target_lufs);
    hi = std::max(hi, *t.target_lufs);
  }
  double top = 0, bottom = -60;
  if (any || t.target_lufs) {
    top = std::ceil((hi + 2) / 6) * 6;
    if (hi <= 0 && top > 0) top = 0;
    bottom = std::max(-60.0, std::floor((lo - 2) / 6) * 6);
    if (top - bottom < 18) bottom = top - 18;
  }
  Plot p("loudness", "Short-term loudness of " + t.name + ", before and after", 0, span, bottom, top, false);
  const double ystep = top - bottom > 36 ? 12 : 6;
  for (double v = top; v >= bottom - 1e-9; v -= ystep) p.y_tick(v, fixed(v, 0));
  time_ticks(p, span);
  if (t.target_lufs) p.marker(*t.target_lufs, "target " + fixed(*t.target_lufs, 1));
  p.line("before", kBeforeColour, timed(c.loudness_in, c.loudness_step_s));
  p.line("after", kAfterColour, timed(c.loudness_out, c.loudness_step_s));
  if (!any) p.message("no loudness above the gate");
  p.legend({{kBeforeColour, "before"}, {kAfterColour, "after"}});
  return p.str();
}

std::string gain_reduction_plot(const TrackView& t) {
  const Curves& c = t.curves;
  const double span = time_span(t, {{&c.gr_db, c.gr_step_s}});
  double most = 0;
  for (const Opt& v : c.gr_db) {
    if (v) most = std::max(most, *v);
  }
  // A round scale of at most five steps from 0 dB (top) down to at least 1 dB.
  static const double steps[] = {0.5, 1, 2, 3, 5, 10, 20, 50};
  const double need = std::max(1.0, most);
  double step = steps[std::size(steps) - 1];
  for (const double s : steps) {
    if (need / s <= 5) {
      step = s;
      break;
    }
  }
  const double depth = std::ceil(need / step - 1e-9) * step;
  Plot p("gr", "Gain reduction of " + t.name, 0, span, depth, 0, false);
  for (double v = 0; v <= depth + 1e-9; v += step) p.y_tick(v, fixed(v, step < 1 ? 1 : 0));
  time_ticks(p, span);
  if (most > 0) {
    const auto points = timed(c.gr_db, c.gr_step_s);
    p.area(kGrColour, 0, points);
    p.line("gr", kGrColour, points);
  } else {
    p.message("no limiting");
  }
  p.legend({{kGrColour, "gain reduction"}});
  return p.str();
}

std::string spectrum_plot(const TrackView& t) {
  const Curves& c = t.curves;
  double most = -1e300;
  for (const auto* values : {&c.spectrum_in, &c.spectrum_out}) {
    for (const Opt& v : *values) {
      if (v) most = std::max(most, *v);
    }
  }
  // 80 dB below the loudest band, in 10 dB steps: the shape of a mix, not its noise floor.
  const double top = most > -1e300 ? std::ceil(most / 10) * 10 : 0.0;
  Plot p("spectrum", "Long-term average spectrum of " + t.name + ", before and after", 20, 20000, top - 80, top,
         true);
  for (double v = top; v >= top - 80 - 1e-9; v -= 20) p.y_tick(v, fixed(v, 0));
  static const std::pair<double, const char*> ticks[] = {{20, "20"},  {50, "50"},  {100, "100"}, {200, "200"},
                                                         {500, "500"}, {1000, "1k"}, {2000, "2k"}, {5000, "5k"},
                                                         {10000, "10k"}, {20000, "20k"}};
  for (const auto& [hz, label] : ticks) p.x_tick(hz, label);
  auto banded = [&](const std::vector<Opt>& values) {
    std::vector<std::pair<double, Opt>> out;
    for (std::size_t i = 0; i < values.size() && i < c.spectrum_hz.size(); ++i) {
      if (c.spectrum_hz[i]) out.emplace_back(*c.spectrum_hz[i], values[i]);
    }
    return out;
  };
  p.line("before", kBeforeColour, banded(c.spectrum_in));
  p.line("after", kAfterColour, banded(c.spectrum_out));
  if (most <= -1e300) p.message("no spectrum");
  p.legend({{kBeforeColour, "before"}, {kAfterColour, "after"}});
  return p.str();
}

// ---- the page -----------------------------------------------------------------------------------------------

constexpr const char* kStyle = R"CSS(
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 40px;background:#f5f7fa;color:#1a202c;
 font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:22px;margin:0 0 6px;font-weight:650}
h2{font-size:16px;margin:28px 0 10px;font-weight:650}
h3{font-size:15px;margin:0 0 4px;font-weight:600;word-break:break-all}
.meta{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 18px;padding:0;color:#4a5568;font-size:13px}
.meta div{display:flex;gap:6px}.meta dt{color:#718096}.meta dd{margin:0;color:#1a202c;font-weight:500}
#summary{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:9px 14px;min-width:104px}
.card .big{display:block;font-size:24px;font-weight:600;font-variant-numeric:tabular-nums;line-height:1.2}
.card .label{color:#718096;font-size:12px}
.card.bad{border-color:#feb2b2;background:#fff5f5}.card.bad .big{color:#c53030}
.card.good .big{color:#2f855a}
.note{color:#4a5568;font-size:13px;margin:8px 0}
details{margin:10px 0;font-size:13px;color:#4a5568}summary{cursor:pointer}
details table{width:auto;margin-top:6px}
/* A long table scrolls in its own box, so its header can stay in view (sticky works inside the box only). */
.wrap{overflow:auto;max-height:85vh;background:#fff;border:1px solid #e2e8f0;border-radius:8px}
@media print{.wrap{overflow:visible;max-height:none}section.track{break-inside:avoid}}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:5px 8px;text-align:left;white-space:nowrap;border-bottom:1px solid #edf2f7}
th.n,td.n{text-align:right}
#tracks thead th{position:sticky;top:0;background:#edf2f7;color:#2d3748;font-size:12px;font-weight:600;
 cursor:pointer;user-select:none}
#tracks thead th:hover{background:#e2e8f0}
.arrow{margin-left:3px;color:#4a5568}
tbody tr:hover{background:#f7fafc}
tr.bad{background:#fff5f5}tr.bad:hover{background:#fed7d7}tr.bad td:first-child{box-shadow:inset 3px 0 #c53030}
tr.skipped{color:#718096}
td.name{max-width:320px;overflow:hidden;text-overflow:ellipsis}
td.err{max-width:220px;overflow:hidden;text-overflow:ellipsis;color:#c53030}
.failed,.no{color:#c53030;font-weight:600}.zero{color:#a0aec0}.yes{color:#2f855a}.warn{color:#b7791f;font-weight:600}
a{color:#2c5282;text-decoration:none}a:hover{text-decoration:underline}
section.track{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:14px 18px;margin:0 0 14px}
section.track.bad{border-left:4px solid #c53030}
.idx{color:#718096;font-weight:500;margin-right:6px}
.path{color:#718096;font-size:12px;margin:0 0 6px;word-break:break-all}
.facts{display:flex;flex-wrap:wrap;gap:2px 18px;margin:0 0 8px;font-size:13px}
.facts div{display:flex;gap:5px}.facts dt{color:#718096}.facts dd{margin:0;font-variant-numeric:tabular-nums}
ul.warnings{margin:0 0 10px;padding-left:18px;color:#975a16;font-size:13px}
.plots{display:flex;flex-wrap:wrap;gap:14px 18px}
figure{margin:0}figcaption{font-size:12px;color:#4a5568;margin:0 0 2px 4px}
svg.plot{display:block;width:360px;max-width:100%;height:auto}
.plot text{font-size:10px;fill:#4a5568;font-variant-numeric:tabular-nums}
.plot .xt{text-anchor:middle}.plot .yt{text-anchor:end}.plot .mt{text-anchor:end;fill:#2d3748}
.plot .msg{text-anchor:middle;font-size:12px;fill:#718096}
.plot .grid{stroke:#edf2f7;fill:none}.plot .axis{stroke:#a0aec0;fill:none}
.plot .target{stroke:#4a5568;stroke-dasharray:4 3;fill:none}
footer{margin-top:28px;color:#a0aec0;font-size:12px}
)CSS";

// Sorting: a click on a header cell sorts the rows by the cells' data-v (numbers numerically for data-type="num"),
// a second click reverses; missing values go last either way, ties keep the report's order. `#sort=KEY` or
// `#sort=-KEY` in the URL sorts on load, and a click writes it back so the address can be shared.
constexpr const char* kScript = R"JS(
(function () {
  'use strict';
  var table = document.getElementById('tracks');
  if (!table || !table.tHead || !table.tBodies.length) return;
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var collator = window.Intl ? new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'}) : null;
  var current = null;
  function compareText(a, b) { return collator ? collator.compare(a, b) : (a === b ? 0 : (a > b ? 1 : -1)); }
  function sortBy(key, desc) {
    var c = -1;
    heads.forEach(function (th, i) { if (th.getAttribute('data-key') === key) c = i; });
    if (c === -1) return;
    var numeric = heads[c].getAttribute('data-type') === 'num';
    var rows = Array.prototype.map.call(body.rows, function (row) {
      var cell = row.cells[c];
      var raw = cell ? cell.getAttribute('data-v') : null;
      var v = raw === null || raw === '' ? null : (numeric ? parseFloat(raw) : raw);
      if (numeric && v !== null && !isFinite(v)) v = null;
      return {row: row, v: v, i: Number(row.getAttribute('data-index'))};
    });
    rows.sort(function (a, b) {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : (a.v === null ? 1 : -1);
      var d = numeric ? a.v - b.v : compareText(a.v, b.v);
      if (d !== 0) return desc ? -d : d;
      return a.i - b.i;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) { fragment.appendChild(r.row); });
    body.appendChild(fragment);
    heads.forEach(function (th, i) {
      var arrow = th.querySelector('.arrow');
      if (arrow) arrow.textContent = i === c ? (desc ? '\u25BC' : '\u25B2') : '';
      if (i === c) th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    current = {key: key, desc: desc};
  }
  heads.forEach(function (th) {
    var key = th.getAttribute('data-key');
    if (!key) return;
    function activate() {
      var desc = current !== null && current.key === key ? !current.desc : false;
      sortBy(key, desc);
      try { history.replaceState(null, '', '#sort=' + (desc ? '-' : '') + key); } catch (e) {}
    }
    th.addEventListener('click', activate);
    th.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(); }
    });
  });
  function fromHash() {
    var m = /^#sort=(-?)([a-z_]+)$/.exec(window.location.hash);
    if (m) sortBy(m[2], m[1] === '-');
  }
  fromHash();
  window.addEventListener('hashchange', fromHash);
})();
)JS";

// One item of a definition list ("label: value"); the value is HTML already.
std::string fact(const std::string& label, const std::string& value_html) {
  return "<div><dt>" + esc(label) + "</dt><dd>" + value_html + "</dd></div>";
}

// A summary card: a big number with a stable id (and its raw value in data-v) over a label.
std::string card(const char* id, const Opt& raw, const std::string& shown, const std::string& label,
                 const char* tone = "") {
  std::string cls = "card";
  if (*tone) cls += std::string(" ") + tone;
  return "<div class=\"" + cls + "\"><span class=\"big\" id=\"" + id + "\"" + data_v(raw) + ">" + esc(shown) +
         "</span><span class=\"label\">" + esc(label) + "</span></div>";
}

Opt count_opt(const Opt& v) { return v ? Opt(std::round(*v)) : std::nullopt; }
std::string count_text(const Opt& v) { return v ? grouped(std::llround(*v)) : std::string(kDash); }

std::string header(const json& report, const HtmlReportOptions& options) {
  std::string h = "<header><h1>" + esc(options.title) + "</h1><dl class=\"meta\">";
  const std::string version = text(report, {"version"});
  h += fact("lathe", version.empty() ? kDash : esc(version));
  // A merged report names every profile its shards used; a plain one has the one.
  std::string profiles;
  if (const json* list = at(report, {"profiles"}); list && list->is_array()) {
    for (const json& p : *list) {
      if (p.is_string()) profiles += (profiles.empty() ? "" : ", ") + p.get<std::string>();
    }
  }
  if (profiles.empty()) profiles = text(report, {"profile", "name"});
  h += fact("profile", profiles.empty() ? kDash : esc(profiles));
  const std::string engine = text(report, {"engine"});
  h += fact("engine", engine.empty() ? kDash : esc(engine));
  std::string delivery = text(report, {"profile", "delivery", "format"});
  if (const json* bits = at(report, {"profile", "delivery", "bits"})) {
    const std::string b = bits->is_string() ? bits->get<std::string>() : bits->is_number() ? bits->dump() : "";
    if (b == "32f") {
      delivery += " 32-bit float";
    } else if (!b.empty()) {
      delivery += " " + b + "-bit";
    }
  }
  if (const Opt rate = number(report, {"profile", "delivery", "sample_rate_hz"})) {
    delivery += " " + fixed(*rate / 1000, *rate == std::round(*rate / 1000) * 1000 ? 0 : 1) + " kHz";
  } else if (text(report, {"profile", "delivery", "sample_rate_hz"}) == "keep") {
    delivery += ", rate kept";
  }
  h += fact("delivery", delivery.empty() ? kDash : esc(delivery));
  if (const Opt target = number(report, {"profile", "targets", "integrated_lufs"})) {
    h += fact("target", fixed(*target, 1) + " LUFS");
  }
  if (const Opt ceiling = number(report, {"profile", "targets", "ceiling_dbtp"})) {
    h += fact("ceiling", fixed(*ceiling, 1) + " dBTP");
  }
  if (const std::string shard = text(report, {"shard"}); !shard.empty()) h += fact("shard", esc(shard));
  if (const json* merged = at(report, {"merged_from"}); merged && merged->is_array()) {
    h += fact("run", "merged from " + grouped(static_cast<long long>(merged->size())) + " reports");
  }
  return h + "</dl></header>";
}

std::string summary(const json& report, const std::vector<TrackView>& tracks) {
  // The summary's own counts where it has them; counted from the tracks for a report without one.
  auto counted = [&](const char* status) {
    long long n = 0;
    for (const TrackView& t : tracks) n += t.status == status ? 1 : 0;
    return Opt(static_cast<double>(n));
  };
  auto field = [&](const char* key, const char* status) {
    if (const Opt v = number(report, {"summary", key})) return count_opt(v);
    if (!at(report, {"tracks"})) return Opt();
    return status ? counted(status) : Opt(static_cast<double>(tracks.size()));
  };
  const Opt total = field("tracks", nullptr), written = field("written", "written");
  const Opt skipped = field("skipped", "skipped"), failed = field("failed", "failed");
  long long compliant = 0, judged = 0;
  for (const TrackView& t : tracks) {
    if (t.compliant < 0) continue;
    ++judged;
    compliant += t.compliant;
  }
  const Opt audio = number(report, {"summary", "audio_seconds"});
  const Opt hours = audio ? Opt(*audio / 3600) : std::nullopt;
  const Opt wall_s = number(report, {"summary", "wall_seconds"});
  const Opt wall_sum = number(report, {"summary", "wall_seconds_sum"});
  const Opt speed = number(report, {"summary", "times_real_time"});
  const long long noncompliant = judged - compliant;

  std::string s = "<h2>Summary</h2><section id=\"summary\">";
  s += card("s-tracks", total, count_text(total), "tracks");
  s += card("s-written", written, count_text(written), "written");
  s += card("s-skipped", skipped, count_text(skipped), "skipped");
  s += card("s-failed", failed, count_text(failed), "failed", failed && *failed > 0 ? "bad" : "");
  s += card("s-compliant", Opt(static_cast<double>(compliant)), grouped(compliant),
            "compliant of " + grouped(judged), judged > 0 && noncompliant == 0 ? "good" : "");
  s += card("s-noncompliant", Opt(static_cast<double>(noncompliant)), grouped(noncompliant), "not compliant",
            noncompliant > 0 ? "bad" : "");
  // Hours for a catalogue; under an hour, the clock (0.00 hours says nothing about a short run).
  if (hours && *hours < 1.0) {
    s += card("s-hours", hours, clock(*hours * 3600.0), "of audio");
  } else {
    s += card("s-hours", hours, hours ? fixed(*hours, 2) : std::string(kDash), "hours of audio");
  }
  s += card("s-wall", wall_s, wall(wall_s), wall_sum ? "wall time (longest report)" : "wall time");
  if (wall_sum) s += card("s-wall-sum", wall_sum, wall(wall_sum), "wall time, all reports");
  if (speed) s += card("s-speed", speed, fixed(*speed, 1) + "\xC3\x97", "real time");
  s += "</section>";
  s += "<p class=\"note\">A written track is compliant when it reached its loudness target (if it has one) and its "
       "true peak is at or under its ceiling (the manifest's, else the profile's).</p>";

  // Where the time went, and which reports were merged: detail most readers skip.
  if (const json* stages = at(report, {"summary", "stage_seconds"}); stages && stages->is_object() && !stages->empty()) {
    s += "<details><summary>seconds per stage</summary><table><tbody>";
    for (const auto& [name, value] : stages->items()) {
      const Opt v = value.is_number() ? Opt(value.get<double>()) : std::nullopt;
      s += "<tr><td>" + esc(name) + "</td><td class=\"n\">" + fixed(v, 2) + "</td></tr>";
    }
    s += "</tbody></table></details>";
  }
  if (const json* merged = at(report, {"merged_from"}); merged && merged->is_array() && !merged->empty()) {
    s += "<details><summary>merged reports</summary><table><tbody>";
    for (const json& m : *merged) {
      const std::string file = text(m, {"file"}), shard = text(m, {"shard"});
      s += "<tr><td>" + (file.empty() ? std::string(kDash) : esc(file)) + "</td><td>" +
           (shard.empty() ? std::string(kDash) : "shard " + esc(shard)) + "</td></tr>";
    }
    s += "</tbody></table></details>";
  }
  return s;
}

// The table's columns: key (for sorting and #sort=), header text, numeric or not, and a tooltip.
struct Column {
  const char* key;
  const char* label;
  bool numeric;
  const char* help;
};
constexpr Column kColumns[] = {
    {"index", "#", true, "position in the report"},
    {"input", "input", false, "input file name (full path on hover)"},
    {"status", "status", false, "written, skipped (done by an earlier run) or failed"},
    {"duration", "duration", true, "duration of the input"},
    {"lufs_in", "in LUFS", true, "integrated loudness of the input"},
    {"lufs_out", "out LUFS", true, "integrated loudness of the delivered file"},
    {"tp_out", "out dBTP", true, "true peak of the delivered file"},
    {"lra_out", "out LRA", true, "loudness range of the delivered file, LU"},
    {"gain", "gain dB", true, "gain applied to reach the target"},
    {"gr_max", "max GR dB", true, "largest gain reduction of the limiter"},
    {"compliant", "compliant", true, "target reached and true peak under the ceiling"},
    {"engine", "engine", false, "engine that mastered the track"},
    {"seconds", "time s", true, "wall seconds the track took"},
    {"warnings", "warnings", true, "warnings, or the error of a failed track"},
};

std::string tracks_table(const std::vector<TrackView>& tracks, const std::vector<bool>& listed,
                         const std::vector<bool>& plotted) {
  const auto rows = static_cast<std::size_t>(std::count(listed.begin(), listed.end(), true));
  std::string s = "<h2>Tracks</h2>";
  if (rows < tracks.size()) {
    s += "<p class=\"note\" id=\"rows-note\">The table lists " + grouped(static_cast<long long>(rows)) + " of " +
         grouped(static_cast<long long>(tracks.size())) +
         " tracks: the problem tracks first, then the others in report order. The CSV report (--report-csv) lists "
         "every track.</p>";
  }
  s += "<div class=\"wrap\"><table id=\"tracks\"><thead><tr>";
  for (const Column& c : kColumns) {
    s += "<th data-key=\"" + std::string(c.key) + "\"" + (c.numeric ? " data-type=\"num\" class=\"n\"" : "") +
         " tabindex=\"0\" title=\"" + esc(c.help) + "\">" + esc(c.label) + "<span class=\"arrow\"></span></th>";
  }
  s += "</tr></thead><tbody>";
  auto num_cell = [](const Opt& v, int decimals) { return "<td class=\"n\"" + data_v(v) + ">" + fixed(v, decimals) + "</td>"; };
  for (const TrackView& t : tracks) {
    if (!listed[t.index]) continue;
    std::string cls = t.bad() ? "bad" : t.status == "skipped" ? "skipped" : "";
    s += "<tr data-index=\"" + std::to_string(t.index) + "\"" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">";
    s += "<td class=\"n\" data-v=\"" + std::to_string(t.index) + "\">" + std::to_string(t.index + 1) + "</td>";
    const std::string shown = t.name.empty() ? std::string(kDash) : esc(t.name);
    // The whole paths on hover: where the file came from and where its master went.
    const std::string paths = t.input + (t.output.empty() ? "" : "\n\xE2\x86\x92 " + t.output);
    s += "<td class=\"name\" data-v=\"" + esc(t.name) + "\" title=\"" + esc(paths) + "\">";
    s += plotted[t.index] ? "<a href=\"#track-" + std::to_string(t.index) + "\">" + shown + "</a>" : shown;
    s += "</td><td data-v=\"" + esc(t.status) + "\"" + (t.status == "failed" ? " class=\"failed\"" : "") + ">" +
         (t.status.empty() ? std::string(kDash) : esc(t.status)) + "</td>";
    s += "<td class=\"n\"" + data_v(t.duration_s) + ">" + (t.duration_s ? clock(*t.duration_s) : kDash) + "</td>";
    s += num_cell(t.lufs_in, 1) + num_cell(t.lufs_out, 1) + num_cell(t.tp_out, 2) + num_cell(t.lra_out, 1) +
         num_cell(t.gain_db, 2) + num_cell(t.gr_max_db, 2);
    if (t.compliant < 0) {
      s += "<td class=\"n\" data-v=\"\">" + std::string(kDash) + "</td>";
    } else if (t.compliant == 1) {
      s += "<td class=\"n yes\" data-v=\"1\">yes</td>";
    } else {
      s += "<td class=\"n no\" data-v=\"0\" title=\"" + esc(t.not_compliant_because) + "\">no</td>";
    }
    s += "<td data-v=\"" + esc(t.engine) + "\">" + (t.engine.empty() ? std::string(kDash) : esc(t.engine)) + "</td>";
    s += num_cell(t.seconds, 1);
    // Problems sort together: the warnings' count, one more for an error.
    const std::size_t problems = t.warnings.size() + (t.error.empty() ? 0 : 1);
    if (!t.error.empty()) {
      s += "<td class=\"err\" data-v=\"" + std::to_string(problems) + "\" title=\"" + esc(t.error) + "\">" +
           esc(t.error) + "</td>";
    } else if (!t.warnings.empty()) {
      std::string all;
      for (const std::string& w : t.warnings) all += (all.empty() ? "" : "\n") + w;
      s += "<td class=\"n warn\" data-v=\"" + std::to_string(problems) + "\" title=\"" + esc(all) + "\">" +
           std::to_string(t.warnings.size()) + "</td>";
    } else {
      s += "<td class=\"n zero\" data-v=\"0\">" + std::string(t.status == "written" ? "0" : kDash) + "</td>";
    }
    s += "</tr>";
  }
  return s + "</tbody></table></div>";
}

std::string track_section(const TrackView& t) {
  std::string s = "<section class=\"track" + std::string(t.bad() ? " bad" : "") + "\" id=\"track-" +
                  std::to_string(t.index) + "\"><h3><span class=\"idx\">#" + std::to_string(t.index + 1) + "</span>" +
                  esc(t.name) + "</h3>";
  s += "<p class=\"path\">" + esc(t.input) + (t.output.empty() ? "" : " \xE2\x86\x92 " + esc(t.output)) + "</p>";
  s += "<dl class=\"facts\">";
  s += fact("status", esc(t.status.empty() ? kDash : t.status));
  s += fact("duration", t.duration_s ? clock(*t.duration_s) : kDash);
  if (t.rate_hz) {
    std::string format = fixed(*t.rate_hz / 1000, *t.rate_hz == std::round(*t.rate_hz / 1000) * 1000 ? 0 : 1) + " kHz";
    if (t.channels) format += ", " + fixed(*t.channels, 0) + " ch";
    s += fact("format", format);
  }
  s += fact("loudness", fixed(t.lufs_in, 1) + " \xE2\x86\x92 " + fixed(t.lufs_out, 1) + " LUFS");
  s += fact("true peak", fixed(t.tp_in, 2) + " \xE2\x86\x92 " + fixed(t.tp_out, 2) + " dBTP");
  s += fact("LRA", fixed(t.lra_out, 1) + " LU");
  s += fact("gain", fixed(t.gain_db, 2) + " dB");
  s += fact("max GR", fixed(t.gr_max_db, 2) + " dB");
  if (t.target_lufs) s += fact("target", fixed(*t.target_lufs, 1) + " LUFS");
  if (t.ceiling_dbtp) s += fact("ceiling", fixed(*t.ceiling_dbtp, 2) + " dBTP");
  if (t.compliant >= 0) {
    s += fact("compliant", t.compliant ? "<span class=\"yes\">yes</span>"
                                       : "<span class=\"no\">no</span> (" + esc(t.not_compliant_because) + ")");
  }
  if (!t.engine.empty()) s += fact("engine", esc(t.engine));
  if (t.seconds) s += fact("time", fixed(*t.seconds, 1) + " s");
  s += "</dl>";
  if (!t.warnings.empty()) {
    s += "<ul class=\"warnings\">";
    for (const std::string& w : t.warnings) s += "<li>" + esc(w) + "</li>";
    s += "</ul>";
  }
  s += "<div class=\"plots\">";
  s += "<figure><figcaption>Short-term loudness, LUFS</figcaption>" + loudness_plot(t) + "</figure>";
  s += "<figure><figcaption>Gain reduction, dB</figcaption>" + gain_reduction_plot(t) + "</figure>";
  s += "<figure><figcaption>Spectrum, dB (long-term average)</figcaption>" + spectrum_plot(t) + "</figure>";
  return s + "</div></section>";
}

// Which tracks get plots: those with curves, problems first (failed or not compliant, then with warnings), then
// the rest, each group in report order, at most `limit`.
std::vector<const TrackView*> plot_order(const std::vector<TrackView>& tracks, const std::vector<bool>& listed,
                                         std::size_t limit) {
  std::vector<const TrackView*> order;
  for (int group = 0; group < 3; ++group) {
    for (const TrackView& t : tracks) {
      if (!t.has_curves || !listed[t.index]) continue;
      const int g = t.bad() ? 0 : !t.warnings.empty() ? 1 : 2;
      if (g == group) order.push_back(&t);
    }
  }
  if (order.size() > limit) order.resize(limit);
  return order;
}

// Which tracks the table lists: all when they fit, else the problem tracks (failed or not compliant, then with
// warnings) and then the rest, each group in report order, at most `limit`.
std::vector<bool> table_rows(const std::vector<TrackView>& tracks, std::size_t limit) {
  std::vector<bool> listed(tracks.size(), tracks.size() <= limit);
  if (tracks.size() <= limit) return listed;
  std::size_t taken = 0;
  for (int group = 0; group < 3 && taken < limit; ++group) {
    for (const TrackView& t : tracks) {
      const int g = t.bad() ? 0 : !t.warnings.empty() ? 1 : 2;
      if (g != group || listed[t.index]) continue;
      listed[t.index] = true;
      if (++taken == limit) break;
    }
  }
  return listed;
}

std::string albums_table(const json& report) {
  const json* albums = at(report, {"albums"});
  if (!albums || !albums->is_array() || albums->empty()) return "";
  std::string s = "<h2>Albums</h2><div class=\"wrap\"><table id=\"albums\"><thead><tr><th>album file</th>"
                  "<th class=\"n\">tracks</th><th>status</th><th class=\"n\">LUFS</th><th class=\"n\">LRA</th>"
                  "<th class=\"n\">dBTP</th><th>cue sheet</th><th>error</th></tr></thead><tbody>";
  for (const json& a : *albums) {
    const std::string output = text(a, {"output"}), cue = text(a, {"cue"}), status = text(a, {"status"});
    const std::string error = text(a, {"error"});
    s += std::string("<tr") + (status == "failed" ? " class=\"bad\"" : "") + "><td title=\"" + esc(output) + "\">" +
         (output.empty() ? std::string(kDash) : esc(file_name(output))) + "</td>";
    const Opt n = number(a, {"tracks"});
    s += "<td class=\"n\">" + (n ? grouped(std::llround(*n)) : std::string(kDash)) + "</td>";
    s += "<td" + std::string(status == "failed" ? " class=\"failed\"" : "") + ">" +
         (status.empty() ? std::string(kDash) : esc(status)) + "</td>";
    s += "<td class=\"n\">" + fixed(number(a, {"loudness", "integrated_lufs"}), 1) + "</td>";
    s += "<td class=\"n\">" + fixed(number(a, {"loudness", "lra_lu"}), 1) + "</td>";
    s += "<td class=\"n\">" + fixed(number(a, {"loudness", "true_peak_dbtp"}), 2) + "</td>";
    s += "<td title=\"" + esc(cue) + "\">" + (cue.empty() ? std::string(kDash) : esc(file_name(cue))) + "</td>";
    s += "<td class=\"err\">" + (error.empty() ? std::string(kDash) : esc(error)) + "</td></tr>";
  }
  return s + "</tbody></table></div>";
}

}  // namespace

std::string report_html(const nlohmann::json& report, const HtmlReportOptions& options) {
  const Opt profile_ceiling = number(report, {"profile", "targets", "ceiling_dbtp"});
  std::vector<TrackView> tracks;
  if (const json* list = at(report, {"tracks"}); list && list->is_array()) {
    tracks.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) tracks.push_back(view_track((*list)[i], i, profile_ceiling));
  }
  const std::vector<bool> listed = table_rows(tracks, options.max_table_rows);
  // Plotted tracks come from the listed ones, so that every plot has its row (and the row its link).
  const std::vector<const TrackView*> order = plot_order(tracks, listed, options.max_plotted_tracks);
  std::vector<bool> plotted(tracks.size(), false);
  for (const TrackView* t : order) plotted[t->index] = true;
  const std::size_t with_curves =
      static_cast<std::size_t>(std::count_if(tracks.begin(), tracks.end(), [](const TrackView& t) { return t.has_curves; }));

  std::string page;
  page.reserve(64 * 1024 + order.size() * 24 * 1024 + tracks.size() * 1024);
  page += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<meta name=\"generator\" content=\"lathe\"><title>" +
          esc(options.title) + "</title><style>" + kStyle + "</style></head><body>\n";
  page += header(report, options);
  page += summary(report, tracks);
  page += tracks_table(tracks, listed, plotted);
  page += albums_table(report);

  page += "<h2>Plots</h2>";
  if (tracks.empty()) {
    page += "<p class=\"note\">The report has no tracks.</p>";
  } else if (with_curves == 0) {
    page += "<p class=\"note\" id=\"no-curves\">This run did not collect curves, so there are no plots: run lathe "
            "master with --report-html or --report-curves.</p>";
  } else {
    if (order.size() < with_curves) {
      page += "<p class=\"note\" id=\"plots-note\">Plots for " + grouped(static_cast<long long>(order.size())) +
              " of " + grouped(static_cast<long long>(with_curves)) + " tracks: the problem tracks first.</p>";
    }
    for (const TrackView* t : order) page += track_section(*t) + "\n";
  }
  const std::string version = text(report, {"version"});
  page += "<footer>made by lathe" + (version.empty() ? std::string() : " " + esc(version)) +
          " from a lathe.report/1 run report</footer>\n";
  page += "<script>" + std::string(kScript) + "</script>\n</body></html>\n";
  return page;
}

}  // namespace lathe::host
