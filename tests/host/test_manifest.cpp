// Manifests (read_manifest, parse_csv), output confinement (normalise_output_name, confined_output) and shards
// (parse_shard, shard_of, in_shard). docs/manifest.md is the reference these tests hold the code to.
#include <algorithm>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "host/io/manifest.hpp"
#include "host/util/sha256.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// The message of the ManifestError that `f` throws, or a note that it threw none (or another type).
std::string manifest_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ManifestError& e) {
    return e.message();
  } catch (const std::exception& e) {
    return std::string("<not a ManifestError: ") + e.what() + ">";
  }
  return "<no error>";
}

std::string output_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const OutputError& e) {
    return e.message();
  } catch (const std::exception& e) {
    return std::string("<not an OutputError: ") + e.what() + ">";
  }
  return "<no error>";
}

::testing::AssertionResult has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in: " << text;
}

// Writes `text` as DIR/name and returns the error read_manifest() throws for it.
std::string csv_error(const TempDir& dir, const std::string& text, const std::string& name = "m.csv") {
  write_file(dir / name, text);
  return manifest_error([&] { read_manifest(dir / name); });
}

// Every file and folder under `root`, to show that a refused output created nothing.
std::set<std::string> tree(const fs::path& root) {
  std::set<std::string> s;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    s.insert(it->path().lexically_relative(root).string());
  return s;
}

// ---- CSV -------------------------------------------------------------------------------------------------------

TEST(ManifestCsv, ReadsEveryColumnAndResolvesRelativePathsAgainstTheManifestFolder) {
  TempDir dir;
  const fs::path m = dir / "sub" / "m.csv";
  write_file(m,
             "Input,OUTPUT, profile ,album,track,target_lufs,ceiling_dbtp,trim_db\n"
             "a.wav,out/a.wav,streaming,Debut,1,-14,-1,+3\n"
             "/abs/b.flac,,mine.toml,,,,,\n"
             "../c.aiff,./x//c.wav,profiles/p,Debut,0012,-9.5,-0.3,-1.5e1\n");
  const auto rows = read_manifest(m);
  ASSERT_EQ(rows.size(), 3u);

  EXPECT_EQ(rows[0].input, dir / "sub" / "a.wav");
  EXPECT_EQ(rows[0].input_as_written, "a.wav");
  EXPECT_EQ(rows[0].output, "out/a.wav");
  EXPECT_EQ(rows[0].profile, "streaming");  // a built-in name stays a name
  EXPECT_EQ(rows[0].album, "Debut");
  EXPECT_EQ(rows[0].track_number, 1);
  EXPECT_EQ(rows[0].target_lufs, -14.0);
  EXPECT_EQ(rows[0].ceiling_dbtp, -1.0);
  EXPECT_EQ(rows[0].trim_db, 3.0);
  EXPECT_EQ(rows[0].line, 2);
  EXPECT_EQ(rows[0].where, m.string() + ":2");

  EXPECT_EQ(rows[1].input, fs::path("/abs/b.flac"));  // absolute inputs are kept
  EXPECT_EQ(rows[1].output, "");
  EXPECT_EQ(rows[1].profile, (dir / "sub" / "mine.toml").string());  // a .toml is a file, beside the manifest
  EXPECT_EQ(rows[1].album, "");
  EXPECT_EQ(rows[1].track_number, 0);
  EXPECT_FALSE(rows[1].target_lufs.has_value());
  EXPECT_FALSE(rows[1].ceiling_dbtp.has_value());
  EXPECT_FALSE(rows[1].trim_db.has_value());

  EXPECT_EQ(rows[2].input, dir / "sub" / "../c.aiff");  // inputs may live anywhere: they are only read
  EXPECT_EQ(rows[2].output, "x/c.wav");                 // normalised
  EXPECT_EQ(rows[2].profile, (dir / "sub" / "profiles/p").string());
  EXPECT_EQ(rows[2].track_number, 12);
  EXPECT_EQ(rows[2].target_lufs, -9.5);
  EXPECT_EQ(rows[2].ceiling_dbtp, -0.3);
  EXPECT_EQ(rows[2].trim_db, -15.0);
}

