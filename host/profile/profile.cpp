#include "host/profile/profile.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "host/errors.hpp"
#include "host/profile/builtin.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/match_stage.hpp"

namespace lathe::host {
Profile parse_profile(const std::string& text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ProfileError(source + ":" + std::to_string(e.source().begin.line) + ": TOML syntax error: " +
                       std::string(e.description()));
  }
  Profile p;
  p.source = source;
  ProfileTable top(root, source, "");
  p.name = top.text("name", std::filesystem::path(source).stem().string());
  p.description = top.text("description", "");

  top.consume("delivery");
  if (const toml::node* n = root.get("delivery")) {
    if (!n->is_table()) top.fail("delivery", "must be a table: [delivery]");
    ProfileTable t(*n->as_table(), source, "delivery");
    const std::string format = t.choice("format", {"wav", "flac", "aiff"}, "wav");
    p.delivery.format =
        format == "flac" ? OutputFormat::kFlac : format == "aiff" ? OutputFormat::kAiff : OutputFormat::kWav;
    t.consume("bits");
    if (const toml::node* b = n->as_table()->get("bits")) {
      if (b->as_integer() && b->as_integer()->get() == 16)
        p.delivery.bits = SampleBits::k16;
      else if (b->as_integer() && b->as_integer()->get() == 24)
        p.delivery.bits = SampleBits::k24;
      else if (b->as_string() && b->as_string()->get() == "32f")
        p.delivery.bits = SampleBits::kFloat32;
      else
        t.fail("bits", "must be 16, 24 or \"32f\"");
    }
    t.consume("sample_rate_hz");
    if (const toml::node* r = n->as_table()->get("sample_rate_hz")) {
      if (r->as_string() && r->as_string()->get() == "keep") {
        p.delivery.sample_rate_hz.reset();
      } else if (r->as_integer() && r->as_integer()->get() >= 8000 && r->as_integer()->get() <= 384000) {
        p.delivery.sample_rate_hz = static_cast<int>(r->as_integer()->get());
      } else {
        t.fail("sample_rate_hz", "must be \"keep\" or a whole number of Hz from 8000 to 384000");
      }
    }
    t.reject_unknown_keys();
    if (p.delivery.format == OutputFormat::kFlac && p.delivery.bits == SampleBits::kFloat32)
      t.fail("bits", "FLAC cannot hold 32-bit float; use 16 or 24, or format = \"wav\"");
  }

  top.consume("targets");
  if (const toml::node* n = root.get("targets")) {
    if (!n->is_table()) top.fail("targets", "must be a table: [targets]");
    ProfileTable t(*n->as_table(), source, "targets");
    if (t.has("integrated_lufs")) p.targets.integrated_lufs = t.number("integrated_lufs", -70.0, 0.0, 0, "LUFS");
    t.consume("integrated_lufs");
    if (t.has("ceiling_dbtp")) p.targets.ceiling_dbtp = t.number("ceiling_dbtp", -20.0, 0.0, 0, "dBTP");
    t.consume("ceiling_dbtp");
    p.targets.tolerance_lu = t.number("tolerance_lu", 0.01, 3.0, 0.1, "LU");
    p.targets.max_gain_db = t.number("max_gain_db", 0.0, 60.0, 20.0, "dB");
    p.targets.max_gain_reduction_db = t.number("max_gain_reduction_db", 0.0, 24.0, 6.0, "dB");
    t.consume("album");
    if (const toml::node* a = n->as_table()->get("album")) {
      if (!a->as_boolean()) t.fail("album", "must be true or false");
      p.targets.album = a->as_boolean()->get();
    }
    t.reject_unknown_keys();
  }

  top.consume("album");
  if (const toml::node* n = root.get("album")) {
    if (!n->is_table()) top.fail("album", "must be a table: [album]");
    ProfileTable t(*n->as_table(), source, "album");
    p.album.gap_s = t.number("gap_s", 0.0, 60.0, 2.0, "s");
    p.album.fade_in_s = t.number("fade_in_s", 0.0, 60.0, 0.0, "s");
    p.album.fade_out_s = t.number("fade_out_s", 0.0, 60.0, 0.0, "s");
    p.album.crossfade_s = t.number("crossfade_s", 0.0, 30.0, 0.0, "s");
    for (const char* key : {"album_file", "cd_frames"}) {
      t.consume(key);
      if (const toml::node* b = n->as_table()->get(key)) {
        if (std::string(key) == "cd_frames" && b->as_string() && b->as_string()->get() == "auto") continue;
        if (!b->as_boolean()) t.fail(key, std::string(key) == "cd_frames" ? "must be true, false or \"auto\"" : "must be true or false");
        if (std::string(key) == "album_file")
          p.album.album_file = b->as_boolean()->get();
        else
          p.album.cd_frames = b->as_boolean()->get();
      }
    }
    if (p.album.crossfade_s > 0 && t.has("gap_s") && p.album.gap_s > 0)
      t.fail("crossfade_s", "a crossfade overlaps the tracks: set gap_s = 0 (or leave it out) with it");
    if (p.album.crossfade_s > 0) p.album.gap_s = 0.0;
    t.reject_unknown_keys();
  }

