#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>

#include "../support/testdata.h"
#include "crypto/aes_ctr.h"
#include "crypto/blake2b.h"
#include "crypto/chacha20.h"
#include "crypto/ed25519.h"
#include "crypto/evp_cache.h"
#include "crypto/lioness.h"
#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "crypto/x25519.h"
#include "util/base58.h"
#include "util/hex.h"

static void setup(void)
{
	cr_assert_eq(nym_crypto_init(), 0);
}

TestSuite(crypto, .init = setup);

Test(crypto, lioness_known_answer)
{
	json_t *v = testdata_load("lioness.json");
	size_t klen, plen, clen;
	uint8_t *key = testdata_hex(testdata_str(v, "key_hex"), &klen);
	uint8_t *pt = testdata_hex(testdata_str(v, "plaintext_hex"), &plen);
	uint8_t *ct = testdata_hex(testdata_str(v, "ciphertext_hex"), &clen);
	cr_assert_eq(klen, NYM_LIONESS_KEY_LEN);
	cr_assert_eq(plen, clen);

	uint8_t *buf = malloc(plen);
	memcpy(buf, pt, plen);
	cr_assert_eq(nym_lioness_encrypt(key, buf, plen), 0);
	cr_assert_arr_eq(buf, ct, clen, "lioness encryption differs from the vector");
	cr_assert_eq(nym_lioness_decrypt(key, buf, plen), 0);
	cr_assert_arr_eq(buf, pt, plen, "lioness decryption does not invert");

	/* Too short for L and R. */
	cr_assert_eq(nym_lioness_encrypt(key, buf, 32), -EINVAL);
	free(buf);
	free(key);
	free(pt);
	free(ct);
	json_decref(v);
}

