#include "weft/core/file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace weft {
namespace {

TEST(ReadFileBoundedTest, ReadsAFile) {
  const std::string path = testing::TempDir() + "/weft_file_test_" + std::to_string(getpid());
  std::ofstream(path) << "hello\n";
  Result<std::string> r = ReadFileBounded(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "hello\n");
  r = ReadFileBounded(path, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_NE(r.status().message().find("larger than 3 bytes"), std::string::npos) << r.status();
  std::remove(path.c_str());
}

TEST(ReadFileBoundedTest, ADeviceThatNeverEndsIsRefused) {
  Result<std::string> r = ReadFileBounded("/dev/zero", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'/dev/zero' is larger than 1 MiB"), std::string::npos) << r.status();
}

TEST(ReadFileBoundedTest, DirectoriesAndMissingFilesSaySo) {
  Result<std::string> r = ReadFileBounded(testing::TempDir());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is a directory"), std::string::npos) << r.status();
  r = ReadFileBounded("/nonexistent/weft");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace weft