TEST(ManifestCsv, OnlyTheInputColumnIsRequired) {
  TempDir dir;
  write_file(dir / "m.csv", "input\none.wav\ntwo.wav");  // no newline at the end
  const auto rows = read_manifest(dir / "m.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].input, dir / "two.wav");
  EXPECT_EQ(rows[1].output, "");
}

TEST(ManifestCsv, QuotedCellsHoldCommasQuotesAndLineBreaks) {
  const std::string text =
      "input,album\r\n"
      "\"a, b.wav\",\"The \"\"Best\"\" Of\"\r\n"
      "\"two\nlines\",\"three\r\nline\nalbum\"\n"
      "\"\",\n"
      "last.wav,\"\"\n";
  const auto recs = parse_csv(text, "t.csv");
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_EQ(recs[1].cells, (std::vector<std::string>{"a, b.wav", "The \"Best\" Of"}));
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_EQ(recs[2].cells, (std::vector<std::string>{"two\nlines", "three\r\nline\nalbum"}));
  EXPECT_EQ(recs[2].line, 3);
  EXPECT_EQ(recs[3].cells, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(recs[3].line, 7);  // lines 3 to 6 hold one record: the count goes on inside quoted cells
  EXPECT_EQ(recs[4].cells, (std::vector<std::string>{"last.wav", ""}));
  EXPECT_EQ(recs[4].line, 8);
}

TEST(ManifestCsv, ParserSkipsBomAndBlankLinesAndKeepsTrailingEmptyCells) {
  const auto recs = parse_csv("\xEF\xBB\xBFinput,output\r\n\r\n\nx.wav,\r\ny.wav,y.wav", "t.csv");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].cells, (std::vector<std::string>{"input", "output"}));
  EXPECT_EQ(recs[1].cells, (std::vector<std::string>{"x.wav", ""}));
  EXPECT_EQ(recs[1].line, 4);
  EXPECT_EQ(recs[2].line, 5);
  EXPECT_EQ(parse_csv("a\rb\r", "t.csv").size(), 2u);  // a lone CR ends a line too
  EXPECT_EQ(parse_csv("a,", "t.csv")[0].cells, (std::vector<std::string>{"a", ""}));
}

TEST(ManifestCsv, CrlfAndByteOrderMarkAreAccepted) {
  TempDir dir;
  write_file(dir / "m.csv", "\xEF\xBB\xBFinput,output,album\r\n\"my song.wav\",\"masters/my song.wav\",\"A, B\"\r\n");
  const auto rows = read_manifest(dir / "m.csv");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].input, dir / "my song.wav");
  EXPECT_EQ(rows[0].output, "masters/my song.wav");
  EXPECT_EQ(rows[0].album, "A, B");
}