  top.consume("stage");
  std::vector<int> stage_lines;
  if (const toml::node* n = root.get("stage")) {
    const toml::array* arr = n->as_array();
    if (!arr || (!arr->empty() && !arr->is_array_of_tables()))
      top.fail("stage", "must be an array of tables: [[stage]]");
    int index = 0;
    for (const toml::node& item : *arr) {
      ++index;
      const toml::table& tbl = *item.as_table();
      const toml::node* type = tbl.get("type");
      if (!type || !type->as_string())
        throw ProfileError(source + ":" + std::to_string(tbl.source().begin.line) + ": stage " +
                           std::to_string(index) + ": missing type = \"...\"; known types: " + known_stage_types());
      ProfileTable named(tbl, source, "stage " + std::to_string(index) + " (" + type->as_string()->get() + ")");
      p.stages.push_back(make_stage(type->as_string()->get(), named));
      stage_lines.push_back(static_cast<int>(tbl.source().begin.line));
    }
  }
  top.reject_unknown_keys();

  for (std::size_t i = 0; i + 1 < p.stages.size(); ++i)
    if (p.stages[i]->type() == "dither")
      throw ProfileError(source + ":" + std::to_string(stage_lines[i]) + ": stage " + std::to_string(i + 1) +
                         " (dither): dither must be the last stage; move it to the end");
  if (p.stages.empty() || p.stages.back()->type() != "dither") {
    toml::table defaults;
    ProfileTable t(defaults, source, "dither (default)");
    p.stages.push_back(make_stage("dither", t));
  }
  // A match stage with loudness = "reference" makes the reference's integrated loudness the delivery target.
  bool target_from_reference = false;
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    const std::optional<double> lufs = match_reference_loudness(*p.stages[i]);
    if (!lufs) continue;
    const std::string at = source + ":" + std::to_string(stage_lines[i]) + ": stage " + std::to_string(i + 1) +
                           " (match): loudness = \"reference\": ";
    if (target_from_reference)
      throw ProfileError(at + "an earlier match stage already sets the target from its reference",
                         "set loudness = \"reference\" on one match stage only");
    if (p.targets.integrated_lufs)
      throw ProfileError(at + "[targets] also sets integrated_lufs; the delivery target can come from one of them",
                         "remove integrated_lufs from [targets], or set loudness = \"keep\"");
    const bool has_limiter = std::any_of(p.stages.begin(), p.stages.end(),
                                         [](const auto& st) { return st->type() == "limiter"; });
    if (!p.targets.ceiling_dbtp && !has_limiter)
      throw ProfileError(at + "reaching a loudness target needs the delivery limiter",
                         "add a [targets] table with ceiling_dbtp (for example ceiling_dbtp = -1.0)");
    p.targets.integrated_lufs = *lufs;
    p.targets.integrated_from_reference = true;
    target_from_reference = true;
  }
  // The limiter works on whole tracks at the delivery rate: at most one, right before dither.
  int limiters = 0;
  for (std::size_t i = 0; i < p.stages.size(); ++i) {
    if (p.stages[i]->type() != "limiter") continue;
    if (++limiters > 1)
      throw ProfileError(source + ":" + std::to_string(stage_lines[i]) + ": stage " + std::to_string(i + 1) +
                         " (limiter): only one limiter stage is allowed");
    if (i + 2 != p.stages.size())
      throw ProfileError(source + ":" + std::to_string(stage_lines[i]) + ": stage " + std::to_string(i + 1) +
                         " (limiter): the limiter must be the last stage before dither (nothing may raise the "
                         "peaks it has limited); move it to the end");
  }
  if (limiters == 0 && (p.targets.integrated_lufs || p.targets.ceiling_dbtp)) {
    toml::table defaults;
    ProfileTable t(defaults, source, "limiter (default, for [targets])");
    p.stages.insert(p.stages.end() - 1, make_stage("limiter", t));
  }
  return p;
}

