#pragma once
// A fresh SQLite path for one test, under the temp directory in a folder named after the
// process, removed with its -wal, -shm and -journal files (and the folder once empty) before
// and after. Named after the running test unless a name is given.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace sluice::storage::testing {

class TempDb {
 public:
  explicit TempDb(std::string name = {}) {
    if (name.empty()) {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      name = std::string(info->test_suite_name()) + "." + info->name() + ".db";
    }
    dir_ = std::filesystem::temp_directory_path() / ("sluice-db-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / name).string();
    remove_files();
  }
  ~TempDb() {
    remove_files();
    std::error_code ec;
    std::filesystem::remove(dir_, ec);  // only once empty
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

}  // namespace sluice::storage::testing
