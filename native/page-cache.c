/*
 * Write-behind and eviction for the log's active segments (Linux only; binding.c exports them
 * there, and src/log/segment.ts does without elsewhere).
 *
 * Why: a broker appends at hundreds of MB/s and reads back mostly the last few MB (consumers at
 * the tail). Left to the kernel, every appended byte takes a fresh page and the page cache grows
 * until memory is full; on VMs whose free memory goes back to the host (free page reporting,
 * balloon), a fresh page costs a fault into the host, and appends then cost ~2 ms/MB of the
 * writer's CPU instead of ~0.25 ms/MB (docs/log.md, "Page cache"). Starting writeback early and
 * dropping pages once they are on disk keeps the log's cache footprint to a window per segment,
 * whose pages are reused while still hot.
 *
 * A new segment written fast gets its first blocks allocated ahead (fallocate, size unchanged):
 * see src/log/write-behind.ts, "Preallocation".
 *
 * A consumer reading below the window (catching up) gets the next range read ahead
 * (posix_fadvise WILLNEED) while its current one is sent, and what it read dropped again.
 *
 * None of these changes durability: data is durable only after fsync, as before. A write error
 * found while waiting is returned (the caller reports it at the next flush, since the kernel
 * reports each writeback error once per open file).
 */
#define _GNU_SOURCE /* sync_file_range, fallocate */
#include "page-cache.h"

#include <errno.h>

#if defined(__linux__)
#include <fcntl.h>

int start_writeback(int fd, int64_t position, int64_t length) {
  if (sync_file_range(fd, (off_t)position, (off_t)length, SYNC_FILE_RANGE_WRITE) != 0) return errno;
  return 0;
}

int evict_written(int fd, int64_t position, int64_t length) {
  unsigned int flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  if (sync_file_range(fd, (off_t)position, (off_t)length, flags) != 0) return errno;
  return posix_fadvise(fd, (off_t)position, (off_t)length, POSIX_FADV_DONTNEED);
}

int read_ahead(int fd, int64_t position, int64_t length) {
  return posix_fadvise(fd, (off_t)position, (off_t)length, POSIX_FADV_WILLNEED);
}

int preallocate(int fd, int64_t position, int64_t length) {
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)position, (off_t)length) != 0) return errno;
  return 0;
}
#else
int start_writeback(int fd, int64_t position, int64_t length) {
  (void)fd, (void)position, (void)length;
  return ENOSYS;
}

int evict_written(int fd, int64_t position, int64_t length) {
  (void)fd, (void)position, (void)length;
  return ENOSYS;
}

int read_ahead(int fd, int64_t position, int64_t length) {
  (void)fd, (void)position, (void)length;
  return ENOSYS;
}

int preallocate(int fd, int64_t position, int64_t length) {
  (void)fd, (void)position, (void)length;
  return ENOSYS;
}
#endif