TEST(ManifestCsv, Utf8NamesWithSpacesAndNonLatinCharactersWork) {
  TempDir dir;
  const std::string prok = "Сергей Прокофьев/01 Симфония №1.wav";
  const std::string jp = "日本/曲 1.flac";
  write_file(dir / prok, "x");
  write_file(dir / jp, "x");
  write_file(dir / "m.csv", "input,output,album\n" + prok + "," + prok + ",Классика\n\"" + jp + "\",\"日本/曲 1.wav\",\n");
  const auto rows = read_manifest(dir / "m.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(fs::exists(rows[0].input)) << rows[0].input;
  EXPECT_TRUE(fs::exists(rows[1].input)) << rows[1].input;
  EXPECT_EQ(rows[0].output, prok);
  EXPECT_EQ(rows[0].album, "Классика");
  EXPECT_EQ(rows[1].output, "日本/曲 1.wav");
  EXPECT_EQ(confined_output(dir / "out", rows[1].output), dir / "out" / "日本" / "曲 1.wav");
}

TEST(ManifestCsv, BlankLinesAndRowsOfEmptyCellsAreSkipped) {
  TempDir dir;
  write_file(dir / "m.csv", "input,output\n\na.wav,a.wav\n,\n\n,\nb.wav,\n");
  const auto rows = read_manifest(dir / "m.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].line, 7);
}

TEST(ManifestCsv, HeaderIsRequired) {
  TempDir dir;
  const std::string e = csv_error(dir, "song.wav,out.wav\nb.wav,b.wav\n");
  EXPECT_TRUE(has(e, "m.csv:1: no header"));
  EXPECT_TRUE(has(e, "input,output"));  // the hint shows what a header looks like
  EXPECT_TRUE(has(csv_error(dir, ""), "empty"));
  EXPECT_TRUE(has(csv_error(dir, "\xEF\xBB\xBF\r\n\n"), "empty"));
  EXPECT_TRUE(has(csv_error(dir, "output,album\nx.wav,A\n"), "no \"input\" column"));
}

TEST(ManifestCsv, UnknownColumnIsNamed) {
  TempDir dir;
  const std::string e = csv_error(dir, "input,ouptut\na.wav,b.wav\n");
  EXPECT_TRUE(has(e, "m.csv:1: unknown column \"ouptut\""));
  EXPECT_TRUE(has(e, "target_lufs"));  // the hint lists the columns
  EXPECT_TRUE(has(csv_error(dir, "input,target\na.wav,-14\n"), "unknown column \"target\""));
  EXPECT_TRUE(has(csv_error(dir, "input,,output\na.wav,,b.wav\n"), "column 2 of the header has no name"));
}

TEST(ManifestCsv, DuplicateColumnIsAnError) {
  TempDir dir;
  EXPECT_TRUE(has(csv_error(dir, "input,Output,output\na.wav,b.wav,c.wav\n"),
                  "m.csv:1: column \"output\" appears twice (columns 2 and 3)"));
}

TEST(ManifestCsv, HeaderWithoutTracksIsAnError) {
  TempDir dir;
  EXPECT_TRUE(has(csv_error(dir, "input,output\n"), "m.csv: no tracks"));
  EXPECT_TRUE(has(csv_error(dir, "input,output\r\n\r\n,\r\n"), "no tracks"));
}

TEST(ManifestCsv, BadNumbersNameFileLineColumnValueAndRange) {
  TempDir dir;
  const std::string e = csv_error(dir, "input,target_lufs\na.wav,-14\nb.wav,-14 LUFS\n");
  EXPECT_TRUE(has(e, "m.csv:3: column \"target_lufs\": \"-14 LUFS\" is not a number"));
  EXPECT_TRUE(has(e, "-70 .. 0 LUFS"));
  for (const std::string bad : {"abc", "1..5", "1,5", "0x10", "inf", "nan", "-", "1e", "--3", "+", "++3"}) {
    const std::string text = "input,trim_db\na.wav,\"" + bad + "\"\n";
    EXPECT_TRUE(has(csv_error(dir, text), "is not a number")) << bad;
  }
  for (const std::string bad : {"1.0", "+1", "-1", "1a", "one", "1 2"}) {
    EXPECT_TRUE(has(csv_error(dir, "input,track\na.wav," + bad + "\n"),
                    "m.csv:2: column \"track\": \"" + bad + "\" is not a whole number"))
        << bad;
  }
}

TEST(ManifestCsv, OutOfRangeNumbersAreRefusedAndTheLimitsAreInclusive) {
  TempDir dir;
  struct Case {
    std::string column, value, range;
  };
  const std::vector<Case> bad{{"target_lufs", "0.01", "-70 .. 0 LUFS"},    {"target_lufs", "-70.5", "-70 .. 0 LUFS"},
                              {"target_lufs", "1e300", "-70 .. 0 LUFS"},   {"ceiling_dbtp", "0.1", "-20 .. 0 dBTP"},
                              {"ceiling_dbtp", "-21", "-20 .. 0 dBTP"},    {"trim_db", "24.5", "-60 .. +24 dB"},
                              {"trim_db", "-61", "-60 .. +24 dB"},         {"track", "0", "1 .. 9999"},
                              {"track", "10000", "1 .. 9999"},             {"track", "99999999999", "1 .. 9999"}};
  for (const auto& c : bad) {
    const std::string e = csv_error(dir, "input," + c.column + "\na.wav," + c.value + "\n");
    EXPECT_TRUE(has(e, "m.csv:2: column \"" + c.column + "\": \"" + c.value + "\""));
    EXPECT_TRUE(has(e, c.range));
  }
  write_file(dir / "ok.csv",
             "input,target_lufs,ceiling_dbtp,trim_db,track\na.wav,-70,-20,-60,1\nb.wav,0,0,24,9999\nc.wav, -3 ,,,\n");
  const auto rows = read_manifest(dir / "ok.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].target_lufs, -70.0);
  EXPECT_EQ(rows[1].trim_db, 24.0);
  EXPECT_EQ(rows[1].track_number, 9999);
  EXPECT_EQ(rows[2].target_lufs, -3.0);  // blanks around a number are not part of it
}

TEST(ManifestCsv, MalformedCsvIsAnErrorWithItsLine) {
  TempDir dir;
  EXPECT_TRUE(has(csv_error(dir, "input,output\na.wav\n"), "m.csv:2: 1 cells, but the header has 2 columns"));
  EXPECT_TRUE(has(csv_error(dir, "input,output\na.wav,b,c\n"), "m.csv:2: 3 cells"));
  EXPECT_TRUE(has(csv_error(dir, "input\na.wav\n\"b.wav\n"), "m.csv:3: a quoted cell is not closed"));
  EXPECT_TRUE(has(csv_error(dir, "input\na\"b.wav\n"), "m.csv:2: a quote inside an unquoted cell"));
  EXPECT_TRUE(has(csv_error(dir, "input\n\"a\"b.wav\n"), "m.csv:2: text after the closing quote"));
  EXPECT_TRUE(has(csv_error(dir, "input\na.wav\nb\xC3(.wav\n"), "m.csv:3: not valid UTF-8"));
  EXPECT_TRUE(has(csv_error(dir, "input\n\xED\xA0\x80.wav\n"), "not valid UTF-8"));  // a UTF-16 surrogate
  EXPECT_TRUE(has(csv_error(dir, "input,output\n\"\",x.wav\n"), "m.csv:2: column \"input\": is empty"));
}

TEST(ManifestCsv, ControlCharactersInCellsAreRefused) {
  TempDir dir;
  EXPECT_TRUE(has(csv_error(dir, "input,output\na.wav,\"two\nlines.wav\"\nb.wav,b.wav\n"),
                  "m.csv:2: column \"output\": \"two\\x0alines.wav\" contains a control character"));
  EXPECT_TRUE(has(csv_error(dir, "input,album\na.wav,\"x\ty\"\n"), "column \"album\""));
  EXPECT_TRUE(has(csv_error(dir, std::string("input\na") + '\0' + "b.wav\n"), "control character"));
}

TEST(ManifestCsv, DuplicateOutputsNameBothLines) {
  TempDir dir;
  const std::string e = csv_error(dir, "input,output\na.wav,x/a.wav\nb.wav,b.wav\nc.wav,./x//a.wav\n");
  EXPECT_TRUE(has(e, "m.csv:4: output \"x/a.wav\" is also the output of "));
  EXPECT_TRUE(has(e, "m.csv:2"));
  // Case-sensitive, and rows without an output are named (and checked) by the caller.
  write_file(dir / "ok.csv", "input,output\na.wav,A.wav\nb.wav,a.wav\nc.wav,\nc.wav,\n");
  EXPECT_EQ(read_manifest(dir / "ok.csv").size(), 4u);
}

TEST(ManifestCsv, OutputsThatWouldLeaveOutdirAreRefusedWithTheirLine) {
  TempDir dir;
  for (const std::string bad : {"../x.wav", "a/../../x.wav", "/etc/passwd", "C:\\x.wav", "\\\\server\\x", "c:x.wav",
                                "..", "a/..", "./", "sub/"}) {
    const std::string e = csv_error(dir, "input,output\nok.wav,ok.wav\na.wav,\"" + bad + "\"\n");
    EXPECT_TRUE(has(e, "m.csv:3: column \"output\": output name")) << bad;
  }
}

TEST(ManifestFile, UnknownExtensionOrMissingFileIsAnError) {
  TempDir dir;
  write_file(dir / "m.txt", "input\na.wav\n");
  EXPECT_TRUE(has(manifest_error([&] { read_manifest(dir / "m.txt"); }), "unknown format \".txt\""));
  EXPECT_TRUE(has(manifest_error([&] { read_manifest(dir / "m"); }), "give a .csv or .json file"));
  EXPECT_TRUE(has(manifest_error([&] { read_manifest(dir / "missing.csv"); }), "cannot open manifest"));
  fs::create_directories(dir / "folder.json");
  EXPECT_TRUE(has(manifest_error([&] { read_manifest(dir / "folder.json"); }), "is a folder"));
  write_file(dir / "UPPER.CSV", "input\na.wav\n");
  EXPECT_EQ(read_manifest(dir / "UPPER.CSV").size(), 1u);
}

TEST(ManifestFile, ErrorsAreUsageErrorsWithAHint) {
  TempDir dir;
  write_file(dir / "m.csv", "input,bogus\na.wav,1\n");
  try {
    read_manifest(dir / "m.csv");
    FAIL() << "no error";
  } catch (const UsageError& e) {  // exit code 2: nothing is processed
    EXPECT_FALSE(e.hint().empty());
  }
}

// ---- JSON ------------------------------------------------------------------------------------------------------

TEST(ManifestJson, ArrayOfObjectsAndTracksObjectReadTheSame) {
  TempDir dir;
  const std::string tracks = R"([
    {"input": "Сергей Прокофьев/01 Симфония №1.wav", "output": "classics/01.wav", "profile": "cd",
     "album": "Симфонии", "track": 1, "target_lufs": -16.5, "ceiling_dbtp": -1, "trim_db": 2},
    {"Input": "/abs/日本/曲 1.flac", "output": null, "album": "", "target_lufs": null}
  ])";
  write_file(dir / "a.json", tracks);
  write_file(dir / "o.json", "{\"tracks\": " + tracks + "}");
  for (const char* name : {"a.json", "o.json"}) {
    const auto rows = read_manifest(dir / name);
    ASSERT_EQ(rows.size(), 2u) << name;
    EXPECT_EQ(rows[0].input, dir / "Сергей Прокофьев/01 Симфония №1.wav");
    EXPECT_EQ(rows[0].output, "classics/01.wav");
    EXPECT_EQ(rows[0].profile, "cd");
    EXPECT_EQ(rows[0].album, "Симфонии");
    EXPECT_EQ(rows[0].track_number, 1);
    EXPECT_EQ(rows[0].target_lufs, -16.5);
    EXPECT_EQ(rows[0].ceiling_dbtp, -1.0);
    EXPECT_EQ(rows[0].trim_db, 2.0);
    EXPECT_EQ(rows[0].line, 1);
    EXPECT_EQ(rows[0].where, (dir / name).string() + ": tracks[0]");
    EXPECT_EQ(rows[1].input, fs::path("/abs/日本/曲 1.flac"));
    EXPECT_EQ(rows[1].output, "");
    EXPECT_FALSE(rows[1].target_lufs.has_value());
    EXPECT_EQ(rows[1].line, 2);
  }
}

std::string json_error(const TempDir& dir, const std::string& text) {
  write_file(dir / "m.json", text);
  return manifest_error([&] { read_manifest(dir / "m.json"); });
}

TEST(ManifestJson, WrongTypesNameTheIndexAndKey) {
  TempDir dir;
  const std::string ok = R"({"input": "a.wav"}, )";
  EXPECT_TRUE(has(json_error(dir, "[" + ok + R"({"input": "b.wav", "target_lufs": "-14"}])"),
                  "m.json: tracks[1]: key \"target_lufs\": must be a number, not string \"-14\""));
  EXPECT_TRUE(has(json_error(dir, "[" + ok + R"({"input": 5}])"), "tracks[1]: key \"input\": must be a string"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "output": ["x"]}])"), "tracks[0]: key \"output\""));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "track": 1.5}])"), "key \"track\": must be a whole number"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "track": "1"}])"), "key \"track\": must be a whole number"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "trim_db": true}])"), "key \"trim_db\": must be a number"));
  EXPECT_TRUE(has(json_error(dir, "[" + ok + R"("b.wav"])"), "tracks[1]: a track must be an object"));
}

