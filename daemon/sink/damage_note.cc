#include "sink/damage_note.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace stsync {
namespace {

std::string NotePath(const std::string& database_path) {
  return database_path + "-damaged";
}

}  // namespace

void WriteDamageNote(const std::string& database_path,
                     const std::string& message) {
  const std::string path = NotePath(database_path);
  // No link is followed and no other file is truncated (see WriterLock).
  int fd = ::open(path.c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) return;
  const std::string text = message + "\n";
  if (::write(fd, text.data(), text.size()) < 0) {
    // Best effort: the writer's own error says the same.
  }
  ::close(fd);
}

std::optional<std::string> ReadDamageNote(const std::string& database_path) {
  int fd = ::open(NotePath(database_path).c_str(),
                  O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < 64 * 1024 && (n = ::read(fd, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

void RemoveDamageNote(const std::string& database_path) {
  ::unlink(NotePath(database_path).c_str());
}

}  // namespace stsync
