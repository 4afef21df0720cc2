#include "host/profile/profile_table.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "host/errors.hpp"

namespace lathe::host {

ProfileTable::ProfileTable(const toml::table& table, std::string file, std::string where)
    : table_(table), file_(std::move(file)), where_(std::move(where)) {}

int ProfileTable::line_of(const std::string& key) const {
  if (const toml::node* n = table_.get(key)) return static_cast<int>(n->source().begin.line);
  return static_cast<int>(table_.source().begin.line);
}

std::string ProfileTable::value_text(const std::string& key) const {
  const toml::node* n = table_.get(key);
  if (!n) return "(absent)";
  std::ostringstream os;
  if (n->is_table())
    os << "(a table)";
  else if (n->is_array())
    os << "(an array)";
  else if (const auto* f = n->as_floating_point()) {
    // The shortest text that reads back as the same double: 0.7, not 0.69999999999999996.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, f->get());
    os << std::string(buf, r.ptr);
  } else
    n->visit([&](auto&& v) { os << v; });
  return os.str();
}

void ProfileTable::fail(const std::string& key, const std::string& problem) const {
  std::string where = where_.empty() ? key : where_ + ": " + key;
  throw ProfileError(file_ + ":" + std::to_string(line_of(key)) + ": " + where + " = " + value_text(key) + ": " +
                     problem);
}

double ProfileTable::number_value(const std::string& key, const std::string& not_a_number) {
  used_.insert(key);
  const toml::node* n = table_.get(key);
  if (const auto* i = n ? n->as_integer() : nullptr) return static_cast<double>(i->get());
  if (const auto* f = n ? n->as_floating_point() : nullptr) return f->get();
  fail(key, not_a_number);
}

double ProfileTable::number(const std::string& key, double min, double max, double fallback, const char* unit) {
  used_.insert(key);
  if (!table_.contains(key)) return fallback;
  const double v = number_value(key, std::string("must be a number in ") + unit);
  if (!std::isfinite(v) || v < min || v > max) {
    std::ostringstream os;
    os << "must be between " << min << " and " << max << " " << unit;
    fail(key, os.str());
  }
  return v;
}

std::string ProfileTable::choice(const std::string& key, const std::vector<std::string>& allowed,
                                 const std::string& fallback) {
  used_.insert(key);
  const toml::node* n = table_.get(key);
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
  if (!n) return fallback;
  const auto* s = n->as_string();
  if (!s) fail(key, "must be one of " + list);
  for (const auto& a : allowed)
    if (s->get() == a) return a;
  fail(key, "must be one of " + list);
}

std::string ProfileTable::text(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  const toml::node* n = table_.get(key);
  if (!n) return fallback;
  const auto* s = n->as_string();
  if (!s) fail(key, "must be a string");
  return s->get();
}

void ProfileTable::reject_unknown_keys() const {
  for (const auto& entry : table_) {
    const std::string key(entry.first.str());
    if (used_.count(key)) continue;
    // Every accessor records its key, so the keys asked for are exactly the ones allowed here.
    std::string known;
    for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
    fail(key, "unknown key" + (known.empty() ? std::string() : "; allowed here: " + known));
  }
}

std::string ProfileTable::path_in_profile(const std::string& value) const {
  std::filesystem::path p(value);
  std::error_code ec;
  if (p.is_relative() && std::filesystem::is_regular_file(file_, ec)) p = std::filesystem::path(file_).parent_path() / p;
  return p.string();
}

}  // namespace lathe::host
