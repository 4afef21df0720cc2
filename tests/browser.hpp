// Helpers for tests that open a page in headless Chromium: finding the browser, running it under a time limit
// (a hung browser fails the test instead of hanging it), and reading the PNG of a screenshot.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lathe::test {

// The browser to use: $LATHE_CHROMIUM, else /usr/bin/chromium, else /usr/bin/chromium-browser; "" when none is an
// executable file.
std::string find_chromium();

// LATHE_REQUIRE_BROWSER=1: a missing browser fails the test instead of skipping it (CI machines that have one).
bool browser_required();

struct CommandResult {
  int exit_code = -1;      // the command's exit status, 128 + signal when killed, 124 when the time limit hit
  bool timed_out = false;  // the time limit ended it
  double seconds = 0;      // wall time
};

// Runs argv (no shell) under coreutils' `timeout`, which ends the command's whole process group after `limit_s`.
// stdout goes to `stdout_file`, stderr to `stderr_file`.
CommandResult run_with_time_limit(const std::vector<std::string>& argv, int limit_s,
                                  const std::filesystem::path& stdout_file, const std::filesystem::path& stderr_file);

// A file:// URL for an absolute path, percent-encoding everything but unreserved characters and '/'.
std::string file_url(const std::filesystem::path& absolute);

struct BrowserRun {
  CommandResult command;
  std::string output;  // stdout: the DOM for dump_dom
  std::string log;     // the last part of stderr, for failure messages
};

// Loads `url` in headless Chromium with a fresh profile under `work` (created when missing; the browser's output
// and log go there too), with the flags an offline machine needs, and returns the DOM after the page's scripts ran
// (--dump-dom). A browser that has not finished after 120 s is ended (exit code 124).
BrowserRun chromium_dump_dom(const std::string& browser, const std::string& url, const std::filesystem::path& work);

// The same, writing a screenshot of the top `width` x `height` CSS pixels to `png`.
BrowserRun chromium_screenshot(const std::string& browser, const std::string& url, const std::filesystem::path& png,
                               int width, int height, const std::filesystem::path& work);

// True when the tests were built with libpng (LATHE_HAVE_PNG).
bool have_png();

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgb;  // row-major, 3 bytes a pixel
};

// Reads a PNG as 8-bit RGB with libpng's simplified API; nullopt (and a message in `error`) on failure or without
// libpng.
std::optional<RgbImage> read_png_rgb(const std::filesystem::path& png, std::string* error);

}  // namespace lathe::test
