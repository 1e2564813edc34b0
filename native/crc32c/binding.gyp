{
  "targets": [
    {
      "target_name": "samsa_crc32c",
      "sources": ["binding.c", "crc32c.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-std=c11"] }
    }
  ]
}
