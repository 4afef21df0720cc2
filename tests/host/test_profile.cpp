// Profiles: every built-in parses and round-trips through to_toml(); every mistake in a profile file is refused
// with a message that names the file, the line, the key, the bad value and what is allowed.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "host/errors.hpp"
#include "host/profile/builtin.hpp"
#include "host/profile/profile.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

// Passes when `text` contains `part`; the failure shows both.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << part << "\" in:\n" << text;
}

// The message of the ProfileError that parsing `text` throws ("" and a test failure when it parses).
std::string profile_error(const std::string& text, const std::string& source = "mine.toml") {
  try {
    parse_profile(text, source);
  } catch (const ProfileError& e) {
    return e.message();
  }
  ADD_FAILURE() << "expected a ProfileError for:\n" << text;
  return "";
}

std::string load_error(const std::string& name_or_path) {
  try {
    load_profile(name_or_path);
  } catch (const ProfileError& e) {
    return e.message();
  }
  ADD_FAILURE() << "expected a ProfileError loading " << name_or_path;
  return "";
}

TEST(ProfileBuiltins, EveryBuiltinParsesWithDescriptionAndEndsWithDither) {
  ASSERT_FALSE(builtin_profiles().empty());
  bool has_default = false;
  for (const auto& b : builtin_profiles()) {
    SCOPED_TRACE(b.name);
    has_default = has_default || std::string(b.name) == "streaming";
    Profile p;
    ASSERT_NO_THROW(p = load_profile(b.name));
    EXPECT_EQ(p.name, b.name) << "the name inside the file matches its file name";
    EXPECT_EQ(p.source, "built-in");
    EXPECT_FALSE(p.description.empty());
    ASSERT_FALSE(p.stages.empty());
    EXPECT_EQ(p.stages.back()->type(), "dither");
    for (std::size_t i = 0; i + 1 < p.stages.size(); ++i) EXPECT_NE(p.stages[i]->type(), "dither");
    EXPECT_NO_THROW(check_format_supported(p.delivery.format, p.delivery.bits));
  }
  EXPECT_TRUE(has_default) << "`lathe master` defaults to the profile named streaming";
}

TEST(ProfileBuiltins, EveryBuiltinRoundTripsThroughToToml) {
  for (const auto& b : builtin_profiles()) {
    SCOPED_TRACE(b.name);
    const Profile p = load_profile(b.name);
    const std::string once = p.to_toml();
    Profile again;
    ASSERT_NO_THROW(again = parse_profile(once, "shown.toml")) << once;
    EXPECT_EQ(again.to_toml(), once);
    EXPECT_EQ(again.name, p.name);
    EXPECT_EQ(again.description, p.description);
    EXPECT_EQ(again.delivery.format, p.delivery.format);
    EXPECT_EQ(again.delivery.bits, p.delivery.bits);
    EXPECT_EQ(again.stages.size(), p.stages.size());
  }
}

TEST(ProfileParse, FullProfileWithTargetsAndGainRoundTrips) {
  const std::string text =
      "name = \"loud\"\n"
      "description = \"for tests\"\n"
      "[delivery]\nformat = \"flac\"\nbits = 16\nsample_rate_hz = \"keep\"\n"
      "[targets]\nintegrated_lufs = -14.0\nceiling_dbtp = -1\ntolerance_lu = 0.5\n"
      "[[stage]]\ntype = \"gain\"\ngain_db = -2.5\n"
      "[[stage]]\ntype = \"dither\"\nkind = \"none\"\n";
  const Profile p = parse_profile(text, "loud.toml");
  EXPECT_EQ(p.name, "loud");
  EXPECT_EQ(p.source, "loud.toml");
  EXPECT_EQ(p.delivery.format, OutputFormat::kFlac);
  EXPECT_EQ(p.delivery.bits, SampleBits::k16);
  EXPECT_FALSE(p.delivery.sample_rate_hz.has_value());
  ASSERT_TRUE(p.targets.integrated_lufs.has_value());
  EXPECT_DOUBLE_EQ(*p.targets.integrated_lufs, -14.0);
  ASSERT_TRUE(p.targets.ceiling_dbtp.has_value());
  EXPECT_DOUBLE_EQ(*p.targets.ceiling_dbtp, -1.0);
  EXPECT_DOUBLE_EQ(p.targets.tolerance_lu, 0.5);
  // [targets] with no limiter stage gets the default limiter, right before dither.
  ASSERT_EQ(p.stages.size(), 3u);
  EXPECT_EQ(p.stages[0]->type(), "gain");
  EXPECT_EQ(p.stages[1]->type(), "limiter");
  EXPECT_EQ(p.stages[2]->type(), "dither");
  EXPECT_TRUE(p.whole_track_delivery());

  const Profile again = parse_profile(p.to_toml(), "again.toml");
  EXPECT_EQ(again.to_toml(), p.to_toml());
  ASSERT_TRUE(again.targets.integrated_lufs.has_value());
  EXPECT_DOUBLE_EQ(*again.targets.integrated_lufs, -14.0);
  EXPECT_TRUE(Contains(p.to_toml(), "gain_db = -2.5"));
  EXPECT_TRUE(Contains(p.to_toml(), "'none'"));
}

