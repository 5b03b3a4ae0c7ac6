#include "sink/wal_checkpointer.h"

#include <sqlite3.h>

#include <string>

#include "base/background_priority.h"

namespace stsync {

bool WalCheckpointer::SafeBesideWriter() {
  return sqlite3_libversion_number() >= 3051003;
}

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(
    const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::Io("cannot open " + path + " for checkpoints: " + msg);
  }
  // Its own commits never happen; closing it must not checkpoint or delete
  // the WAL under the writer.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // For the read below only: PASSIVE checkpoints never wait.
  sqlite3_busy_timeout(db, 5000);
  // A connection finds out that the file is in WAL mode (and only then can
  // checkpoint it) by reading it once.
  sqlite3_stmt* mode = nullptr;
  const unsigned char* text = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &mode, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(mode) == SQLITE_ROW) {
    text = sqlite3_column_text(mode, 0);
  }
  const std::string journal =
      text ? reinterpret_cast<const char*>(text) : sqlite3_errmsg(db);
  sqlite3_finalize(mode);
  if (journal != "wal") {
    sqlite3_close_v2(db);
    return Status::Io("cannot checkpoint " + path +
                      ": its journal mode is not WAL (" + journal + ")");
  }
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db));
}

WalCheckpointer::WalCheckpointer(sqlite3* db) : db_(db) {
  thread_ = std::thread([this] { Loop(); });
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sqlite3_close_v2(db_);
}

void WalCheckpointer::Request() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

void WalCheckpointer::CatchUp(sqlite3* writer) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    requested_ = false;
    cv_.wait(lock, [this] { return !running_; });
  }
  sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                            nullptr);
}

bool WalCheckpointer::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !running_ && !requested_;
}

int WalCheckpointer::background_runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return background_runs_;
}

void WalCheckpointer::Loop() {
  LowerThreadPriority();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    // PASSIVE: copies what no reader still needs, never waits for anyone.
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                       nullptr, &copied);
    lock.lock();
    running_ = false;
    if (rc == SQLITE_OK && copied > 0) ++background_runs_;
    cv_.notify_all();
  }
}

}  // namespace stsync
