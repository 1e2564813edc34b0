/*
 * Node-API binding of the log's native helpers, loaded by src/log/native-addon.ts:
 *
 *   crc32c(bytes: Uint8Array, start: number, length: number): number
 *       the CRC-32C of bytes[start, start + length), as an unsigned 32-bit number (crc32c.c)
 *   crc32cImplementation: 'avx512-vpclmulqdq' | 'avx2-vpclmulqdq' | 'sse4.2-pclmulqdq' | 'software'
 *   writeAt(fd: number, bytes: Uint8Array, position: number): void
 *       pwrite of all of `bytes` (write-at.c); throws an Error with code ('ENOSPC', ...),
 *       errno (negative, as Node's) and syscall 'write'. Not on Windows.
 *   startWriteback(fd, position, length, done): void      (Linux only: page-cache.c)
 *       starts writeback of that range of the file without waiting for it
 *   evictWritten(fd, position, length, done): void        (Linux only: page-cache.c)
 *       waits until that range is on disk, then drops its pages from the page cache
 *   readAhead(fd, position, length, done): void           (Linux only: page-cache.c)
 *       starts reading that range into the page cache without waiting (posix_fadvise WILLNEED)
 *   preallocate(fd, position, length, done): void        (Linux only: page-cache.c)
 *       allocates disk blocks for that range without changing the file's size (fallocate KEEP_SIZE)
 *   All four run on the libuv thread pool and call done(null), or done(error) with an Error
 *   shaped like writeAt's (syscall 'sync_file_range', 'posix_fadvise' or 'fallocate'); bad arguments throw.
 *
 * Ranges instead of subarrays save the caller an allocation per batch. Node-API is ABI-stable,
 * so one build serves Node 20, 22 and 24, and the module is context-aware (every worker thread
 * can load it).
 */
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "page-cache.h"
#include "write-at.h"

static const char *kind_names[] = {"software", "sse4.2-pclmulqdq", "avx512-vpclmulqdq", "avx2-vpclmulqdq"};

/* A whole number in [0, limit]; NaN, negatives and fractions fail. */
static int get_index(napi_env env, napi_value value, double limit, double *out) {
  if (napi_get_value_double(env, value, out) != napi_ok) return 0;
  return *out >= 0 && *out <= limit && *out == (double)(int64_t)*out;
}

static int get_bytes(napi_env env, napi_value value, const uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  void *pointer;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bytes must be a Uint8Array");
    return 0;
  }
  *data = (const uint8_t *)pointer;
  return 1;
}

static napi_value crc32c_call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  const uint8_t *data;
  size_t length;
  double start;
  double count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "crc32c(bytes, start, length)");
    return NULL;
  }
  if (!get_bytes(env, argv[0], &data, &length)) return NULL;
  if (!get_index(env, argv[1], (double)length, &start) || !get_index(env, argv[2], (double)length - start, &count)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "crc32c: [start, start + length) is not inside bytes");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, crc32c_extend(0, data + (size_t)start, (size_t)count), &result);
  return result;
}

#if !defined(_WIN32)
/* An Error shaped like Node's fs errors: code, errno (negative), syscall. */
static napi_value errno_error(napi_env env, int error, const char *syscall_name) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s, %s", errno_name(error), strerror(error), syscall_name);
  napi_value code, text, exception, errno_value, syscall;
  napi_create_string_utf8(env, errno_name(error), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &exception);
  napi_create_int32(env, -error, &errno_value);
  napi_set_named_property(env, exception, "errno", errno_value);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &syscall);
  napi_set_named_property(env, exception, "syscall", syscall);
  return exception;
}

static void throw_errno(napi_env env, int error, const char *syscall_name) {
  napi_throw(env, errno_error(env, error, syscall_name));
}

/* fd, then whole numbers for the rest; throws and returns 0 when an argument is wrong. */
static int get_fd_and_numbers(napi_env env, napi_callback_info info, const char *usage, int32_t *fd, napi_value *rest, double *numbers, size_t count) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 + count) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", usage);
    return 0;
  }
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fd must be a number");
    return 0;
  }
  if (rest) *rest = argv[1];
  for (size_t i = 0; i < count; i++) {
    if (!get_index(env, argv[3 - count + i], 9007199254740991.0, &numbers[i])) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "positions and lengths must be whole numbers >= 0");
      return 0;
    }
  }
  return 1;
}

static napi_value write_at_call(napi_env env, napi_callback_info info) {
  int32_t fd;
  napi_value bytes;
  double position;
  const uint8_t *data;
  size_t length;
  if (!get_fd_and_numbers(env, info, "writeAt(fd, bytes, position)", &fd, &bytes, &position, 1)) return NULL;
  if (!get_bytes(env, bytes, &data, &length)) return NULL;
  int error = write_at(fd, data, length, (int64_t)position);
  if (error != 0) throw_errno(env, error, "write");
  return NULL;
}
#endif