TEST(ProfileParse, NameDefaultsToTheFileStem) {
  const Profile p = parse_profile("[[stage]]\ntype = \"gain\"\ngain_db = 1\n", "/some/where/warm.toml");
  EXPECT_EQ(p.name, "warm");
  EXPECT_EQ(p.delivery.format, OutputFormat::kWav);
  EXPECT_EQ(p.delivery.bits, SampleBits::k24);
}

TEST(ProfileParse, ProfileWithoutDitherGetsTpdfDitherAppended) {
  const Profile p = parse_profile("name = \"g\"\n[[stage]]\ntype = \"gain\"\ngain_db = -1\n", "g.toml");
  ASSERT_EQ(p.stages.size(), 2u);
  EXPECT_EQ(p.stages[0]->type(), "gain");
  EXPECT_EQ(p.stages[1]->type(), "dither");
  toml::table t;
  p.stages[1]->describe(t);
  EXPECT_EQ(t["kind"].value_or(std::string()), "tpdf");

  const Profile empty = parse_profile("", "empty.toml");
  ASSERT_EQ(empty.stages.size(), 1u);
  EXPECT_EQ(empty.stages[0]->type(), "dither");
  toml::table e;
  empty.stages[0]->describe(e);
  EXPECT_EQ(e["kind"].value_or(std::string()), "tpdf");
}

TEST(ProfileErrors, OutOfRangeGainNamesFileLineKeyValueAndRange) {
  const std::string msg = profile_error("name = \"x\"\n\n[[stage]]\ntype = \"gain\"\ngain_db = 99\n", "loud.toml");
  EXPECT_TRUE(Contains(msg, "loud.toml:5"));
  EXPECT_TRUE(Contains(msg, "gain_db"));
  EXPECT_TRUE(Contains(msg, "99"));
  EXPECT_TRUE(Contains(msg, "between"));
  EXPECT_TRUE(Contains(msg, "-60"));
  EXPECT_TRUE(Contains(msg, "60"));
}

TEST(ProfileErrors, MisspelledStageKeyIsNamedWithTheAllowedKeys) {
  const std::string msg = profile_error("[[stage]]\ntype = \"gain\"\ngian_db = -3\n", "typo.toml");
  EXPECT_TRUE(Contains(msg, "typo.toml:3"));
  EXPECT_TRUE(Contains(msg, "gian_db"));
  EXPECT_TRUE(Contains(msg, "unknown key"));
  EXPECT_TRUE(Contains(msg, "gain_db")) << "the allowed keys are listed";
}

TEST(ProfileErrors, UnknownStageTypeListsTheKnownTypes) {
  const std::string msg = profile_error("[[stage]]\ntype = \"flanger\"\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:2"));
  EXPECT_TRUE(Contains(msg, "flanger"));
  EXPECT_TRUE(Contains(msg, "\"gain\""));
  EXPECT_TRUE(Contains(msg, "\"dither\""));
  EXPECT_TRUE(Contains(msg, "\"reverb\""));
}

TEST(ProfileErrors, StageWithoutTypeIsRefused) {
  const std::string msg = profile_error("[[stage]]\ngain_db = -3\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:1"));
  EXPECT_TRUE(Contains(msg, "type"));
  EXPECT_TRUE(Contains(msg, "\"gain\""));
}

TEST(ProfileErrors, StageTypeThatIsNotAStringIsRefused) {
  const std::string msg = profile_error("[[stage]]\ntype = 3\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml"));
  EXPECT_TRUE(Contains(msg, "type"));
}

