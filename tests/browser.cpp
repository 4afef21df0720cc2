// Headless-Chromium helpers for the tests (see browser.hpp).
#include "tests/browser.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#ifdef LATHE_HAVE_PNG
#include <png.h>
#endif

namespace lathe::test {

namespace fs = std::filesystem;

namespace {

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0 && fs::is_regular_file(path); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The flags every run needs. This machine has no network: without the ones that switch off background
// connections (QUIC, component updates, sync), Chromium waits on them and never exits. The fresh profile keeps
// runs independent, and the virtual time budget lets the page's scripts run before the DOM or pixels are taken.
// Containers often give /dev/shm only 64 MB, where Chromium's renderer can crash: it uses /tmp instead.
std::vector<std::string> base_argv(const std::string& browser, const fs::path& profile) {
  return {browser,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-dev-shm-usage",
          "--user-data-dir=" + profile.string(),
          "--virtual-time-budget=3000"};
}

BrowserRun run_browser(std::vector<std::string> argv, const fs::path& work, const std::string& tag) {
  std::error_code ec;
  fs::create_directories(work, ec);  // the child cannot report a folder it failed to open files in
  const fs::path out = work / (tag + ".stdout"), err = work / (tag + ".stderr");
  BrowserRun r;
  r.command = run_with_time_limit(argv, 120, out, err);
  r.output = read_file(out);
  r.log = read_file(err);
  if (r.log.size() > 2000) r.log = "..." + r.log.substr(r.log.size() - 2000);
  return r;
}

}  // namespace

std::string find_chromium() {
  if (const char* env = std::getenv("LATHE_CHROMIUM"); env && *env) return executable(env) ? env : "";
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (executable(candidate)) return candidate;
  }
  return "";
}

bool browser_required() {
  const char* env = std::getenv("LATHE_REQUIRE_BROWSER");
  return env && std::string(env) == "1";
}

CommandResult run_with_time_limit(const std::vector<std::string>& argv, int limit_s, const fs::path& stdout_file,
                                  const fs::path& stderr_file) {
  // Everything exec needs is prepared before fork: the child of a threaded process may only make
  // async-signal-safe calls.
  std::vector<std::string> full = {"timeout", "--kill-after=10", std::to_string(limit_s)};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  const std::string out = stdout_file.string(), err = stderr_file.string();

  CommandResult r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int in = ::open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return r;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // timeout exits 124 when it stopped the command, 137 when it had to kill it after --kill-after.
  r.timed_out = r.exit_code == 124 || r.exit_code == 137;
  return r;
}

std::string file_url(const fs::path& absolute) {
  static const char* hex = "0123456789ABCDEF";
  std::string url = "file://";
  for (const char ch : absolute.string()) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '_' || c == '.' || c == '~' || c == '/';
    if (plain) {
      url += ch;
    } else {
      url += '%';
      url += hex[c >> 4];
      url += hex[c & 15];
    }
  }
  return url;
}

BrowserRun chromium_dump_dom(const std::string& browser, const std::string& url, const fs::path& work) {
  static int runs = 0;
  const std::string tag = "dom" + std::to_string(++runs);
  std::vector<std::string> argv = base_argv(browser, work / (tag + "-profile"));
  argv.push_back("--dump-dom");
  argv.push_back(url);
  return run_browser(argv, work, tag);
}

BrowserRun chromium_screenshot(const std::string& browser, const std::string& url, const fs::path& png, int width,
                               int height, const fs::path& work) {
  static int runs = 0;
  const std::string tag = "shot" + std::to_string(++runs);
  std::vector<std::string> argv = base_argv(browser, work / (tag + "-profile"));
  argv.push_back("--screenshot=" + png.string());
  argv.push_back("--window-size=" + std::to_string(width) + "," + std::to_string(height));
  argv.push_back("--hide-scrollbars");
  argv.push_back(url);
  return run_browser(argv, work, tag);
}

bool have_png() {
#ifdef LATHE_HAVE_PNG
  return true;
#else
  return false;
#endif
}

std::optional<RgbImage> read_png_rgb(const fs::path& png, std::string* error) {
#ifdef LATHE_HAVE_PNG
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, png.c_str())) {
    if (error) *error = std::string("cannot read ") + png.string() + ": " + image.message;
    return std::nullopt;
  }
  image.format = PNG_FORMAT_RGB;
  RgbImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
    if (error) *error = std::string("cannot decode ") + png.string() + ": " + image.message;
    png_image_free(&image);
    return std::nullopt;
  }
  return out;
#else
  if (error) *error = "the tests were built without libpng (" + png.string() + " not read)";
  return std::nullopt;
#endif
}

}  // namespace lathe::test