TEST(ManifestJson, RangesUnknownKeysAndMissingInputAreErrors) {
  TempDir dir;
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "ceiling_dbtp": 0.5}])"),
                  "tracks[0]: key \"ceiling_dbtp\": \"0.5\" is outside -20 .. 0 dBTP"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "track": 4294967297}])"), "is outside 1 .. 9999"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "track": -1}])"), "is outside 1 .. 9999"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "taget_lufs": -14}])"),
                  "tracks[0]: unknown key \"taget_lufs\""));
  EXPECT_TRUE(has(json_error(dir, R"([{"output": "a.wav"}])"), "tracks[0]: no \"input\" key"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": null}])"), "key \"input\": is empty"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": ""}])"), "key \"input\": is empty"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "Input": "b.wav"}])"), "name the same column"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "output": "../x.wav"}])"), "key \"output\": output name"));
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav", "output": "x.wav"}, {"input": "b.wav", "output": "x.wav"}])"),
                  "tracks[1]: output \"x.wav\" is also the output of " + (dir / "m.json").string() + ": tracks[0]"));
}

TEST(ManifestJson, RepeatedKeysAreNotSilentlyDropped) {
  TempDir dir;
  EXPECT_TRUE(has(json_error(dir, R"([{"input": "a.wav"}, {"input": "b.wav", "input": "c.wav"}])"),
                  "m.json: tracks[1]: key \"input\" appears twice"));
  EXPECT_TRUE(has(json_error(dir, R"({"tracks": [{"input": "a.wav", "album": "x", "album": "y"}]})"),
                  "m.json: tracks[0]: key \"album\" appears twice"));
  EXPECT_TRUE(has(json_error(dir, R"({"tracks": [], "tracks": [{"input": "a.wav"}]})"),
                  "key \"tracks\" appears twice"));
}

