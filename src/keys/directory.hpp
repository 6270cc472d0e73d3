#pragma once
// The gateway's view of the key store: holds the current Snapshot for many reader threads
// and reloads it when the database changes, whether through this Directory's own writes (the
// admin API) or another connection (the `sluice keys` CLI, another gateway process). A
// background thread polls PRAGMA data_version every `poll` and reloads on a change, so a
// change made elsewhere is visible within about one poll interval.
// Thread-safety: all methods may be called from any thread. current() is cheap (a shared_ptr
// copy under a mutex held for just that copy), meant for every request. Writes and reads of
// the store go through this class's methods, which serialise them on the Directory's one
// connection with a mutex; each write publishes a new snapshot before it returns.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keys/key_store.hpp"
#include "keys/snapshot.hpp"

namespace sluice::keys {

class Directory {
 public:
  // Opens the store (creating its tables) and loads it synchronously, then starts the poll
  // thread. Throws storage::StorageError if the database cannot be opened or read.
  explicit Directory(std::string db_path, std::chrono::milliseconds poll = std::chrono::seconds(1));
  // The same over any store (PostgreSQL for several replicas); `label` names it in messages.
  Directory(std::unique_ptr<Store> store, std::string label, std::chrono::milliseconds poll);
  // Stops and joins the poll thread promptly (it waits on a condition variable).
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  // The latest snapshot; never null. Hold it for the whole request.
  std::shared_ptr<const Snapshot> current() const;
  // Reloads now. Throws storage::StorageError (the previous snapshot stays current and the
  // poll thread retries).
  void refresh();

  // The admin API's writes, on this Directory's connection; the new snapshot is current when
  // they return. They throw like the KeyStore methods of the same name. If the write succeeds
  // but the reload fails, the write is not undone: the poll thread retries the reload and
  // reload_failures() counts it.
  NewKey create_key(const std::string& project, const Limits& limits, const std::string& name, std::int64_t now_ms);
  bool revoke_key(const std::string& id, std::int64_t now_ms);
  ProjectRecord set_project(const std::string& name, const Limits& limits, std::int64_t now_ms);
  // Reads straight from the store (including revoked keys, which snapshots omit).
  std::vector<KeyRecord> list_keys(bool include_revoked);
  std::optional<KeyRecord> find_key(const std::string& id);
  std::vector<ProjectRecord> list_projects();

  // Failed reloads and version checks (poll, refresh or after a write); for a metric.
  std::uint64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }
  const std::string& path() const { return path_; }

 private:
  // All but poll_once and poll_loop need store_mu_ held. A failed reload is counted and marks the
  // snapshot stale, so the next poll retries it.
  void reload_locked();      // throws the failure
  void try_reload_locked();  // swallows it
  void poll_once();          // takes store_mu_ itself
  void poll_loop();

  const std::string path_;
  const std::chrono::milliseconds poll_;

  std::mutex store_mu_;  // guards store_, seen_version_, stale_; held while publishing, so
                         // snapshots are published in load order
  std::unique_ptr<Store> store_;
  std::int64_t seen_version_ = 0;  // data_version at the last successful load
  bool stale_ = false;             // the last load failed: reload on the next poll regardless

  // Not std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal lock with a
  // relaxed store, a data race that ThreadSanitizer reports. The lock is held only to copy or
  // swap the pointer; an old snapshot is freed outside it.
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // guarded by snapshot_mu_; never null
  std::atomic<std::uint64_t> reload_failures_{0};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;  // guarded by stop_mu_
  std::thread poller_;  // last: started after everything above is ready
};

}  // namespace sluice::keys