TEST(ProfileErrors, UnknownTopLevelKeyIsRefused) {
  const std::string msg = profile_error("name = \"x\"\nloudness = -14\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:2"));
  EXPECT_TRUE(Contains(msg, "loudness"));
  EXPECT_TRUE(Contains(msg, "unknown key"));
  EXPECT_TRUE(Contains(msg, "delivery"));
}

TEST(ProfileErrors, UnknownTopLevelTableIsRefused) {
  const std::string msg = profile_error("name = \"x\"\n[limiter]\nceiling = -1\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml"));
  EXPECT_TRUE(Contains(msg, "limiter"));
  EXPECT_TRUE(Contains(msg, "unknown key"));
}

TEST(ProfileErrors, UnknownKeyInDeliveryIsRefused) {
  const std::string msg = profile_error("[delivery]\nformat = \"wav\"\nchannels = 2\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:3"));
  EXPECT_TRUE(Contains(msg, "channels"));
  EXPECT_TRUE(Contains(msg, "format"));
}

TEST(ProfileErrors, TwentyBitDeliveryListsTheAllowedWordLengths) {
  const std::string msg = profile_error("[delivery]\nbits = 20\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:2"));
  EXPECT_TRUE(Contains(msg, "bits"));
  EXPECT_TRUE(Contains(msg, "20"));
  EXPECT_TRUE(Contains(msg, "16"));
  EXPECT_TRUE(Contains(msg, "24"));
  EXPECT_TRUE(Contains(msg, "\"32f\""));
}

TEST(ProfileErrors, BitsGivenAsStringNumberIsRefused) {
  const std::string msg = profile_error("[delivery]\nbits = \"24\"\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "bits"));
  EXPECT_TRUE(Contains(msg, "\"32f\""));
}

TEST(ProfileErrors, Mp3DeliveryListsTheAllowedFormats) {
  const std::string msg = profile_error("[delivery]\nformat = \"mp3\"\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:2"));
  EXPECT_TRUE(Contains(msg, "format"));
  EXPECT_TRUE(Contains(msg, "mp3"));
  EXPECT_TRUE(Contains(msg, "\"wav\""));
  EXPECT_TRUE(Contains(msg, "\"flac\""));
  EXPECT_TRUE(Contains(msg, "\"aiff\""));
}

TEST(ProfileErrors, SampleRateMustBeKeepOrARateLatheConverts) {
  const Profile p = parse_profile("[delivery]\nsample_rate_hz = 44100\n", "p.toml");
  ASSERT_TRUE(p.delivery.sample_rate_hz.has_value());
  EXPECT_EQ(*p.delivery.sample_rate_hz, 44100);
  EXPECT_TRUE(p.whole_track_delivery());
  EXPECT_TRUE(Contains(p.to_toml(), "sample_rate_hz = 44100"));
  for (const char* bad : {"7999", "400000", "\"fast\"", "44100.5"}) {
    const std::string msg = profile_error(std::string("[delivery]\nsample_rate_hz = ") + bad + "\n", "p.toml");
    EXPECT_TRUE(Contains(msg, "p.toml:2")) << msg;
    EXPECT_TRUE(Contains(msg, "sample_rate_hz")) << msg;
    EXPECT_TRUE(Contains(msg, "\"keep\"")) << msg;
  }
}

TEST(ProfileErrors, DitherBeforeTheLastStageIsRefused) {
  const std::string msg = profile_error(
      "[[stage]]\ntype = \"dither\"\n[[stage]]\ntype = \"gain\"\ngain_db = -1\n", "order.toml");
  EXPECT_TRUE(Contains(msg, "order.toml"));
  EXPECT_TRUE(Contains(msg, "dither"));
  EXPECT_TRUE(Contains(msg, "last"));
}

TEST(ProfileErrors, FlacWithFloatDeliveryIsRefused) {
  const std::string msg = profile_error("[delivery]\nformat = \"flac\"\nbits = \"32f\"\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:3"));
  EXPECT_TRUE(Contains(msg, "FLAC"));
  EXPECT_TRUE(Contains(msg, "32f"));
}

TEST(ProfileErrors, TomlSyntaxErrorNamesTheLine) {
  const std::string msg = profile_error("name = \"x\"\n\n[delivery\nformat = \"wav\"\n", "broken.toml");
  EXPECT_TRUE(Contains(msg, "broken.toml:3"));
  EXPECT_TRUE(Contains(msg, "syntax"));
}

