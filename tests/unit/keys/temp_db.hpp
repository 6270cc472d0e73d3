#pragma once
// A fresh SQLite path per test, under the temp directory with the pid in its name, removed
// (with its -wal and -shm files, and the directory once empty) before and after the test.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace sluice::keys::testing {

class TempDb {
 public:
  TempDb() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("sluice-keys-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / (std::string(info->test_suite_name()) + "." + info->name() + ".db")).string();
    remove_files();
  }
  ~TempDb() {
    remove_files();
    std::error_code ec;
    std::filesystem::remove(dir_, ec);  // only if empty
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;

  const std::string& path() const { return path_; }

 private:
  void remove_files() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
  }
  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace sluice::keys::testing
