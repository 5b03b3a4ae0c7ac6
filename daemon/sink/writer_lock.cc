#include "sink/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stsync {
namespace {

// The pid written by the holder, or "".
std::string ReadHolder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
    holder.pop_back();
  }
  return holder;
}

Status InUse(const std::string& database_path, const std::string& holder) {
  return Status::Busy(
      "database " + database_path + " is in use by another stsync process" +
      (holder.empty() ? std::string() : " (pid " + holder + ")") +
      " that writes it; stop that one first");
}

// `fd` locked exclusively, or the reason it is not (fd closed then).
Status LockOrClose(int fd, const std::string& path,
                   const std::string& database_path, int holder_fd) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
  const int err = errno;
  const std::string holder = holder_fd >= 0 ? ReadHolder(holder_fd) : "";
  ::close(fd);
  if (err != EWOULDBLOCK) {
    return Status::Io("cannot lock " + path + ": " + std::strerror(err));
  }
  return InUse(database_path, holder);
}

}  // namespace

Result<std::unique_ptr<WriterLock>> WriterLock::Acquire(
    const std::string& database_path) {
  const std::string path = database_path + "-lock";
  int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return Status::Io("the lock file " + path +
                        " is a symbolic link; refusing to use it (remove it)");
    }
    return Status::Io("cannot open the lock file " + path + ": " +
                      std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    ::close(fd);
    return Status::Io("the lock file " + path +
                      " is not a plain file with a single link; refusing to "
                      "use it (remove it)");
  }
  Status locked = LockOrClose(fd, path, database_path, fd);
  if (!locked.ok()) return locked;

  int db_fd = ::open(database_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (db_fd < 0) {
    const int err = errno;
    ::close(fd);
    return Status::Io("cannot open database " + database_path + ": " +
                      std::strerror(err));
  }
  // Held by a writer whose lock file was deleted: its pid is unknown.
  locked = LockOrClose(db_fd, database_path, database_path, -1);
  if (!locked.ok()) {
    ::close(fd);
    return locked;
  }
  // For the message of the next one refused. The file is ours: a plain file
  // with one link, opened without following a link.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    // The pid is only informative; the locks are what count.
  }
  return std::unique_ptr<WriterLock>(new WriterLock(fd, db_fd));
}

bool WriterLock::IsHeld(const std::string& database_path) {
  const std::string path = database_path + "-lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;  // never written
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the shared lock, if it was taken
  return held;
}

WriterLock::~WriterLock() {
  ::close(database_fd_);
  ::close(lock_fd_);
}

}  // namespace stsync