TEST(ManifestJson, ShapeAndSyntaxErrors) {
  TempDir dir;
  EXPECT_TRUE(has(json_error(dir, "[]"), "m.json: no tracks"));
  EXPECT_TRUE(has(json_error(dir, R"({"tracks": []})"), "no tracks"));
  EXPECT_TRUE(has(json_error(dir, R"({"track": []})"), "unknown top-level key \"track\""));
  EXPECT_TRUE(has(json_error(dir, R"({})"), "no \"tracks\" key"));
  EXPECT_TRUE(has(json_error(dir, R"({"tracks": {"input": "a.wav"}})"), "\"tracks\" must be an array"));
  EXPECT_TRUE(has(json_error(dir, R"("a.wav")"), "must be an array or an object"));
  EXPECT_TRUE(has(json_error(dir, "[\n  {\"input\": \"a.wav\"},\n  {\"input\": \"b.wav\",}\n]"),
                  "m.json:3: JSON syntax error"));
  EXPECT_TRUE(has(json_error(dir, ""), "JSON syntax error"));
  EXPECT_TRUE(has(json_error(dir, "[{\"input\": \"a\xC3(.wav\"}]"), "JSON syntax error"));  // not UTF-8
}

// ---- confinement -----------------------------------------------------------------------------------------------