#if defined(__linux__)
/*
 * The page-cache calls run on the libuv thread pool: sync_file_range and posix_fadvise take
 * 0.1-17 ms (block allocation, a full device queue, freeing pages), which the broker's event
 * loop must not wait for. `done(error | null)` runs back on the calling thread.
 */
typedef struct {
  napi_async_work work;
  napi_ref done;
  int (*op)(int, int64_t, int64_t);
  const char *syscall_name;
  int32_t fd;
  int64_t position;
  int64_t length;
  int error;
} range_job;

static void range_execute(napi_env env, void *data) {
  (void)env;
  range_job *job = data;
  job->error = job->op(job->fd, job->position, job->length);
}

static void range_complete(napi_env env, napi_status status, void *data) {
  range_job *job = data;
  napi_value done, receiver, argument;
  if (status == napi_ok && napi_get_reference_value(env, job->done, &done) == napi_ok && done != NULL) {
    napi_get_undefined(env, &receiver);
    if (job->error != 0) argument = errno_error(env, job->error, job->syscall_name);
    else napi_get_null(env, &argument);
    /* An exception thrown by `done` stays pending and surfaces as an uncaught exception. */
    napi_call_function(env, receiver, done, 1, &argument, NULL);
  }
  napi_delete_reference(env, job->done);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* fd, position, length, done -> op(fd, position, length) on the thread pool, then done(error | null). */
static napi_value range_call(napi_env env, napi_callback_info info, const char *usage, int (*op)(int, int64_t, int64_t), const char *syscall_name) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  double range[2];
  napi_valuetype done_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", usage);
    return NULL;
  }
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fd must be a number");
    return NULL;
  }
  if (!get_index(env, argv[1], 9007199254740991.0, &range[0]) || !get_index(env, argv[2], 9007199254740991.0, &range[1])) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "positions and lengths must be whole numbers >= 0");
    return NULL;
  }
  if (napi_typeof(env, argv[3], &done_type) != napi_ok || done_type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "done must be a function");
    return NULL;
  }
  range_job *job = calloc(1, sizeof *job);
  napi_value name;
  if (job == NULL) {
    throw_errno(env, ENOMEM, syscall_name);
    return NULL;
  }
  job->op = op;
  job->syscall_name = syscall_name;
  job->fd = fd;
  job->position = (int64_t)range[0];
  job->length = (int64_t)range[1];
  if (napi_create_reference(env, argv[3], 1, &job->done) != napi_ok ||
      napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, range_execute, range_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (job->done != NULL) napi_delete_reference(env, job->done);
    if (job->work != NULL) napi_delete_async_work(env, job->work);
    free(job);
    napi_throw_error(env, "ERR_NAPI", "could not queue the page-cache call");
  }
  return NULL;
}

static napi_value start_writeback_call(napi_env env, napi_callback_info info) {
  return range_call(env, info, "startWriteback(fd, position, length, done)", start_writeback, "sync_file_range");
}

static napi_value evict_written_call(napi_env env, napi_callback_info info) {
  return range_call(env, info, "evictWritten(fd, position, length, done)", evict_written, "sync_file_range");
}

static napi_value read_ahead_call(napi_env env, napi_callback_info info) {
  return range_call(env, info, "readAhead(fd, position, length, done)", read_ahead, "posix_fadvise");
}

static napi_value preallocate_call(napi_env env, napi_callback_info info) {
  return range_call(env, info, "preallocate(fd, position, length, done)", preallocate, "fallocate");
}
#endif

static int export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value function;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function) == napi_ok &&
         napi_set_named_property(env, exports, name, function) == napi_ok;
}

NAPI_MODULE_INIT() {
  crc32c_kind kind = crc32c_init();
  napi_value name;
  if (!export_function(env, exports, "crc32c", crc32c_call)) return NULL;
#if !defined(_WIN32)
  if (!export_function(env, exports, "writeAt", write_at_call)) return NULL;
#endif
#if defined(__linux__)
  if (!export_function(env, exports, "startWriteback", start_writeback_call)) return NULL;
  if (!export_function(env, exports, "evictWritten", evict_written_call)) return NULL;
  if (!export_function(env, exports, "readAhead", read_ahead_call)) return NULL;
  if (!export_function(env, exports, "preallocate", preallocate_call)) return NULL;
#endif
  if (napi_create_string_utf8(env, kind_names[kind], NAPI_AUTO_LENGTH, &name) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "crc32cImplementation", name) != napi_ok) return NULL;
  return exports;
}
