/* hash.h -- the hashes of the tree, in hex.
 *
 *   SHA-1    names Lua scripts for EVALSHA, as Redis does (not for security)
 *   SHA-256  stands for secrets that Redis keeps no copy of: agents' login
 *            tokens (ctx:{r}:agent-token:<sha256>) and chat resume keys
 *
 * Both are FIPS 180-4, written here (sha1.c, sha256.c) so that the daemon
 * needs no crypto library for them; tests/core/test_hash.c checks them
 * against the standard's vectors. */
#ifndef CTX_HASH_H
#define CTX_HASH_H

#include <stddef.h>
#include <stdint.h>

void ctx_sha1_hex(const void *data, size_t len, char out[41]);
void ctx_sha256_hex(const void *data, size_t len, char out[65]);

/* The Merkle-Damgard frame both share (sha1.c): data in 64-byte blocks,
 * then the tail padded with 0x80 and the bit length, big-endian, into
 * block(h, p). No allocation. */
void ctx_md_run(const void *data, size_t len, uint32_t *h,
                void (*block)(uint32_t *h, const unsigned char *p));

#endif
