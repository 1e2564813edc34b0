/*
 * pwrite(2) in a loop, for PartitionLog appends.
 *
 * Why not fs.writeSync: its argument checks and error plumbing cost ~0.4 µs a call, as much as
 * the rest of an append besides the CRC and the copy into the page cache. This is the same one
 * system call per batch, for the same bytes: nothing is batched or deferred. Short writes are
 * continued, EINTR retried; any other error is returned for the caller to undo and report.
 */
#include "write-at.h"

#include <errno.h>

#if defined(_WIN32)
int write_at(int fd, const uint8_t *bytes, size_t length, int64_t position) {
  (void)fd, (void)bytes, (void)length, (void)position;
  return ENOSYS; /* not built on Windows: binding.c does not export writeAt there */
}
#else
#include <unistd.h>

int write_at(int fd, const uint8_t *bytes, size_t length, int64_t position) {
  size_t done = 0;
  while (done < length) {
    ssize_t written = pwrite(fd, bytes + done, length - done, (off_t)(position + (int64_t)done));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (written == 0) return EIO; /* no progress: a regular file never does this */
    done += (size_t)written;
  }
  return 0;
}
#endif

const char *errno_name(int error) {
  switch (error) {
    case ENOSPC: return "ENOSPC";
    case EIO: return "EIO";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case EFBIG: return "EFBIG";
    case EINVAL: return "EINVAL";
    case EROFS: return "EROFS";
    case EAGAIN: return "EAGAIN";
#ifdef EDQUOT
    case EDQUOT: return "EDQUOT";
#endif
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}
