/*
 * Write-behind and eviction of a log file's page-cache pages. See page-cache.c.
 */
#ifndef SAMSA_PAGE_CACHE_H
#define SAMSA_PAGE_CACHE_H

#include <stdint.h>

/* Starts writeback of [position, position + length) without waiting for it; 0 or an errno. */
int start_writeback(int fd, int64_t position, int64_t length);

/* Waits for [position, position + length) to be on disk, then drops its pages from the page
   cache; 0 or an errno (an EIO here is a failed write of those pages). */
int evict_written(int fd, int64_t position, int64_t length);

/* Starts reading [position, position + length) into the page cache without waiting; 0 or an errno. */
int read_ahead(int fd, int64_t position, int64_t length);

/* Allocates disk blocks for [position, position + length) without changing the file's size
   (fallocate FALLOC_FL_KEEP_SIZE); 0 or an errno (EOPNOTSUPP where the file system cannot). */
int preallocate(int fd, int64_t position, int64_t length);

#endif
