#include "host/io/resume.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/util/sha256.hpp"

namespace lathe::host {
namespace fs = std::filesystem;

std::string file_sha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read " + path.string() + " to hash it", "check the file and its permissions");
  Sha256 h;
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) h.update(buf.data(), static_cast<std::size_t>(got));
  }
  if (in.bad()) throw InputError("read error while hashing " + path.string(), "check the file and the disk");
  return h.finish_hex();
}

std::string track_fingerprint(const std::string& settings, const fs::path& input) {
  const std::string text = "lathe.fingerprint/1\n" + settings + "\ninput " + file_sha256(input) + "\n";
  return sha256_hex(text.data(), text.size());
}

fs::path resume_record_path(const fs::path& out_dir, const fs::path& output) {
  fs::path rel = output.lexically_relative(out_dir);
  if (rel.empty() || rel.native().starts_with("..")) rel = output.filename();
  return out_dir / ".lathe" / "state" / (rel.string() + ".json");
}

ResumeRecord read_resume_record(const fs::path& out_dir, const fs::path& output) {
  ResumeRecord r;
  std::ifstream in(resume_record_path(out_dir, output));
  if (!in) return r;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    const std::string state = j.at("state").get<std::string>();
    r.fingerprint = j.at("fingerprint").get<std::string>();
    if (state == "done") {
      r.state = ResumeState::kDone;
      r.output_sha256 = j.at("output_sha256").get<std::string>();
    } else {
      r.state = ResumeState::kPending;
    }
  } catch (const std::exception&) {
    // A record cut short cannot happen (atomic writes), but an unreadable one is treated as pending: lathe's own
    // output, to be made again.
    r = ResumeRecord{ResumeState::kPending, {}, {}};
  }
  return r;
}

namespace {
void write_record(const fs::path& out_dir, const fs::path& output, const nlohmann::json& j) {
  const fs::path path = resume_record_path(out_dir, output);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    throw OutputError("cannot create " + path.parent_path().string() + ": " + ec.message(),
                      "the output folder must be writable");
  write_text_atomically(path, j.dump(2) + "\n");
}
}  // namespace

void write_pending_record(const fs::path& out_dir, const fs::path& output, const std::string& fingerprint) {
  write_record(out_dir, output, {{"schema", "lathe.resume/1"}, {"state", "pending"}, {"fingerprint", fingerprint},
                                 {"lathe", LATHE_VERSION}});
}

void write_done_record(const fs::path& out_dir, const fs::path& output, const std::string& fingerprint) {
  write_record(out_dir, output, {{"schema", "lathe.resume/1"}, {"state", "done"}, {"fingerprint", fingerprint},
                                 {"output_sha256", file_sha256(output)}, {"lathe", LATHE_VERSION}});
}

bool is_own_output(const fs::path& out_dir, const fs::path& output) {
  const ResumeRecord r = read_resume_record(out_dir, output);
  if (r.state == ResumeState::kPending) return true;
  if (r.state != ResumeState::kDone) return false;
  try {
    return file_sha256(output) == r.output_sha256;
  } catch (const Error&) {
    return false;  // no output (nothing to replace) or unreadable
  }
}

bool finished_before(const fs::path& out_dir, const fs::path& output, const std::string& fingerprint) {
  const ResumeRecord r = read_resume_record(out_dir, output);
  if (r.state != ResumeState::kDone || r.fingerprint != fingerprint) return false;
  std::error_code ec;
  if (!fs::is_regular_file(output, ec)) return false;
  try {
    return file_sha256(output) == r.output_sha256;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace lathe::host