TEST(ManifestConfinement, NormalisesDotsAndRepeatedSlashes) {
  EXPECT_EQ(normalise_output_name("a.wav"), "a.wav");
  EXPECT_EQ(normalise_output_name("./a//b/./c.wav"), "a/b/c.wav");
  EXPECT_EQ(normalise_output_name("Track 1: Intro.wav"), "Track 1: Intro.wav");  // a colon later on is a name
  EXPECT_EQ(normalise_output_name("...wav"), "...wav");                          // not a ".." component
  EXPECT_EQ(normalise_output_name("日本/曲 1.wav"), "日本/曲 1.wav");
}

TEST(ManifestConfinement, AttacksAreRefusedAndNothingIsCreated) {
  TempDir dir;
  const fs::path out = dir / "out";
  fs::create_directories(out / "sub");
  const auto before = tree(dir.path());
  const std::vector<std::string> attacks{"../x.wav",     "a/../../x.wav", "sub/../../x.wav", "..",
                                         "/etc/passwd",  "//etc/passwd",  "C:\\x.wav",        "C:/x.wav",
                                         "c:x.wav",      "\\\\server\\x", "\\x.wav",          "..\\x.wav",
                                         "",             ".",             "./",               "sub/",
                                         "a\nb.wav",     "a\rb.wav",      "a\x7f.wav",        std::string("a\0b", 3),
                                         std::string(256, 'n') + "/x.wav"};
  for (const auto& a : attacks) {
    const std::string e = output_error([&] { confined_output(out, a); });
    EXPECT_TRUE(has(e, "output name")) << "attack: " << a;
    EXPECT_TRUE(has(e, "(")) << "no hint for: " << a;
  }
  EXPECT_EQ(tree(dir.path()), before);
}

