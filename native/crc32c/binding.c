/*
 * Node-API binding of crc32c.c, loaded by src/log/crc32c.ts:
 *
 *   crc32c(bytes: Uint8Array, start: number, length: number): number
 *       the CRC-32C of bytes[start, start + length), as an unsigned 32-bit number
 *   implementation: 'avx512-vpclmulqdq' | 'sse4.2-pclmulqdq' | 'software'
 *
 * Taking (bytes, start, length) instead of a subarray saves the caller a Buffer or Uint8Array
 * allocation per batch. Node-API is ABI-stable, so one build serves Node 20, 22 and 24, and the
 * module is context-aware (it can be loaded by every worker thread).
 */
#include <node_api.h>

#include "crc32c.h"

static const char *kind_names[] = {"software", "sse4.2-pclmulqdq", "avx512-vpclmulqdq"};

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return NULL;
}

static napi_value crc32c_call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_range(env, "crc32c(bytes, start, length)");
  napi_typedarray_type type;
  size_t elements;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &elements, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "crc32c: bytes must be a Uint8Array");
    return NULL;
  }
  double start;
  double length;
  if (napi_get_value_double(env, argv[1], &start) != napi_ok || napi_get_value_double(env, argv[2], &length) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "crc32c: start and length must be numbers");
    return NULL;
  }
  /* Integers inside the array only (the negated forms also reject NaN). */
  if (!(start >= 0) || !(length >= 0) || start != (double)(size_t)start || length != (double)(size_t)length || start + length > (double)elements) {
    return throw_range(env, "crc32c: [start, start + length) is not inside bytes");
  }
  uint32_t crc = crc32c_extend(0, (const uint8_t *)data + (size_t)start, (size_t)length);
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

NAPI_MODULE_INIT() {
  crc32c_kind kind = crc32c_init();
  napi_value function;
  napi_value name;
  if (napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, crc32c_call, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "crc32c", function) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, kind_names[kind], NAPI_AUTO_LENGTH, &name) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "implementation", name) != napi_ok) return NULL;
  return exports;
}