Profile load_profile(const std::string& name_or_path) {
  for (const auto& b : builtin_profiles()) {
    if (name_or_path == b.name) {
      Profile p = parse_profile(b.toml, "built-in profile '" + std::string(b.name) + "'");
      p.source = "built-in";
      return p;
    }
  }
  const std::filesystem::path path(name_or_path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::string names;
    for (const auto& b : builtin_profiles()) names += (names.empty() ? "" : ", ") + std::string(b.name);
    throw ProfileError("profile '" + name_or_path + "' is neither a built-in profile nor a readable file",
                       "built-in profiles: " + names + "; or give the path of a .toml file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw ProfileError("cannot read profile " + path.string());
  return parse_profile(text.str(), path.string());
}

bool Profile::whole_track_delivery() const {
  return delivery.sample_rate_hz.has_value() || stages[delivery_stage_index()]->type() == "limiter";
}

std::size_t Profile::delivery_stage_index() const {
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (stages[i]->type() == "limiter") return i;
  return stages.size() - 1;
}

std::string Profile::to_toml() const {
  toml::table root;
  root.insert_or_assign("name", name);
  root.insert_or_assign("description", description);
  toml::table delivery_table;
  delivery_table.insert_or_assign("format", to_string(delivery.format));
  if (delivery.bits == SampleBits::kFloat32)
    delivery_table.insert_or_assign("bits", "32f");
  else
    delivery_table.insert_or_assign("bits", static_cast<int>(delivery.bits));
  if (delivery.sample_rate_hz)
    delivery_table.insert_or_assign("sample_rate_hz", *delivery.sample_rate_hz);
  else
    delivery_table.insert_or_assign("sample_rate_hz", "keep");
  root.insert_or_assign("delivery", delivery_table);
  toml::table targets_table;
  // A target taken from a match stage's reference is that stage's to say (loudness = "reference"), not a key.
  if (targets.integrated_lufs && !targets.integrated_from_reference)
    targets_table.insert_or_assign("integrated_lufs", *targets.integrated_lufs);
  if (targets.ceiling_dbtp) targets_table.insert_or_assign("ceiling_dbtp", *targets.ceiling_dbtp);
  targets_table.insert_or_assign("tolerance_lu", targets.tolerance_lu);
  targets_table.insert_or_assign("max_gain_db", targets.max_gain_db);
  targets_table.insert_or_assign("max_gain_reduction_db", targets.max_gain_reduction_db);
  targets_table.insert_or_assign("album", targets.album);
  root.insert_or_assign("targets", targets_table);
  toml::table album_table;
  album_table.insert_or_assign("gap_s", album.gap_s);
  album_table.insert_or_assign("fade_in_s", album.fade_in_s);
  album_table.insert_or_assign("fade_out_s", album.fade_out_s);
  album_table.insert_or_assign("crossfade_s", album.crossfade_s);
  album_table.insert_or_assign("album_file", album.album_file);
  if (album.cd_frames)
    album_table.insert_or_assign("cd_frames", *album.cd_frames);
  else
    album_table.insert_or_assign("cd_frames", "auto");
  root.insert_or_assign("album", album_table);
  toml::array stage_list;
  for (const auto& s : stages) {
    toml::table t;
    t.insert_or_assign("type", s->type());
    s->describe(t);
    stage_list.push_back(t);
  }
  root.insert_or_assign("stage", stage_list);
  std::ostringstream os;
  // Relaxed float precision: 0.7, not 0.69999999999999996 (values still read back as the same profile).
  os << toml::toml_formatter{root, toml::toml_formatter::default_flags | toml::format_flags::relaxed_float_precision};
  return os.str() + "\n";
}

Profile profile_with_overrides(const Profile& base, const ProfileOverrides& o, const std::string& where) {
  if (!o.target_lufs && !o.ceiling_dbtp && !o.trim_db) return base;
  // Through the profile's own TOML, so that the values go through the same checks as a file's.
  toml::table root;
  try {
    root = toml::parse(base.to_toml());
  } catch (const toml::parse_error& e) {
    throw ProfileError("cannot restate profile '" + base.name + "' for " + where + ": " + std::string(e.description()));
  }
  toml::table& targets = *root["targets"].as_table();
  if (o.target_lufs) targets.insert_or_assign("integrated_lufs", *o.target_lufs);
  if (o.ceiling_dbtp) {
    targets.insert_or_assign("ceiling_dbtp", *o.ceiling_dbtp);
    // A limiter stage's own ceiling would win over the targets': the override is the track's ceiling.
    if (toml::array* list = root["stage"].as_array())
      for (auto& node : *list)
        if (toml::table* st = node.as_table(); st && st->get("type") && st->get("type")->value_or(std::string()) ==
                                                         "limiter")
          st->insert_or_assign("ceiling_dbtp", *o.ceiling_dbtp);
  }
  if (o.trim_db) {
    toml::table trim;
    trim.insert_or_assign("type", "gain");
    trim.insert_or_assign("gain_db", *o.trim_db);
    if (toml::array* list = root["stage"].as_array()) list->insert(list->begin(), trim);
  }
  std::ostringstream os;
  os << root;
  Profile p = parse_profile(os.str() + "\n", base.source + " with the overrides of " + where);
  p.source = base.source;
  return p;
}

}  // namespace lathe::host