TEST(ProfileErrors, TargetLoudnessOutOfRangeIsRefused) {
  const std::string msg = profile_error("[targets]\nintegrated_lufs = 5\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:2"));
  EXPECT_TRUE(Contains(msg, "integrated_lufs"));
  EXPECT_TRUE(Contains(msg, "5"));
  EXPECT_TRUE(Contains(msg, "between"));
  EXPECT_TRUE(Contains(msg, "LUFS"));

  const std::string ceiling = profile_error("[targets]\nceiling_dbtp = 1.5\n", "p.toml");
  EXPECT_TRUE(Contains(ceiling, "ceiling_dbtp"));
  EXPECT_TRUE(Contains(ceiling, "between"));

  const std::string tolerance = profile_error("[targets]\ntolerance_lu = 0\n", "p.toml");
  EXPECT_TRUE(Contains(tolerance, "tolerance_lu"));
}

TEST(ProfileErrors, StringWhereANumberBelongsIsRefused) {
  const std::string msg = profile_error("[[stage]]\ntype = \"gain\"\ngain_db = \"loud\"\n", "p.toml");
  EXPECT_TRUE(Contains(msg, "p.toml:3"));
  EXPECT_TRUE(Contains(msg, "gain_db"));
  EXPECT_TRUE(Contains(msg, "loud"));
  EXPECT_TRUE(Contains(msg, "number"));
}

TEST(ProfileErrors, WrongTypesForTextAndTablesAreRefused) {
  EXPECT_TRUE(Contains(profile_error("name = 5\n", "p.toml"), "name"));
  EXPECT_TRUE(Contains(profile_error("description = true\n", "p.toml"), "description"));
  EXPECT_TRUE(Contains(profile_error("delivery = \"wav\"\n", "p.toml"), "[delivery]"));
  EXPECT_TRUE(Contains(profile_error("targets = 3\n", "p.toml"), "[targets]"));
  EXPECT_TRUE(Contains(profile_error("stage = \"gain\"\n", "p.toml"), "[[stage]]"));
  EXPECT_TRUE(Contains(profile_error("[[stage]]\ntype = \"dither\"\nkind = 1\n", "p.toml"), "\"tpdf\""));
  EXPECT_TRUE(Contains(profile_error("[[stage]]\ntype = \"dither\"\nkind = \"shaped\"\n", "p.toml"), "\"none\""));
}

TEST(ProfileLoad, MissingProfileFileListsTheBuiltinNames) {
  const std::string msg = load_error("/nonexistent/dir/nope.toml");
  EXPECT_TRUE(Contains(msg, "/nonexistent/dir/nope.toml"));
  for (const auto& b : builtin_profiles()) EXPECT_TRUE(Contains(msg, b.name));
}

TEST(ProfileLoad, UnknownBuiltinNameListsTheBuiltinNames) {
  const std::string msg = load_error("defualt");
  EXPECT_TRUE(Contains(msg, "defualt"));
  for (const auto& b : builtin_profiles()) EXPECT_TRUE(Contains(msg, b.name));
}

TEST(ProfileLoad, FileIsLoadedAndErrorsNameItsPath) {
  test::TempDir dir;
  const auto good = dir / "trim.toml";
  std::ofstream(good) << "description = \"trim\"\n[[stage]]\ntype = \"gain\"\ngain_db = -6\n";
  const Profile p = load_profile(good.string());
  EXPECT_EQ(p.name, "trim");
  EXPECT_EQ(p.source, good.string());
  EXPECT_EQ(p.description, "trim");
  ASSERT_EQ(p.stages.size(), 2u);

  const auto bad = dir / "bad.toml";
  std::ofstream(bad) << "[delivery]\n\nbits = 12\n";
  const std::string msg = load_error(bad.string());
  EXPECT_TRUE(Contains(msg, bad.string() + ":3"));
  EXPECT_TRUE(Contains(msg, "bits"));
}

TEST(ProfileLoad, FolderIsNotAProfile) {
  test::TempDir dir;
  const std::string msg = load_error(dir.path().string());
  EXPECT_TRUE(Contains(msg, dir.path().string()));
  EXPECT_TRUE(Contains(msg, "streaming"));
}

}  // namespace
}  // namespace lathe::host
