/*
 * Positional writes for the log's segment files. See write-at.c.
 */
#ifndef SAMSA_WRITE_AT_H
#define SAMSA_WRITE_AT_H

#include <stddef.h>
#include <stdint.h>

/* Writes all `length` bytes at `position` of `fd`; 0, or the errno of the write that failed. */
int write_at(int fd, const uint8_t *bytes, size_t length, int64_t position);

/* The errno's name ("ENOSPC"), as Node names it in an error's `code`; "EUNKNOWN" for others. */
const char *errno_name(int error);

#endif