TEST(ManifestConfinement, SymlinkInsideOutdirPointingOutsideIsRefused) {
  TempDir dir;
  const fs::path out = dir / "out";
  const fs::path outside = dir / "outside";
  fs::create_directories(out / "real");
  fs::create_directories(outside);
  write_file(outside / "victim.wav", "keep");
  fs::create_directory_symlink(outside, out / "escape");
  fs::create_directory_symlink(dir.path(), out / "real" / "up");
  fs::create_symlink(outside / "victim.wav", out / "file-link.wav");
  fs::create_symlink(outside / "not-there.wav", out / "dangling.wav");
  fs::create_symlink(outside / "not-there", out / "dangling-dir");
  fs::create_symlink(out / "loop", out / "loop");
  const auto before = tree(dir.path());

  EXPECT_TRUE(has(output_error([&] { confined_output(out, "escape/x.wav"); }), "is a symbolic link to"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "escape/x.wav"); }), "outside the output folder"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "escape/new/deeper/x.wav"); }), "symbolic link"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "real/up/outside/x.wav"); }), "symbolic link"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "file-link.wav"); }), "outside the output folder"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "dangling.wav"); }), "cannot be followed"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "dangling-dir/x.wav"); }), "cannot be followed"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "loop/x.wav"); }), "cannot be followed"));
  EXPECT_EQ(tree(dir.path()), before);
  std::ifstream victim(outside / "victim.wav");
  std::string content;
  victim >> content;
  EXPECT_EQ(content, "keep");
}

TEST(ManifestConfinement, OutdirReachedThroughASymlinkAndLinksThatStayInsideAreFine) {
  TempDir dir;
  const fs::path real_out = dir / "real-out";
  fs::create_directories(real_out / "albums" / "one");
  fs::create_directory_symlink(dir / "real-out", dir / "out");  // OUTDIR itself may be a link: the user chose it
  fs::create_directory_symlink(real_out / "albums" / "one", real_out / "latest");
  fs::create_directory_symlink(real_out, real_out / "self");
  const fs::path out = dir / "out";
  EXPECT_EQ(confined_output(out, "albums/one/x.wav"), out / "albums/one/x.wav");
  EXPECT_EQ(confined_output(out, "latest/x.wav"), out / "latest/x.wav");
  EXPECT_EQ(confined_output(out, "self/x.wav"), out / "self/x.wav");
  EXPECT_EQ(confined_output(out, "new/folders/x.wav"), out / "new/folders/x.wav");
  EXPECT_FALSE(fs::exists(out / "new"));  // nothing is created
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "albums/one"); }), "is an existing folder"));
  EXPECT_TRUE(has(output_error([&] { confined_output(out, "self"); }), "is an existing folder"));
}

TEST(ManifestConfinement, OutdirThatDoesNotExistYetIsFine) {
  TempDir dir;
  EXPECT_EQ(confined_output(dir / "later" / "out", "a/b.wav"), dir / "later" / "out" / "a/b.wav");
  EXPECT_FALSE(fs::exists(dir / "later"));
}

// ---- shards ----------------------------------------------------------------------------------------------------

std::vector<ManifestRow> numbered_rows(int n) {
  std::vector<ManifestRow> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& r = rows[static_cast<std::size_t>(i)];
    r.input_as_written = "in/" + std::to_string(i) + ".wav";
    if (i % 3 != 0) r.output = "album " + std::to_string(i % 10) + "/" + std::to_string(i) + " track.flac";
  }
  return rows;
}

TEST(Shard, ParseAcceptsKOverN) {
  const Shard s = parse_shard("3/8");
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(parse_shard("1/1").count, 1);
  EXPECT_EQ(parse_shard("1000000/1000000").index, 1000000);
  EXPECT_EQ(parse_shard("02/08").index, 2);
}

TEST(Shard, ParseRefusesAnythingElse) {
  for (const std::string bad : {"", "3", "/", "3/", "/8", "0/8", "9/8", "-1/8", "1/-8", "1/0", "0/0", "1/1000001",
                                "1/99999999999", "a/b", "1.5/8", " 1/8", "1/8 ", "1/8/9", "+1/8", "1 / 8"}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const UsageError& e) {
      EXPECT_TRUE(has(e.message(), "--shard")) << bad;
      EXPECT_TRUE(has(e.message(), "K/N")) << bad;
    }
  }
}

