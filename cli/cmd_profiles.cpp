// `lathe profiles [--show NAME]`: list the built-in profiles, or print one as TOML.
#include <iostream>

#include "cli/commands.hpp"
#include "host/profile/builtin.hpp"
#include "host/profile/profile.hpp"

namespace lathe::cli {

CLI::App* add_profiles(CLI::App& app, ProfilesArgs& a) {
  CLI::App* cmd = app.add_subcommand("profiles", "List the built-in profiles, or print one with --show");
  cmd->add_option("--show", a.show, "Print this profile (built-in name or file) as TOML, every default filled in");
  return cmd;
}

int run_profiles(const ProfilesArgs& a) {
  if (!a.show.empty()) {
    std::cout << host::load_profile(a.show).to_toml();
    return kExitOk;
  }
  for (const auto& b : host::builtin_profiles()) {
    const host::Profile p = host::load_profile(b.name);
    std::printf("%-16s %s\n", b.name, p.description.c_str());
  }
  return kExitOk;
}

}  // namespace lathe::cli
