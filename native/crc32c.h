/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches. See crc32c.c.
 */
#ifndef SAMSA_CRC32C_H
#define SAMSA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Which implementation crc32c_extend uses on this CPU (set by crc32c_init). */
typedef enum {
  CRC32C_SOFTWARE = 0,       /* table lookup, 8 bytes per step */
  CRC32C_SSE42_PCLMUL = 1,   /* 128-bit carry-less folding, crc32 instruction for the ends */
  CRC32C_AVX512_VPCLMUL = 2, /* 512-bit carry-less folding */
  CRC32C_AVX2_VPCLMUL = 3,   /* 256-bit carry-less folding (VPCLMULQDQ without AVX-512) */
} crc32c_kind;

/* Picks the fastest implementation the CPU and OS support and computes its constants. */
crc32c_kind crc32c_init(void);

/* The standard CRC-32C of `length` bytes continued from `crc` (0 for a fresh CRC). */
uint32_t crc32c_extend(uint32_t crc, const uint8_t *bytes, size_t length);

/* The same with the portable table code, whatever the CPU: the reference in self-tests. */
uint32_t crc32c_software(uint32_t crc, const uint8_t *bytes, size_t length);

#endif