TEST(Shard, KeyIsTheOutputElseTheInputAsWritten) {
  ManifestRow r;
  r.input = "/somewhere/on/this/machine/a.wav";
  r.input_as_written = "a.wav";
  EXPECT_EQ(shard_key(r), "a.wav");
  r.output = "masters/a.flac";
  EXPECT_EQ(shard_key(r), "masters/a.flac");
}

TEST(Shard, ShardOfIsTheDocumentedSha256Rule) {
  // Pinned values (computed with Python's hashlib, as docs/manifest.md shows): a change here splits running
  // sharded batches differently on old and new lathe versions.
  EXPECT_EQ(shard_of("a.wav", 7), 4);
  EXPECT_EQ(shard_of("a.wav", 1000000), 844709);
  EXPECT_EQ(shard_of("album/01 song.wav", 7), 4);
  EXPECT_EQ(shard_of("日本/曲 1.flac", 7), 2);
  EXPECT_EQ(shard_of("日本/曲 1.flac", 2), 2);
  EXPECT_EQ(shard_of("anything", 1), 1);
  const std::string key = "x/y z.wav";
  const std::string hex = sha256_hex(key.data(), key.size());
  const std::uint64_t v = std::stoull(hex.substr(0, 16), nullptr, 16);
  EXPECT_EQ(shard_of(key, 13), static_cast<int>(v % 13) + 1);
}

TEST(Shard, EveryRowIsInExactlyOneShard) {
  const auto rows = numbered_rows(300);
  for (int n = 1; n <= 7; ++n) {
    for (const auto& r : rows) {
      int hits = 0;
      for (int k = 1; k <= n; ++k) hits += in_shard(r, Shard{k, n}) ? 1 : 0;
      EXPECT_EQ(hits, 1) << shard_key(r) << " N=" << n;
    }
  }
}

TEST(Shard, MembershipDoesNotDependOnOrderOrOtherRows) {
  const auto rows = numbered_rows(300);
  auto shuffled = rows;
  std::mt19937 rng(42);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  shuffled.resize(120);  // and most of the other rows gone
  for (int n = 2; n <= 7; ++n) {
    for (int k = 1; k <= n; ++k) {
      std::set<std::string> a, b;
      for (const auto& r : rows) {
        if (in_shard(r, Shard{k, n})) a.insert(shard_key(r));
      }
      for (const auto& r : shuffled) {
        if (in_shard(r, Shard{k, n})) b.insert(shard_key(r));
      }
      EXPECT_TRUE(std::includes(a.begin(), a.end(), b.begin(), b.end())) << k << "/" << n;
      for (const auto& r : shuffled) {
        EXPECT_EQ(a.count(shard_key(r)) == 1, in_shard(r, Shard{k, n}));
      }
    }
  }
}

TEST(Shard, ShardsAreRoughlyBalanced) {
  const auto rows = numbered_rows(1000);
  for (int n = 2; n <= 7; ++n) {
    std::vector<int> sizes(static_cast<std::size_t>(n), 0);
    for (const auto& r : rows) ++sizes[static_cast<std::size_t>(shard_of(shard_key(r), n) - 1)];
    const double expected = 1000.0 / n;
    for (int k = 0; k < n; ++k) {
      EXPECT_NEAR(sizes[static_cast<std::size_t>(k)], expected, 0.3 * expected) << "shard " << k + 1 << "/" << n;
    }
  }
}

TEST(Shard, RowsReadFromAManifestShardByTheirNamesNotTheirPlace) {
  TempDir dir;
  write_file(dir / "a" / "m.csv", "input,output\nx.wav,\ny.wav,out/y.wav\n");
  write_file(dir / "b" / "m.csv", "input,output\ny.wav,out/y.wav\nx.wav,\n");
  const auto a = read_manifest(dir / "a" / "m.csv");
  const auto b = read_manifest(dir / "b" / "m.csv");  // elsewhere, reordered
  EXPECT_EQ(shard_key(a[0]), "x.wav");
  EXPECT_EQ(shard_key(b[1]), "x.wav");
  EXPECT_EQ(shard_key(a[1]), shard_key(b[0]));
}

}  // namespace
}  // namespace lathe::host
