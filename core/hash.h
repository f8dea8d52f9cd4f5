/* hash.h -- the hashes of the tree, in hex.
 *
 *   SHA-1    names Lua scripts for EVALSHA, as Redis does (not for security)
 *   SHA-256  stands for secrets that Redis keeps no copy of: agents' login
 *            tokens (ctx:agent-token:<sha256>) and chat resume keys
 *
 * Both are FIPS 180-4, written here (sha1.c, sha256.c) so that the daemon
 * needs no crypto library for them; tests/core/test_hash.c checks them
 * against the standard's vectors. */
#ifndef CTX_HASH_H
#define CTX_HASH_H

#include <stddef.h>

void ctx_sha1_hex(const void *data, size_t len, char out[41]);
void ctx_sha256_hex(const void *data, size_t len, char out[65]);

#endif
