#include "keys/directory.hpp"

#include <exception>

namespace sluice::keys {

Directory::Directory(std::string db_path, std::chrono::milliseconds poll)
    : Directory(std::make_unique<KeyStore>(KeyStore::open(db_path)), db_path, poll) {}

Directory::Directory(std::unique_ptr<Store> store, std::string label, std::chrono::milliseconds poll)
    : path_(std::move(label)), poll_(poll), store_(std::move(store)) {
  {
    std::lock_guard lock(store_mu_);
    reload_locked();
  }
  poller_ = std::thread([this] { poll_loop(); });
}

Directory::~Directory() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  poller_.join();
}

void Directory::reload_locked() {
  try {
    // The version is read before the contents: a commit landing in between shows up as a
    // changed version at the next poll (one extra reload), never as a missed change.
    const std::int64_t version = store_->data_version();
    auto snap = load_snapshot(*store_);
    seen_version_ = version;
    stale_ = false;
    {
      std::lock_guard lock(snapshot_mu_);
      snapshot_.swap(snap);
    }
    // `snap` now holds the previous snapshot: freed here (or by its last reader), unlocked.
  } catch (...) {
    stale_ = true;
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

void Directory::try_reload_locked() {
  try {
    reload_locked();
  } catch (const std::exception&) {
    // Counted by reload_locked(); the next poll retries because stale_ is set.
  }
}

std::shared_ptr<const Snapshot> Directory::current() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void Directory::refresh() {
  std::lock_guard lock(store_mu_);
  reload_locked();
}

void Directory::poll_loop() {
  std::unique_lock stop_lock(stop_mu_);
  while (!stop_cv_.wait_for(stop_lock, poll_, [this] { return stop_; })) {
    stop_lock.unlock();
    poll_once();
    stop_lock.lock();
  }
}

void Directory::poll_once() {
  std::lock_guard lock(store_mu_);
  std::int64_t version = 0;
  try {
    version = store_->data_version();
  } catch (const std::exception&) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    return;  // keep serving the previous snapshot; the next poll tries again
  }
  if (stale_ || version != seen_version_) try_reload_locked();
}

NewKey Directory::create_key(const std::string& project, const Limits& limits, const std::string& name,
                             std::int64_t now_ms) {
  std::lock_guard lock(store_mu_);
  auto key = store_->create_key(project, limits, name, now_ms);
  try_reload_locked();
  return key;
}

bool Directory::revoke_key(const std::string& id, std::int64_t now_ms) {
  std::lock_guard lock(store_mu_);
  bool revoked = store_->revoke_key(id, now_ms);
  if (revoked) try_reload_locked();
  return revoked;
}

ProjectRecord Directory::set_project(const std::string& name, const Limits& limits, std::int64_t now_ms) {
  std::lock_guard lock(store_mu_);
  auto project = store_->set_project(name, limits, now_ms);
  try_reload_locked();
  return project;
}

std::vector<KeyRecord> Directory::list_keys(bool include_revoked) {
  std::lock_guard lock(store_mu_);
  return store_->list_keys(include_revoked);
}

std::optional<KeyRecord> Directory::find_key(const std::string& id) {
  std::lock_guard lock(store_mu_);
  return store_->find_key(id);
}

std::vector<ProjectRecord> Directory::list_projects() {
  std::lock_guard lock(store_mu_);
  return store_->list_projects();
}

}  // namespace sluice::keys
