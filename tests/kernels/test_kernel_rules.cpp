// DESIGN.md section 2, enforced on the source: per-sample code in kernels/ calls no libm transcendental (their
// last bits differ between glibc and CUDA), and the build flags refuse fast math.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

TEST(KernelRules, KernelsCallNoLibmTranscendental) {
  const std::regex call(R"((^|[^A-Za-z0-9_.>])(std::)?(exp|expf|exp2|exp2f|expm1|log|logf|log2|log2f|log10|log10f|)"
                        R"(log1p|pow|powf|sin|sinf|cos|cosf|tan|tanf|tanh|tanhf|atan|atan2|sinh|cosh|erf|cbrt)\s*\()");
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(LATHE_SOURCE_DIR) + "/kernels")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      const std::string code = line.substr(0, line.find("//"));
      if (code.find("= delete") != std::string::npos) continue;  // hd.hpp's guard declarations
      EXPECT_FALSE(std::regex_search(code, call)) << entry.path() << ":" << number << ": " << line;
    }
  }
  EXPECT_GT(files, 3);
}

TEST(KernelRules, BuildRefusesFastMath) {
  std::ifstream in(std::string(LATHE_SOURCE_DIR) + "/cmake/LatheFloatingPoint.cmake");
  std::stringstream text;
  text << in.rdbuf();
  for (const char* flag : {"-ffp-contract=off", "--fmad=false", "-ftz=false", "--use_fast_math", "-ffast-math"})
    EXPECT_NE(text.str().find(flag), std::string::npos) << flag;
#if defined(__FAST_MATH__)
  FAIL() << "tests were built with -ffast-math";
#endif
}

}  // namespace
