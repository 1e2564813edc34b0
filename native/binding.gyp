{
  "targets": [
    {
      "target_name": "samsa_native",
      "sources": ["binding.c", "crc32c.c", "write-at.c", "page-cache.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-std=gnu11"] }
    }
  ]
}
