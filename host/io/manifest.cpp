#include "host/io/manifest.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "host/util/sha256.hpp"

namespace lathe::host {
namespace fs = std::filesystem;
namespace {

// ---- columns -----------------------------------------------------------------------------------------------

enum class Field { kInput, kOutput, kProfile, kAlbum, kTrack, kTarget, kCeiling, kTrim };

struct FieldSpec {
  Field field;
  std::string_view name;
  bool number;
  double lo, hi;           // accepted range, inclusive (numbers only)
  std::string_view range;  // the range as users read it
  std::string_view absent; // what an empty cell means, for hints
};

// One table for CSV columns and JSON keys, so the two formats cannot drift apart. docs/manifest.md mirrors it.
constexpr std::array<FieldSpec, 8> kFields{{
    {Field::kInput, "input", false, 0, 0, "", ""},
    {Field::kOutput, "output", false, 0, 0, "", "named after the input"},
    {Field::kProfile, "profile", false, 0, 0, "", "the run's profile"},
    {Field::kAlbum, "album", false, 0, 0, "", "no album"},
    {Field::kTrack, "track", true, 1, 9999, "1 .. 9999", "no track number"},
    {Field::kTarget, "target_lufs", true, -70, 0, "-70 .. 0 LUFS", "the profile's target"},
    {Field::kCeiling, "ceiling_dbtp", true, -20, 0, "-20 .. 0 dBTP", "the profile's ceiling"},
    {Field::kTrim, "trim_db", true, -60, 24, "-60 .. +24 dB", "no trim"},
}};

std::string column_list() {
  std::string s;
  for (const auto& f : kFields) s += (s.empty() ? "" : ", ") + std::string(f.name);
  return s;
}

const FieldSpec* find_field(std::string_view lower_name) {
  for (const auto& f : kFields)
    if (f.name == lower_name) return &f;
  return nullptr;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Values are echoed in messages; a very long one would bury the message.
std::string in_quotes(std::string_view s) {
  constexpr std::size_t kMax = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += s[i];
    }
  }
  if (s.size() > kMax) out += "...";
  return out + "\"";
}

bool has_control_character(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

// Offset of the first byte that is not well-formed UTF-8 (overlong forms, surrogates and code points above
// U+10FFFF included), or npos. Paths travel as bytes on POSIX, so this is the one place where mojibake is caught.
std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

int line_of_offset(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Empty string when `relative` is a safe output name (then `normalised` holds it), else why not.
std::string output_name_problem(std::string_view relative, std::string& normalised) {
  normalised.clear();
  if (relative.empty()) return "is empty";
  if (has_control_character(relative)) return "contains a control character";
  if (relative.find('\\') != std::string_view::npos)
    return "contains a backslash (Windows-style paths are not accepted; use / between folders)";
  if (relative.front() == '/') return "is an absolute path (give a path relative to the output folder)";
  if (relative.size() >= 2 && relative[1] == ':' &&
      ((relative[0] >= 'A' && relative[0] <= 'Z') || (relative[0] >= 'a' && relative[0] <= 'z')))
    return "starts with a drive letter (give a path relative to the output folder)";
  if (relative.back() == '/') return "ends with / and so names a folder, not a file";
  std::size_t start = 0;
  while (start <= relative.size()) {
    std::size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    const std::string_view part = relative.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;  // "a//b" and "./a" mean what they say on every system
    if (part == "..") return "contains a \"..\" component, which could leave the output folder";
    if (part.size() > 255) return "has a component longer than 255 bytes, which file systems refuse";
    if (!normalised.empty()) normalised += '/';
    normalised += part;
  }
  if (normalised.empty()) return "names no file";
  return {};
}

// Both paths absolute and canonical: is `child` `parent` or below it?
bool is_within(const fs::path& child, const fs::path& parent) {
  const fs::path rel = child.lexically_relative(parent);
  return !rel.empty() && *rel.begin() != "..";
}

// ---- building rows -------------------------------------------------------------------------------------------

struct RowContext {
  fs::path manifest_dir;  // relative inputs and profile files are joined to this
  std::string where;      // "FILE:LINE" or "FILE: tracks[I]"
  std::string_view word;  // "column" (CSV) or "key" (JSON)
};

[[noreturn]] void fail(const RowContext& ctx, const FieldSpec& f, const std::string& what, std::string hint) {
  throw ManifestError(ctx.where + ": " + std::string(ctx.word) + " \"" + std::string(f.name) + "\": " + what,
                      std::move(hint));
}

void set_text(ManifestRow& row, const FieldSpec& f, const std::string& value, const RowContext& ctx) {
  if (value.empty()) {
    if (f.field == Field::kInput) fail(ctx, f, "is empty", "every track needs its input file");
    return;  // an empty optional cell means "not given"
  }
  if (has_control_character(value))
    fail(ctx, f, in_quotes(value) + " contains a control character (a line break, tab...)", "remove it");
  switch (f.field) {
    case Field::kInput: {
      row.input_as_written = value;
      const fs::path p(value);
      row.input = p.is_absolute() ? p : ctx.manifest_dir / p;
      break;
    }
    case Field::kOutput: {
      std::string norm;
      const std::string problem = output_name_problem(value, norm);
      if (!problem.empty())
        fail(ctx, f, "output name " + in_quotes(value) + " " + problem,
             "outputs are written inside the output folder; give a relative path such as album/01 song.wav");
      row.output = norm;
      break;
    }
    case Field::kProfile: {
      // Built-in names never contain '/' or end in .toml; anything that does is a file, found like inputs.
      const bool is_file = value.find('/') != std::string::npos ||
                           (value.size() > 5 && ascii_lower(value.substr(value.size() - 5)) == ".toml");
      if (is_file) {
        const fs::path p(value);
        row.profile = (p.is_absolute() ? p : ctx.manifest_dir / p).string();
      } else {
        row.profile = value;
      }
      break;
    }
    case Field::kAlbum:
      row.album = value;
      break;
    default:
      break;
  }
}

void set_number(ManifestRow& row, const FieldSpec& f, double v, const std::string& as_written,
                const RowContext& ctx) {
  if (!std::isfinite(v) || v < f.lo || v > f.hi)
    fail(ctx, f, in_quotes(as_written) + " is outside " + std::string(f.range),
         "give a value in range, or leave it empty for " + std::string(f.absent));
  switch (f.field) {
    case Field::kTrack: row.track_number = static_cast<int>(v); break;
    case Field::kTarget: row.target_lufs = v; break;
    case Field::kCeiling: row.ceiling_dbtp = v; break;
    case Field::kTrim: row.trim_db = v; break;
    default: break;
  }
}

// A CSV cell as a number: the whole cell (blanks around it aside), finite, in range. No hex, no "inf".
void set_number_cell(ManifestRow& row, const FieldSpec& f, const std::string& cell, const RowContext& ctx) {
  std::string_view s = trim_blanks(cell);
  if (s.empty()) return;
  const std::string bad_hint = "write a plain number, e.g. " +
                               std::string(f.field == Field::kTrack ? "7" : f.field == Field::kTrim ? "-1.5" : "-14") +
                               "; " + std::string(f.range) + "; empty for " + std::string(f.absent);
  if (f.field == Field::kTrack) {
    // Digits only: "7.0", "+7" or "7a" are typos rather than track numbers.
    if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      fail(ctx, f, in_quotes(cell) + " is not a whole number (" + std::string(f.range) + ")", bad_hint);
    int n = 0;
    const bool fits = s.size() <= 9 && std::from_chars(s.data(), s.data() + s.size(), n).ec == std::errc();
    set_number(row, f, fits ? n : 1e10, cell, ctx);  // too many digits: reported as out of range
    return;
  }
  if (s.size() > 1 && s.front() == '+') s.remove_prefix(1);  // "+3" is how people write a boost
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    fail(ctx, f, in_quotes(cell) + " is not a number", bad_hint);
  set_number(row, f, v, cell, ctx);
}

std::string read_whole_file(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw ManifestError("manifest " + file.string() + " is a folder", "give a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ManifestError("cannot open manifest " + file.string(), "check the path and its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ManifestError("cannot read manifest " + file.string());
  return text.str();
}

// ---- CSV -----------------------------------------------------------------------------------------------------

std::vector<ManifestRow> read_csv_manifest(const fs::path& file, const std::string& text) {
  const std::string source = file.string();
  if (const std::size_t bad = invalid_utf8_at(text); bad != std::string::npos)
    throw ManifestError(source + ":" + std::to_string(line_of_offset(text, bad)) + ": not valid UTF-8 (byte " +
                            std::to_string(bad + 1) + ")",
                        "save the manifest as UTF-8");
  const std::vector<CsvRecord> records = parse_csv(text, source);
  const std::string example =
      "start with a header line naming the columns, e.g. input,output,profile; the columns are " + column_list();
  if (records.empty()) throw ManifestError(source + ": the manifest is empty: no header and no tracks", example);

  // Header: names case-insensitive, blanks around them ignored; every name must be known, once.
  const CsvRecord& header = records.front();
  const std::string at_header = source + ":" + std::to_string(header.line) + ": ";
  std::vector<const FieldSpec*> columns;
  std::map<std::string, std::size_t> seen;
  bool any_known = false;
  for (const auto& cell : header.cells) any_known = any_known || find_field(ascii_lower(trim_blanks(cell))) != nullptr;
  if (!any_known)
    throw ManifestError(at_header + "no header: none of " + in_quotes(header.cells.front()) +
                            (header.cells.size() > 1 ? "..." : "") + " is a column name",
                        example);
  for (std::size_t i = 0; i < header.cells.size(); ++i) {
    const std::string name = ascii_lower(trim_blanks(header.cells[i]));
    if (name.empty())
      throw ManifestError(at_header + "column " + std::to_string(i + 1) + " of the header has no name",
                          "name every column (" + column_list() + ") or remove the empty one");
    const FieldSpec* f = find_field(name);
    if (!f)
      throw ManifestError(at_header + "unknown column " + in_quotes(header.cells[i]),
                          "the columns are " + column_list() + "; check the spelling");
    if (const auto [it, inserted] = seen.emplace(name, i); !inserted)
      throw ManifestError(at_header + "column \"" + name + "\" appears twice (columns " +
                              std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")",
                          "keep one of them");
    columns.push_back(f);
  }
  if (!seen.count("input"))
    throw ManifestError(at_header + "the header has no \"input\" column", "every manifest needs an input column");

  std::vector<ManifestRow> rows;
  const RowContext base{file.parent_path(), "", "column"};
  for (std::size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    // Spreadsheets pad files with rows of empty cells; they describe no track.
    if (std::all_of(rec.cells.begin(), rec.cells.end(), [](const std::string& c) { return c.empty(); })) continue;
    RowContext ctx = base;
    ctx.where = source + ":" + std::to_string(rec.line);
    if (rec.cells.size() != columns.size())
      throw ManifestError(ctx.where + ": " + std::to_string(rec.cells.size()) + " cells, but the header has " +
                              std::to_string(columns.size()) + " columns",
                          "give every row one cell per column; quote cells that contain commas");
    ManifestRow row;
    row.line = rec.line;
    row.where = ctx.where;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c]->number) {
        set_number_cell(row, *columns[c], rec.cells[c], ctx);
      } else {
        set_text(row, *columns[c], rec.cells[c], ctx);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- JSON ----------------------------------------------------------------------------------------------------

using nlohmann::json;

// A JSON value as users would recognise it in an error message.
std::string describe(const json& v) {
  const std::string dumped = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return std::string(v.type_name()) + " " + (dumped.size() > 60 ? dumped.substr(0, 60) + "..." : dumped);
}

std::vector<ManifestRow> read_json_manifest(const fs::path& file, const std::string& text) {
  const std::string source = file.string();
  const std::string shape_hint = "a manifest is an array of track objects, or {\"tracks\": [...]}";

  // nlohmann keeps the last of two equal keys without a word; a repeated key is as likely a mistake as an unknown
  // one, so the parse callback looks for them. Depths follow the callback's convention: an object_start is
  // reported at the object's own depth (0 = the document), a key at its object's depth + 1.
  struct Duplicate {
    std::string key;
    int key_depth = 0;
    int objects_at_1 = 0, objects_at_2 = 0;  // objects started so far at depths 1 and 2: the track index
  };
  std::optional<Duplicate> dup;
  std::vector<std::set<std::string>> open_objects;
  int objects_at_1 = 0, objects_at_2 = 0;
  const json::parser_callback_t watch = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
      if (depth == 1) ++objects_at_1;
      if (depth == 2) ++objects_at_2;
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && !dup) {
      const std::string key = parsed.get<std::string>();
      if (!open_objects.back().insert(key).second) dup = Duplicate{key, depth, objects_at_1, objects_at_2};
    }
    return true;
  };
  json doc;
  try {
    doc = json::parse(text, watch);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    if (const auto p = what.find("] "); what.rfind("[json.exception", 0) == 0 && p != std::string::npos)
      what = what.substr(p + 2);
    throw ManifestError(source + ":" + std::to_string(line_of_offset(text, e.byte > 0 ? e.byte - 1 : 0)) +
                            ": JSON syntax error: " + what,
                        "fix the JSON; it must be UTF-8");
  }

  const json* tracks = &doc;
  int track_depth = 1;
  if (doc.is_object()) {
    for (const auto& [key, value] : doc.items())
      if (key != "tracks")
        throw ManifestError(source + ": unknown top-level key " + in_quotes(key), shape_hint);
    if (!doc.contains("tracks")) throw ManifestError(source + ": no \"tracks\" key", shape_hint);
    tracks = &doc["tracks"];
    track_depth = 2;
    if (!tracks->is_array())
      throw ManifestError(source + ": \"tracks\" must be an array, not " + describe(*tracks), shape_hint);
  } else if (!doc.is_array()) {
    throw ManifestError(source + ": the manifest must be an array or an object, not " + describe(doc), shape_hint);
  }
  if (dup) {
    std::string where = source;
    if (dup->key_depth == track_depth + 1)
      where += ": tracks[" + std::to_string((track_depth == 1 ? dup->objects_at_1 : dup->objects_at_2) - 1) + "]";
    throw ManifestError(where + ": key " + in_quotes(dup->key) + " appears twice in one object", "keep one of them");
  }

  std::vector<ManifestRow> rows;
  for (std::size_t i = 0; i < tracks->size(); ++i) {
    const json& item = (*tracks)[i];
    RowContext ctx{file.parent_path(), source + ": tracks[" + std::to_string(i) + "]", "key"};
    if (!item.is_object())
      throw ManifestError(ctx.where + ": a track must be an object, not " + describe(item),
                          "write each track as {\"input\": \"...\", ...}");
    ManifestRow row;
    row.line = static_cast<int>(i) + 1;
    row.where = ctx.where;
    std::map<std::string, std::string> seen;  // lower-cased key -> key as written
    for (const auto& [key, value] : item.items()) {
      const std::string name = ascii_lower(key);
      const FieldSpec* f = find_field(name);
      if (!f)
        throw ManifestError(ctx.where + ": unknown key " + in_quotes(key),
                            "the keys are " + column_list() + "; check the spelling");
      if (const auto [it, inserted] = seen.emplace(name, key); !inserted)
        throw ManifestError(
            ctx.where + ": keys " + in_quotes(it->second) + " and " + in_quotes(key) + " name the same column",
            "keep one of them");
      if (value.is_null()) continue;  // null = not given, like an empty CSV cell
      if (!f->number) {
        if (!value.is_string()) fail(ctx, *f, "must be a string, not " + describe(value), "write it in quotes");
        set_text(row, *f, value.get<std::string>(), ctx);
      } else if (f->field == Field::kTrack) {
        if (!value.is_number_integer())
          fail(ctx, *f, "must be a whole number, not " + describe(value),
               "write a whole number without quotes, " + std::string(f->range) + ", or null");
        // Range-checked as a double before narrowing to int, so 2^40 is reported as out of range, not wrapped.
        const double v = value.is_number_unsigned() ? static_cast<double>(value.get<std::uint64_t>())
                                                    : static_cast<double>(value.get<std::int64_t>());
        set_number(row, *f, v, value.dump(), ctx);
      } else {
        if (!value.is_number())
          fail(ctx, *f, "must be a number, not " + describe(value),
               "write a number without quotes, " + std::string(f->range) + ", or null");
        set_number(row, *f, value.get<double>(), value.dump(), ctx);
      }
    }
    if (!seen.count("input") || row.input_as_written.empty()) {
      if (seen.count("input")) fail(ctx, kFields[0], "is empty", "every track needs its input file");
      throw ManifestError(ctx.where + ": no \"input\" key", "every track needs its input file");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

// ---- public --------------------------------------------------------------------------------------------------

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source) {
  std::vector<CsvRecord> records;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  int line = 1;
  const auto at = [&](int l) { return source + ":" + std::to_string(l) + ": "; };
  // One record per iteration; `i` sits at the start of a line.
  while (i < text.size()) {
    CsvRecord rec;
    rec.line = line;
    bool blank = true;  // one empty unquoted cell and nothing else
    std::string cell;
    bool end_of_record = false;
    while (!end_of_record) {
      cell.clear();
      if (i < text.size() && text[i] == '"') {
        blank = false;
        const int started = line;
        ++i;
        for (;;) {
          if (i >= text.size())
            throw ManifestError(at(started) + "a quoted cell is not closed",
                                "end the cell with \" and write a quote inside a cell as \"\"");
          const char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              cell += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n' || (c == '\r' && (i >= text.size() || text[i] != '\n'))) ++line;
          cell += c;
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          throw ManifestError(at(line) + "text after the closing quote of a cell",
                              "quote the whole cell, and write a quote inside it as \"\"");
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"')
            throw ManifestError(at(line) + "a quote inside an unquoted cell",
                                "quote the whole cell, and write a quote inside it as \"\"");
          cell += text[i++];
        }
        if (!cell.empty()) blank = false;
      }
      rec.cells.push_back(cell);
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        blank = false;
        ++i;
        if (i >= text.size()) rec.cells.emplace_back();  // "a," ends with an empty cell
        end_of_record = i >= text.size();
      } else {  // CR, LF or CRLF
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        end_of_record = true;
      }
    }
    if (!blank) records.push_back(std::move(rec));
  }
  return records;
}

std::vector<ManifestRow> read_manifest(const fs::path& file) {
  const std::string ext = ascii_lower(file.extension().string());
  if (ext != ".csv" && ext != ".json")
    throw ManifestError("manifest " + file.string() + ": unknown format \"" + file.extension().string() + "\"",
                        "give a .csv or .json file (see docs/manifest.md)");
  const std::string text = read_whole_file(file);
  std::vector<ManifestRow> rows = ext == ".csv" ? read_csv_manifest(file, text) : read_json_manifest(file, text);
  if (rows.empty())
    throw ManifestError(file.string() + ": no tracks", "add one " + std::string(ext == ".csv" ? "row" : "object") +
                                                           " per track" + (ext == ".csv" ? " under the header" : ""));
  // Two rows writing one file would race, and the later would silently win. Rows without an output are named by
  // the caller once the delivery format is known, and checked there.
  std::map<std::string, const ManifestRow*> claimed;
  for (const auto& row : rows) {
    if (row.output.empty()) continue;
    if (const auto [it, inserted] = claimed.emplace(row.output, &row); !inserted)
      throw ManifestError(row.where + ": output " + in_quotes(row.output) + " is also the output of " + it->second->where,
                          "give each track its own output name");
  }
  return rows;
}

std::string normalise_output_name(std::string_view relative) {
  std::string norm;
  const std::string problem = output_name_problem(relative, norm);
  if (!problem.empty())
    throw OutputError("output name " + in_quotes(relative) + " " + problem,
                      "outputs are written inside the output folder; give a relative path such as album/01 song.wav");
  return norm;
}

fs::path confined_output(const fs::path& out_dir, std::string_view relative) {
  const std::string rel = normalise_output_name(relative);
  const fs::path result = out_dir / fs::path(rel);
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::absolute(out_dir, ec), ec);
  if (ec) throw OutputError("cannot resolve the output folder " + out_dir.string() + ": " + ec.message());

  // Walk down from OUTDIR through what exists. `cur` stays canonical: a plain component appended to a canonical
  // path is canonical, and a link is replaced by its canonical target, which must stay inside OUTDIR. A
  // weakly_canonical() of the whole path would let a dangling link through as if it were a folder to create.
  fs::path cur = base;
  fs::path walked = out_dir;  // the same point as the user sees it, for messages
  std::size_t start = 0;
  while (start < rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const fs::path part(rel.substr(start, end - start));
    const bool last = end == rel.size();
    start = end + 1;
    const fs::path next = cur / part;
    walked /= part;
    const fs::file_status st = fs::symlink_status(next, ec);
    if (st.type() == fs::file_type::not_found) break;  // the rest will be created as real folders
    if (ec) throw OutputError("cannot check " + walked.string() + ": " + ec.message());
    if (fs::is_symlink(st)) {
      const fs::path target = fs::canonical(next, ec);
      if (ec)
        throw OutputError("output " + result.string() + ": " + walked.string() +
                              " is a symbolic link that cannot be followed (" + ec.message() + ")",
                          "remove the link or choose another output name");
      if (!is_within(target, base))
        throw OutputError("output " + result.string() + ": " + walked.string() + " is a symbolic link to " +
                              target.string() + ", outside the output folder",
                          "outputs stay inside the output folder; remove the link or choose another output name");
      cur = target;
    } else {
      cur = next;
    }
    if (last && fs::is_directory(cur, ec))
      throw OutputError("output " + result.string() + " is an existing folder", "choose another output name");
  }
  return result;
}

Shard parse_shard(const std::string& text) {
  const std::string hint = "give K/N with 1 <= K <= N <= 1000000, e.g. --shard 2/8 for the second of eight shards";
  const auto slash = text.find('/');
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 7 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (slash == std::string::npos || !digits(std::string_view(text).substr(0, slash)) ||
      !digits(std::string_view(text).substr(slash + 1)))
    throw UsageError("--shard " + in_quotes(text) + " is not K/N", hint);
  Shard s;
  std::from_chars(text.data(), text.data() + slash, s.index);
  std::from_chars(text.data() + slash + 1, text.data() + text.size(), s.count);
  if (s.count < 1 || s.count > 1000000)
    throw UsageError("--shard " + text + ": the number of shards must be 1 .. 1000000", hint);
  if (s.index < 1 || s.index > s.count)
    throw UsageError("--shard " + text + ": the shard must be 1 .. " + std::to_string(s.count), hint);
  return s;
}

std::string shard_key(const ManifestRow& row) { return row.output.empty() ? row.input_as_written : row.output; }

int shard_of(std::string_view key, int count) {
  if (count < 1) throw UsageError("shard count " + std::to_string(count) + " is below 1");
  Sha256 h;
  h.update(key.data(), key.size());
  const std::array<std::uint8_t, 32> d = h.finish();
  std::uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v = (v << 8) | d[static_cast<std::size_t>(k)];
  return static_cast<int>(v % static_cast<std::uint64_t>(count)) + 1;
}

bool in_shard(const ManifestRow& row, Shard shard) { return shard_of(shard_key(row), shard.count) == shard.index; }

ManifestPlan plan_manifest(const std::vector<ManifestRow>& rows, const std::filesystem::path& out_dir,
                           const std::vector<OutputFormat>& formats) {
  if (formats.size() != rows.size()) throw std::invalid_argument("plan_manifest: one format per row");
  ManifestPlan out;
  std::set<std::filesystem::path> inputs;
  for (const ManifestRow& r : rows) inputs.insert(std::filesystem::absolute(r.input).lexically_normal());
  std::map<std::filesystem::path, std::string> claimed;  // output -> the row that claims it
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ManifestRow& r = rows[i];
    const OutputFormat format = formats[i];
    const std::string who = r.where.empty() ? r.input.string() : r.where;
    std::string name = r.output;
    if (name.empty()) {
      std::filesystem::path p = r.input.filename();
      p.replace_extension("." + extension_of(format));
      name = p.string();
    }
    std::filesystem::path output;
    try {
      output = confined_output(out_dir, name);
    } catch (const Error& e) {
      out.plan.problems.push_back({r.input.string(), who + ": " + e.message()});
      continue;
    }
    const std::filesystem::path norm = std::filesystem::absolute(output).lexically_normal();
    if (inputs.count(norm)) {
      out.plan.problems.push_back({r.input.string(), who + ": output " + output.string() +
                                                         " would replace an input (choose an output folder apart "
                                                         "from the inputs)"});
      continue;
    }
    const auto [it, fresh] = claimed.emplace(norm, who);
    if (!fresh) {
      out.plan.problems.push_back({r.input.string(), who + ": output " + output.string() + " is already the output of " +
                                                         it->second + " (give one of them another output name)"});
      continue;
    }
    out.plan.jobs.push_back(Job{r.input, output, r.album, out_dir});
    out.rows.push_back(&r);
  }
  return out;
}

}  // namespace lathe::host
