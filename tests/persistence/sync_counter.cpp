// An LD_PRELOAD shim that records every call that makes written data
// durable, so a test can see that an acknowledged write followed one.
//
// When SIGNOFF_SYNC_LOG names a file, the shim appends "sync-counter
// loaded" to it as the process starts, and each call one line (O_APPEND, one
// write(2) per line, so lines keep the order of the calls and interleave
// whole with the lines the process appends itself):
//
//   sync fsync|fdatasync|msync|sync_file_range PATH   after the call returned
//   sync pwrite PATH    after a write to a file opened O_DSYNC (LMDB writes
//                       its meta page so, which makes the write the sync)
//
// PATH is what the descriptor names (/proc/self/fd); msync has none and
// logs "-". Each call is passed on to the next definition (libc's).

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

/// The log's descriptor, opened before main; -1 when not logging.
int log_fd = -1;

__attribute__((constructor)) void open_log() {
  const char* path = std::getenv("SIGNOFF_SYNC_LOG");
  if (path == nullptr)
    return;
  log_fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  constexpr char loaded[] = "sync-counter loaded\n";
  if (log_fd >= 0)
    (void)::write(log_fd, loaded, sizeof loaded - 1);
}

/// The next definition of `name` after ours.
template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name)); // NOLINT: dlsym
}

void record(const char* call, int fd) {
  if (log_fd < 0)
    return;
  char path[512] = "-";
  if (fd >= 0) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const auto n = ::readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
  }
  char line[600];
  const int length
    = std::snprintf(line, sizeof line, "sync %s %s\n", call, path);
  if (length > 0)
    (void)::write(log_fd, line, static_cast<std::size_t>(length));
}

} // namespace

extern "C" {

int fsync(int fd) {
  static const auto real = next<int (*)(int)>("fsync");
  const int rc = real(fd);
  record("fsync", fd);
  return rc;
}

int fdatasync(int fd) {
  static const auto real = next<int (*)(int)>("fdatasync");
  const int rc = real(fd);
  record("fdatasync", fd);
  return rc;
}

int msync(void* addr, size_t length, int flags) {
  static const auto real = next<int (*)(void*, size_t, int)>("msync");
  const int rc = real(addr, length, flags);
  record("msync", -1);
  return rc;
}

int sync_file_range(int fd, off64_t offset, off64_t count, unsigned int flags) {
  static const auto real
    = next<int (*)(int, off64_t, off64_t, unsigned int)>("sync_file_range");
  const int rc = real(fd, offset, count, flags);
  record("sync_file_range", fd);
  return rc;
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  static const auto real
    = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  const ssize_t written = real(fd, buffer, count, offset);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_DSYNC) == O_DSYNC)
    record("pwrite", fd);
  return written;
}

} // extern "C"