Test(crypto, lioness_is_wide_block)
{
	/* Changing one byte anywhere changes every part of the ciphertext. */
	uint8_t key[NYM_LIONESS_KEY_LEN], a[256], b[256];
	nym_random(key, sizeof(key));
	nym_random(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	b[200] ^= 1;
	nym_lioness_encrypt(key, a, sizeof(a));
	nym_lioness_encrypt(key, b, sizeof(b));
	cr_assert(memcmp(a, b, 32) != 0);
	cr_assert(memcmp(a + 32, b + 32, 32) != 0);
}

/* RFC 5869 test case 1 and 3 (SHA-256). */
Test(crypto, hkdf_rfc5869)
{
	uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	nym_hex_decode_exact(want, 42,
			     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			     "34007208d5b887185865");
	cr_assert_eq(nym_hkdf_sha256(okm, 42, salt, 13, ikm, 22, info, 10), 0);
	cr_assert_arr_eq(okm, want, 42);

	nym_hex_decode_exact(want, 42,
			     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
			     "9d201395faa4b61a96c8");
	cr_assert_eq(nym_hkdf_sha256(okm, 42, NULL, 0, ikm, 22, NULL, 0), 0);
	cr_assert_arr_eq(okm, want, 42);
	cr_assert_eq(nym_hkdf_sha256(okm, 255 * 32 + 1, NULL, 0, ikm, 22, NULL, 0), -EINVAL);
}

/* RFC 4231 test case 2, and the truncated form. */
Test(crypto, hmac_sha256_rfc4231)
{
	uint8_t mac[32], want[32], mac16[16];
	const char *msg = "what do ya want for nothing?";
	nym_hex_decode_exact(want, 32,
			     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	nym_hmac_sha256(mac, "Jefe", 4, msg, strlen(msg));
	cr_assert_arr_eq(mac, want, 32);
	nym_hmac_sha256_16(mac16, "Jefe", 4, msg, strlen(msg));
	cr_assert_arr_eq(mac16, want, 16);
	/* A key longer than the block is hashed first (RFC 4231 case 6). */
	uint8_t longkey[131];
	memset(longkey, 0xaa, sizeof(longkey));
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	nym_hex_decode_exact(want, 32,
			     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	nym_hmac_sha256(mac, longkey, sizeof(longkey), m6, strlen(m6));
	cr_assert_arr_eq(mac, want, 32);
}

/* RFC 7693 appendix A is unkeyed; this checks the keyed mode against libsodium's BLAKE2b,
 * an independent implementation. */
Test(crypto, blake2b_keyed_matches_libsodium)
{
	uint8_t key[64], msg[777], a[32], b[32];
	nym_random(key, sizeof(key));
	nym_random(msg, sizeof(msg));
	cr_assert_eq(nym_blake2b_keyed(a, 32, key, 64, msg, sizeof(msg)), 0);
	crypto_generichash(b, 32, msg, sizeof(msg), key, 64);
	cr_assert_arr_eq(a, b, 32);
	cr_assert_eq(nym_blake2b_keyed(a, 32, key, 0, msg, 1), -EINVAL);
}

/* NIST SP 800-38A F.5.1 (AES-128 CTR). */
Test(crypto, aes128ctr_sp800_38a)
{
	uint8_t key[16], iv[16], pt[32], want[32], out[32];
	nym_hex_decode_exact(key, 16, "2b7e151628aed2a6abf7158809cf4f3c");
	nym_hex_decode_exact(iv, 16, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	nym_hex_decode_exact(pt, 32,
			     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
	nym_hex_decode_exact(want, 32,
			     "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
	nym_aes_ctr_xor(key, iv, pt, out, 32);
	cr_assert_arr_eq(out, want, 32);
	/* Ctr64BE agrees with the 128-bit counter as long as the low half does not wrap. */
	nym_aes_ctr_xor_ctr64(key, iv, pt, out, 32);
	cr_assert_arr_eq(out, want, 32);
}

Test(crypto, aes128ctr64_wraps_without_carry)
{
	uint8_t key[16] = { 1 }, iv[16], out[48], block[16], expect_iv[16];
	memset(iv, 0xab, 8);
	memset(iv + 8, 0xff, 8); /* low counter = 2^64 - 1: the second block wraps to 0 */
	memset(out, 0, sizeof(out));
	nym_aes_ctr_xor_ctr64(key, iv, out, out, sizeof(out));

	/* Block 0 uses iv itself; block 1 must use high=0xab.., low=0 (no carry). */
	memset(block, 0, 16);
	nym_aes_ctr_xor(key, iv, block, block, 16);
	cr_assert_arr_eq(out, block, 16);
	memcpy(expect_iv, iv, 8);
	memset(expect_iv + 8, 0, 8);
	memset(block, 0, 16);
	nym_aes_ctr_xor(key, expect_iv, block, block, 16);
	cr_assert_arr_eq(out + 16, block, 16);
	expect_iv[15] = 1;
	memset(block, 0, 16);
	nym_aes_ctr_xor(key, expect_iv, block, block, 16);
	cr_assert_arr_eq(out + 32, block, 16);
}

/* RFC 7748 section 6.1. */
Test(crypto, x25519_rfc7748)
{
	uint8_t a_sk[32], b_pk[32], shared[32], want[32], pub[32], a_pk[32];
	nym_hex_decode_exact(a_sk, 32,
			     "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	nym_hex_decode_exact(a_pk, 32,
			     "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	nym_hex_decode_exact(b_pk, 32,
			     "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	nym_hex_decode_exact(want, 32,
			     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	nym_x25519_public(pub, a_sk);
	cr_assert_arr_eq(pub, a_pk, 32);
	cr_assert_eq(nym_x25519(shared, a_sk, b_pk), 0);
	cr_assert_arr_eq(shared, want, 32);
	uint8_t zero[32] = { 0 };
	cr_assert_eq(nym_x25519(shared, a_sk, zero), -EINVAL);
}

Test(crypto, ed25519_sign_verify)
{
	struct nym_ed25519_keypair kp, again;
	uint8_t sig[64];
	nym_ed25519_generate(&kp);
	nym_ed25519_sign(&kp, "hello", 5, sig);
	cr_assert(nym_ed25519_verify(kp.public_key, "hello", 5, sig));
	cr_assert_not(nym_ed25519_verify(kp.public_key, "hellp", 5, sig));
	sig[3] ^= 1;
	cr_assert_not(nym_ed25519_verify(kp.public_key, "hello", 5, sig));
	nym_ed25519_from_seed(&again, kp.seed);
	cr_assert_arr_eq(again.public_key, kp.public_key, 32);
	nym_ed25519_keypair_clear(&kp);
	uint8_t zero[sizeof(kp)] = { 0 };
	cr_assert_arr_eq(&kp, zero, sizeof(kp));
}

Test(crypto, ct_equal)
{
	cr_assert(nym_ct_equal("abcd", "abcd", 4));
	cr_assert_not(nym_ct_equal("abcd", "abce", 4));
}

Test(encoding, base58_bitcoin_alphabet)
{
	char out[64];
	uint8_t bin[64];
	size_t len;
	cr_assert_eq(nym_base58_encode(out, sizeof(out), (const uint8_t *)"Hello World!", 12), 17);
	cr_assert_str_eq(out, "2NEpo7TZRRrLZSi2U");
	/* leading zero bytes become '1' */
	const uint8_t z[] = { 0, 0, 0x28, 0x7f, 0xb4, 0xcd };
	nym_base58_encode(out, sizeof(out), z, sizeof(z));
	cr_assert_str_eq(out, "11233QC4");
	cr_assert_eq(nym_base58_decode(bin, sizeof(bin), &len, "11233QC4"), 0);
	cr_assert_eq(len, sizeof(z));
	cr_assert_arr_eq(bin, z, sizeof(z));
	cr_assert_eq(nym_base58_decode(bin, sizeof(bin), &len, "0OIl"), -EINVAL);
	cr_assert_eq(nym_base58_decode(bin, sizeof(bin), &len, ""), -EINVAL);
	cr_assert_eq(nym_base58_decode_exact(bin, 32, "11233QC4"), -EINVAL);
	cr_assert_eq(nym_base58_encode(out, 4, (const uint8_t *)"Hello World!", 12), -ENOSPC);
}

Test(encoding, base58_round_trip_keys)
{
	for (int i = 0; i < 200; i++) {
		uint8_t key[32], back[32];
		char text[NYM_BASE58_ENCODED_MAX(32)];
		nym_random(key, sizeof(key));
		if (i % 7 == 0)
			key[0] = 0;
		cr_assert_gt(nym_base58_encode(text, sizeof(text), key, 32), 0);
		cr_assert_eq(nym_base58_decode_exact(back, 32, text), 0);
		cr_assert_arr_eq(key, back, 32);
	}
}

Test(encoding, hex)
{
	uint8_t b[4];
	char s[9];
	size_t n;
	cr_assert_eq(nym_hex_decode_exact(b, 4, "DEADbeef"), 0);
	nym_hex_encode(s, b, 4);
	cr_assert_str_eq(s, "deadbeef");
	cr_assert_eq(nym_hex_decode_exact(b, 4, "deadbee"), -EINVAL);
	cr_assert_eq(nym_hex_decode_exact(b, 4, "deadbeeg"), -EINVAL);
	cr_assert_eq(nym_hex_decode(b, 2, &n, "deadbeef"), -EMSGSIZE);
}

Test(crypto, x25519_in_place_and_canonical)
{
	struct nym_x25519_keypair a, b;
	uint8_t ref[32], buf[32];
	nym_x25519_generate(&a);
	nym_x25519_generate(&b);
	cr_assert_eq(nym_x25519(ref, a.secret, b.public_key), 0);
	memcpy(buf, b.public_key, 32);
	cr_assert_eq(nym_x25519(buf, a.secret, buf), 0);
	cr_assert_arr_eq(buf, ref, 32, "blinding in place must match");

	cr_assert(nym_x25519_is_canonical(ref));
	uint8_t p[32];
	memset(p, 0xff, 32);
	p[31] = 0x7f;
	p[0] = 0xec; /* p - 1 */
	cr_assert(nym_x25519_is_canonical(p));
	p[0] = 0xed; /* p itself */
	cr_assert_not(nym_x25519_is_canonical(p));
	ref[31] |= 0x80;
	cr_assert_not(nym_x25519_is_canonical(ref));
}

/* The stream ciphers keep one OpenSSL context per thread. Stripped of its cipher
 * (EVP_CIPHER_CTX_reset), a context is one OpenSSL really refuses to key; a wrapper that
 * returned then would hand its caller the plaintext as if it were encrypted, so the process
 * must stop instead. Each test runs in a process of its own. */
Test(crypto, aes_ctr_fails_closed, .signal = SIGABRT)
{
	uint8_t key[NYM_AES128_KEY_LEN] = { 1 }, iv[NYM_AES_CTR_IV_LEN] = { 0 };
	uint8_t buf[64] = "attack at dawn", copy[64];
	memcpy(copy, buf, sizeof(buf));
	nym_aes_ctr_xor(key, iv, buf, buf, sizeof(buf));
	cr_assert(memcmp(buf, copy, sizeof(buf)) != 0, "the working context encrypts");
	cr_assert_eq(EVP_CIPHER_CTX_reset(nym_evp_cache_get()->aes128ctr), 1);
	nym_aes_ctr_xor(key, iv, buf, buf, sizeof(buf));
	cr_assert_fail("nym_aes_ctr_xor returned from a context that cannot encrypt");
}

Test(crypto, aes_ctr_xor_ctr64_fails_closed, .signal = SIGABRT)
{
	uint8_t key[NYM_AES128_KEY_LEN] = { 1 }, iv[NYM_AES_CTR_IV_LEN] = { 0 };
	uint8_t buf[64] = "attack at dawn";
	cr_assert_eq(EVP_CIPHER_CTX_reset(nym_evp_cache_get()->aes128ctr), 1);
	nym_aes_ctr_xor_ctr64(key, iv, buf, buf, sizeof(buf));
	cr_assert_fail("nym_aes_ctr_xor_ctr64 returned from a context that cannot encrypt");
}

Test(crypto, chacha20_fails_closed, .signal = SIGABRT)
{
	uint8_t key[NYM_CHACHA20_KEY_LEN] = { 1 };
	uint8_t buf[64] = "attack at dawn", copy[64];
	memcpy(copy, buf, sizeof(buf));
	nym_chacha20_zero_nonce_xor(key, buf, sizeof(buf));
	cr_assert(memcmp(buf, copy, sizeof(buf)) != 0, "the working context encrypts");
	cr_assert_eq(EVP_CIPHER_CTX_reset(nym_evp_cache_get()->chacha20), 1);
	nym_chacha20_zero_nonce_xor(key, buf, sizeof(buf));
	cr_assert_fail("nym_chacha20_zero_nonce_xor returned from a context that cannot encrypt");
}

/* Lioness, the Sphinx payload cipher, sits on the ChaCha20 wrapper and stops with it. */
Test(crypto, lioness_fails_closed, .signal = SIGABRT)
{
	uint8_t key[NYM_LIONESS_KEY_LEN] = { 1 }, block[128] = "attack at dawn";
	cr_assert_eq(EVP_CIPHER_CTX_reset(nym_evp_cache_get()->chacha20), 1);
	nym_lioness_encrypt(key, block, sizeof(block));
	cr_assert_fail("nym_lioness_encrypt returned from a context that cannot encrypt");
}

/* BLAKE2b can report its failure, so Lioness returns it, and wipes the block rather than
 * leave it in clear or half encrypted. The thread's MAC context swapped for an HMAC one with no
 * digest chosen is one OpenSSL really refuses to initialise. */
Test(crypto, lioness_wipes_the_block_when_blake2b_fails)
{
	struct nym_evp_cache *cache = nym_evp_cache_get();
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	cr_assert_not_null(hmac);
	EVP_MAC_CTX *broken = EVP_MAC_CTX_new(hmac);
	cr_assert_not_null(broken);
	EVP_MAC_CTX_free(cache->blake2b);
	cache->blake2b = broken;
	uint8_t key[NYM_LIONESS_KEY_LEN] = { 1 }, block[128] = "attack at dawn", zero[128] = { 0 };
	uint8_t digest[32];
	cr_assert_eq(nym_blake2b_keyed(digest, sizeof(digest), key, 64, block, sizeof(block)), -EIO);
	cr_assert_eq(nym_lioness_encrypt(key, block, sizeof(block)), -EIO);
	cr_assert(memcmp(block, zero, sizeof(block)) == 0, "encrypt left data behind");
	memcpy(block, "attack at dawn", 15);
	cr_assert_eq(nym_lioness_decrypt(key, block, sizeof(block)), -EIO);
	cr_assert(memcmp(block, zero, sizeof(block)) == 0, "decrypt left data behind");
	nym_evp_cache_release();
	EVP_MAC_free(hmac);
}
