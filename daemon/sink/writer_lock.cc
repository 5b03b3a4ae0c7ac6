#include "sink/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stsync {

Result<std::unique_ptr<WriterLock>> WriterLock::Acquire(
    const std::string& database_path) {
  const std::string path = database_path + "-lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::Io("cannot open the lock file " + path + ": " +
                      std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder = std::string(buf, static_cast<size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
      holder.pop_back();
    }
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Status::Io("cannot lock " + path + ": " + std::strerror(err));
    }
    return Status::Busy(
        "database " + database_path + " is in use by another stsync process" +
        (holder.empty() ? std::string() : " (pid " + holder + ")") +
        " that writes it; stop that one first");
  }
  // For the message of the next one refused.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    // The pid is only informative; the lock is what counts.
  }
  return std::unique_ptr<WriterLock>(new WriterLock(fd));
}

bool WriterLock::IsHeld(const std::string& database_path) {
  const std::string path = database_path + "-lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // never written
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the shared lock, if it was taken
  return held;
}

WriterLock::~WriterLock() { ::close(fd_); }

}  // namespace stsync
