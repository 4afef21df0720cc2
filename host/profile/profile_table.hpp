// Reading one TOML table of a profile with errors that name the file, line, key, bad value and what is
// allowed, and with unknown keys refused (a typo must not be silently ignored).
#pragma once

#include <toml++/toml.h>

#include <set>
#include <string>
#include <vector>

namespace lathe::host {

class ProfileTable {
 public:
  // `where` is the table's name in messages ("delivery", "stage 2 (gain)"); `file` the profile's source.
  ProfileTable(const toml::table& table, std::string file, std::string where);

  // A number (integer or float) in [min, max]; `fallback` when absent.
  double number(const std::string& key, double min, double max, double fallback, const char* unit);
  // The value of `key`, present and a number (integer or float; fails with `not_a_number` otherwise), for
  // callers with a range rule of their own.
  double number_value(const std::string& key, const std::string& not_a_number);
  // A string out of `allowed`; `fallback` when absent.
  std::string choice(const std::string& key, const std::vector<std::string>& allowed, const std::string& fallback);
  // Any string (names, descriptions); `fallback` when absent.
  std::string text(const std::string& key, const std::string& fallback);
  bool has(const std::string& key) const { return table_.contains(key); }
  // Marks a key as handled elsewhere (sub-tables read by the caller).
  void consume(const std::string& key) { used_.insert(key); }
  // The line of `key`, or of the table when the key is absent.
  int line_of(const std::string& key) const;
  // Throws ProfileError for the first key that no accessor asked for. Call after reading every key.
  void reject_unknown_keys() const;
  // Throws ProfileError about `key` with `problem` (used by callers for cross-key checks).
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

  const std::string& file() const { return file_; }
  // A file named in the profile (an IR, a reference track): a relative path is relative to the profile file's
  // folder when the profile is a file, else to the working directory.
  std::string path_in_profile(const std::string& value) const;
  const std::string& where() const { return where_; }
  // The table itself, for sub-tables a caller parses (mark their keys with consume()).
  const toml::table& table() const { return table_; }

 private:
  std::string value_text(const std::string& key) const;
  const toml::table& table_;
  std::string file_;
  std::string where_;
  std::set<std::string> used_;
};

}  // namespace lathe::host
