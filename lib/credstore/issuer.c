#include "credstore/issuer.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secret.h"
#include "crypto/sha256.h"
#include "store/db.h"
#include "util/log.h"

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE issuer_keys ("
	"  type INTEGER NOT NULL,"
	"  expiry INTEGER NOT NULL,"
	"  issue_from INTEGER NOT NULL,"
	"  issue_until INTEGER NOT NULL,"
	"  bits INTEGER NOT NULL,"
	"  public_pem TEXT NOT NULL,"
	"  private_der BLOB," /* NULL once the signing window has closed */
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (type, expiry)) WITHOUT ROWID;"
	"CREATE TABLE vouchers ("
	"  code_hash BLOB PRIMARY KEY," /* SHA-256 of the code: a copy of the db yields none */
	"  created INTEGER NOT NULL,"
	"  redeemed INTEGER) WITHOUT ROWID;"
	"CREATE TABLE issuances ("
	"  code_hash BLOB PRIMARY KEY REFERENCES vouchers (code_hash),"
	"  type INTEGER NOT NULL,"
	"  expiry INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  blinded BLOB NOT NULL," /* count blinded messages of k bytes, as received */
	"  issued INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX issuances_expiry ON issuances (expiry);",
};

#define KEY_CACHE 32

struct cached_key {
	enum nym_ticket_type type;
	int64_t expiry;
	struct nym_blind_rsa_private_key *sk;
};

struct nym_issuer {
	sqlite3 *db;
	struct nym_issuer_config cfg;
	struct cached_key cache[KEY_CACHE];
};

static const char base58_alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

void nym_issuer_config_default(struct nym_issuer_config *cfg)
{
	cfg->key_bits = 3072;
	cfg->days_ahead = 1;
	cfg->grace_s = 3600;
}

int64_t nym_issuer_day_start(int64_t t)
{
	int64_t r = t % NYM_TICKET_DAY_S;
	return t - (r < 0 ? r + NYM_TICKET_DAY_S : r);
}

int64_t nym_issuer_expiry_for_day(int64_t day_start)
{
	return day_start + (int64_t)(NYM_TICKET_VALIDITY_DAYS + 1) * NYM_TICKET_DAY_S;
}

int nym_issuer_open(struct nym_issuer **out, const char *path, const struct nym_issuer_config *cfg)
{
	struct nym_issuer *iss = calloc(1, sizeof(*iss));
	*out = NULL;
	if (!iss)
		return -ENOMEM;
	if (cfg)
		iss->cfg = *cfg;
	else
		nym_issuer_config_default(&iss->cfg);
	if (iss->cfg.key_bits != 2048 && iss->cfg.key_bits != 3072 && iss->cfg.key_bits != 4096) {
		free(iss);
		return -EINVAL;
	}
	int rc =
		nym_db_open(&iss->db, path, migrations, sizeof(migrations) / sizeof(migrations[0]));
	if (rc) {
		free(iss);
		return rc;
	}
	*out = iss;
	return 0;
}

static void cache_drop(struct nym_issuer *iss, size_t i)
{
	nym_blind_rsa_private_key_free(iss->cache[i].sk);
	memset(&iss->cache[i], 0, sizeof(iss->cache[i]));
}

void nym_issuer_close(struct nym_issuer *iss)
{
	if (!iss)
		return;
	for (size_t i = 0; i < KEY_CACHE; i++)
		cache_drop(iss, i);
	nym_db_close(iss->db);
	free(iss);
}

/* --- Keys ------------------------------------------------------------------------------- */

static int key_exists(struct nym_issuer *iss, enum nym_ticket_type type, int64_t expiry,
		      bool *exists)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(iss->db, &st,
				"SELECT 1 FROM issuer_keys WHERE type = ? AND expiry = ?");
	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_int64(st, 2, expiry);
	rc = sqlite3_step(st);
	*exists = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
	sqlite3_finalize(st);
	return rc;
}

static int make_key(struct nym_issuer *iss, enum nym_ticket_type type, int64_t day)
{
	struct nym_blind_rsa_private_key *sk = NULL;
	sqlite3_stmt *st = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *pem = NULL;
	int64_t expiry = nym_issuer_expiry_for_day(day);
	bool exists;
	int rc = key_exists(iss, type, expiry, &exists);
	if (rc || exists)
		return rc;
	rc = nym_blind_rsa_private_key_generate(&sk, NYM_BRSA_PSS_RANDOMIZED, iss->cfg.key_bits);
	if (rc)
		goto out;
	rc = nym_blind_rsa_private_key_to_der(sk, &der, &der_len);
	if (rc)
		goto out;
	rc = nym_blind_rsa_public_key_to_pem(nym_blind_rsa_private_key_public(sk), &pem);
	if (rc)
		goto out;
	/* OR IGNORE: another process may have made the same key meanwhile; one of them wins and
	 * both then use the stored one. */
	rc = nym_db_prepare(iss->db, &st,
			    "INSERT OR IGNORE INTO issuer_keys (type, expiry, issue_from, "
			    "issue_until, bits, public_pem, private_der, created) "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (rc)
		goto out;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_int64(st, 2, expiry);
	sqlite3_bind_int64(st, 3, day);
	sqlite3_bind_int64(st, 4, day + NYM_TICKET_DAY_S);
	sqlite3_bind_int(st, 5, (int)iss->cfg.key_bits);
	sqlite3_bind_text(st, 6, pem, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, der, (int)der_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, day);
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
	if (rc == 0 && sqlite3_changes(iss->db) == 1)
		log_info("issuer: new %u-bit %s key, signing %lld..%lld, tickets expire %lld",
			 iss->cfg.key_bits, nym_ticket_type_name(type), (long long)day,
			 (long long)(day + NYM_TICKET_DAY_S), (long long)expiry);
out:
	sqlite3_finalize(st);
	nym_blind_rsa_der_free(der, der_len);
	free(pem);
	nym_blind_rsa_private_key_free(sk);
	return rc;
}

int nym_issuer_ensure_key(struct nym_issuer *iss, enum nym_ticket_type type, int64_t now)
{
	if (!nym_ticket_type_valid(type))
		return -EINVAL;
	return make_key(iss, type, nym_issuer_day_start(now));
}

/* Runs one statement of the rotation with ?1 = now and ?2 = the grace period; *changes
 * (optional): the rows it changed. */
static int run_until(struct nym_issuer *iss, const char *sql, int64_t now, int *changes)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(iss->db, &st, sql);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, iss->cfg.grace_s);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : nym_db_errno(sqlite3_errcode(iss->db));
	if (changes)
		*changes = sqlite3_changes(iss->db);
	sqlite3_finalize(st);
	return rc;
}

int nym_issuer_rotate(struct nym_issuer *iss, int64_t now)
{
	int64_t today = nym_issuer_day_start(now);
	int rc = 0;
	for (unsigned t = NYM_TICKET_TYPE_MIN; t <= NYM_TICKET_TYPE_MAX && !rc; t++)
		for (unsigned d = 0; d <= iss->cfg.days_ahead && !rc; d++)
			rc = make_key(iss, (enum nym_ticket_type)t,
				      today + (int64_t)d * NYM_TICKET_DAY_S);
	if (rc)
		return rc;

	rc = nym_db_begin(iss->db);
	if (rc)
		return rc;
	int destroyed = 0;
	if ((rc = run_until(iss, "UPDATE issuer_keys SET private_der = NULL "
				 "WHERE private_der IS NOT NULL AND issue_until + ?2 <= ?1",
			    now, &destroyed)) ||
	    (rc = run_until(iss, "DELETE FROM issuer_keys WHERE expiry <= ?1", now, NULL)) ||
	    /* Redeemed vouchers stay (a code must never work twice); their blinded values go
	     * with the key they were signed under. */
	    (rc = run_until(iss, "DELETE FROM issuances WHERE expiry <= ?1", now, NULL)))
		goto fail;
	rc = nym_db_commit(iss->db);
	if (rc)
		return rc;
	for (size_t i = 0; i < KEY_CACHE; i++)
		if (iss->cache[i].sk)
			cache_drop(iss, i); /* reloaded on demand if still valid */
	if (destroyed > 0) {
		log_info("issuer: destroyed %d private key(s) whose signing window closed",
			 destroyed);
		/* secure_delete wiped the pages in the database; the log may still hold them. */
		nym_db_checkpoint_truncate(iss->db);
	}
	return 0;
fail:
	nym_db_rollback(iss->db);
	return rc;
}

int nym_issuer_keys(struct nym_issuer *iss, int64_t now, struct nym_issuer_keyset *ks)
{
	sqlite3_stmt *st;
	nym_issuer_keyset_init(ks);
	int rc = nym_db_prepare(iss->db, &st,
				"SELECT type, expiry, issue_from, issue_until, public_pem "
				"FROM issuer_keys WHERE expiry > ? ORDER BY type, expiry");
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct nym_blind_rsa_public_key *pk;
		const char *pem = (const char *)sqlite3_column_text(st, 4);
		int prc = nym_blind_rsa_public_key_from_pem(&pk, NYM_BRSA_PSS_RANDOMIZED, pem,
						       (size_t)sqlite3_column_bytes(st, 4));
		if (prc == 0) {
			prc = nym_issuer_keyset_add(
				ks, (enum nym_ticket_type)sqlite3_column_int(st, 0),
				sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
				sqlite3_column_int64(st, 3), pk);
			nym_blind_rsa_public_key_free(pk);
		}
		if (prc) {
			log_error("issuer: stored key unusable: %s", strerror(-prc));
			rc = prc;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : nym_db_errno(rc);
	sqlite3_finalize(st);
	if (rc)
		nym_issuer_keyset_clear(ks);
	return rc;
}

/* The private key for (type, expiry) if it may sign at `now`; cached once loaded. */
static int signing_key(struct nym_issuer *iss, enum nym_ticket_type type, int64_t expiry,
		       int64_t now, const struct nym_blind_rsa_private_key **out)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(iss->db, &st,
				"SELECT issue_from, issue_until, private_der FROM issuer_keys "
				"WHERE type = ? AND expiry = ?");
	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, (int)type);
	sqlite3_bind_int64(st, 2, expiry);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? -ENOKEY : nym_db_errno(rc);
		goto out;
	}
	rc = -ENOKEY;
	if (now < sqlite3_column_int64(st, 0) ||
	    now >= sqlite3_column_int64(st, 1) + iss->cfg.grace_s ||
	    sqlite3_column_type(st, 2) != SQLITE_BLOB)
		goto out;
	size_t free_slot = KEY_CACHE;
	for (size_t i = 0; i < KEY_CACHE; i++) {
		if (iss->cache[i].sk && iss->cache[i].type == type &&
		    iss->cache[i].expiry == expiry) {
			*out = iss->cache[i].sk;
			rc = 0;
			goto out;
		}
		if (!iss->cache[i].sk && free_slot == KEY_CACHE)
			free_slot = i;
	}
	if (free_slot == KEY_CACHE) {
		cache_drop(iss, 0);
		free_slot = 0;
	}
	struct nym_blind_rsa_private_key *sk;
	rc = nym_blind_rsa_private_key_from_der(&sk, NYM_BRSA_PSS_RANDOMIZED, sqlite3_column_blob(st, 2),
					   (size_t)sqlite3_column_bytes(st, 2));
	if (rc) {
		log_error("issuer: stored private key for %s/%lld unusable: %s",
			  nym_ticket_type_name(type), (long long)expiry, strerror(-rc));
		rc = -EIO;
		goto out;
	}
	iss->cache[free_slot] = (struct cached_key){ type, expiry, sk };
	*out = sk;
out:
	sqlite3_finalize(st);
	return rc;
}

/* --- Vouchers --------------------------------------------------------------------------- */

static void voucher_hash(uint8_t out[NYM_SHA256_LEN], const char *code)
{
	nym_sha256(out, code, strlen(code));
}

int nym_issuer_voucher_create(struct nym_issuer *iss, size_t count, int64_t now,
			      char (*codes)[NYM_VOUCHER_MAX + 1])
{
	sqlite3_stmt *st = NULL;
	if (count == 0 || count > NYM_VOUCHERS_PER_CALL_MAX)
		return -EINVAL;
	int rc = nym_db_begin(iss->db);
	if (rc)
		return rc;
	rc = nym_db_prepare(
		iss->db, &st,
		"INSERT INTO vouchers (code_hash, created, redeemed) VALUES (?, ?, NULL)");
	if (rc)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		/* 22 uniform base58 characters: 128.9 bits. */
		for (size_t j = 0; j < NYM_VOUCHER_CODE_LEN; j++)
			codes[i][j] = base58_alphabet[randombytes_uniform(58)];
		codes[i][NYM_VOUCHER_CODE_LEN] = '\0';
		uint8_t h[NYM_SHA256_LEN];
		voucher_hash(h, codes[i]);
		sqlite3_reset(st);
		sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, now);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE) {
			rc = nym_db_errno(rc);
			goto fail;
		}
	}
	sqlite3_finalize(st);
	return nym_db_commit(iss->db);
fail:
	sqlite3_finalize(st);
	nym_db_rollback(iss->db);
	for (size_t i = 0; i < count; i++)
		nym_memzero(codes[i], NYM_VOUCHER_MAX + 1);
	return rc;
}

/* --- Issuance --------------------------------------------------------------------------- */

enum voucher_state { VOUCHER_UNKNOWN, VOUCHER_UNUSED, VOUCHER_REPLAY, VOUCHER_USED };

/* Looks the voucher up; a redeemed one is a replay when its record matches the request
 * exactly (same type, expiry and blinded values). */
static int voucher_lookup(struct nym_issuer *iss, const uint8_t hash[NYM_SHA256_LEN],
			  const struct nym_issue_request *req, enum voucher_state *state)
{
	sqlite3_stmt *st;
	int rc = nym_db_prepare(
		iss->db, &st,
		"SELECT v.redeemed IS NOT NULL, i.type, i.expiry, i.count, i.blinded "
		"FROM vouchers v LEFT JOIN issuances i ON i.code_hash = v.code_hash "
		"WHERE v.code_hash = ?");
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, hash, NYM_SHA256_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*state = VOUCHER_UNKNOWN;
	if (rc == SQLITE_ROW) {
		if (!sqlite3_column_int(st, 0)) {
			*state = VOUCHER_UNUSED;
		} else {
			*state = VOUCHER_USED;
			const uint8_t *blob = sqlite3_column_blob(st, 4);
			size_t blob_len = (size_t)sqlite3_column_bytes(st, 4);
			if (sqlite3_column_int(st, 1) == (int)req->type &&
			    sqlite3_column_int64(st, 2) == req->expiry &&
			    sqlite3_column_int64(st, 3) == (int64_t)req->count &&
			    blob_len == req->count * req->elem_len) {
				bool same = true;
				for (size_t i = 0; i < req->count && same; i++)
					same = memcmp(blob + i * req->elem_len, req->blinded[i],
						      req->elem_len) == 0;
				if (same)
					*state = VOUCHER_REPLAY;
			}
		}
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 0 : nym_db_errno(rc);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Marks the voucher redeemed and records the blinded values, in one transaction. -EACCES
 * if another request redeemed it since the lookup. */
static int redeem(struct nym_issuer *iss, const uint8_t hash[NYM_SHA256_LEN],
		  const struct nym_issue_request *req, int64_t now)
{
	sqlite3_stmt *st = NULL;
	uint8_t *blob = malloc(req->count * req->elem_len);
	if (!blob)
		return -ENOMEM;
	for (size_t i = 0; i < req->count; i++)
		memcpy(blob + i * req->elem_len, req->blinded[i], req->elem_len);
	int rc = nym_db_begin(iss->db);
	if (rc)
		goto out;
	rc = nym_db_prepare(
		iss->db, &st,
		"UPDATE vouchers SET redeemed = ? WHERE code_hash = ? AND redeemed IS NULL");
	if (rc)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_blob(st, 2, hash, NYM_SHA256_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		goto fail;
	}
	if (sqlite3_changes(iss->db) != 1) {
		rc = -EACCES;
		goto fail;
	}
	rc = nym_db_prepare(
		iss->db, &st,
		"INSERT INTO issuances (code_hash, type, expiry, count, blinded, issued) "
		"VALUES (?, ?, ?, ?, ?, ?)");
	if (rc)
		goto fail;
	sqlite3_bind_blob(st, 1, hash, NYM_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)req->type);
	sqlite3_bind_int64(st, 3, req->expiry);
	sqlite3_bind_int64(st, 4, (int64_t)req->count);
	sqlite3_bind_blob(st, 5, blob, (int)(req->count * req->elem_len), SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		rc = nym_db_errno(rc);
		goto fail;
	}
	rc = nym_db_commit(iss->db);
	goto out;
fail:
	nym_db_rollback(iss->db);
out:
	free(blob);
	return rc;
}

int nym_issuer_issue(struct nym_issuer *iss, const struct nym_issue_request *req, int64_t now,
		     struct nym_issue_response *resp, const char **why)
{
	const struct nym_blind_rsa_private_key *sk = NULL;
	const struct nym_blind_rsa_public_key *pk;
	uint8_t hash[NYM_SHA256_LEN];
	enum voucher_state vs;
	int rc = -EINVAL;
	static const char *ignored;
	if (!why)
		why = &ignored;
	*why = "malformed request";
	memset(resp, 0, sizeof(*resp));
	if (!nym_ticket_type_valid(req->type) || req->count == 0 ||
	    req->count > NYM_TICKETBOOK_SIZE || !nym_issue_voucher_valid(req->voucher))
		goto out;
	rc = signing_key(iss, req->type, req->expiry, now, &sk);
	if (rc) {
		*why = rc == -ENOKEY ? "no issuer key signs for this type and expiry now"
				     : "issuer key unavailable";
		goto out;
	}
	pk = nym_blind_rsa_private_key_public(sk);
	size_t k = nym_blind_rsa_public_key_len(pk);
	/* Every element is checked before anything is signed: one bad element rejects all. */
	rc = -EINVAL;
	if (req->elem_len != k) {
		*why = "blinded message length does not match the key";
		goto out;
	}
	for (size_t i = 0; i < req->count; i++) {
		if (memcmp(req->blinded[i], nym_blind_rsa_public_key_modulus(pk), k) >= 0) {
			*why = "blinded message out of range";
			goto out;
		}
	}
	voucher_hash(hash, req->voucher);
	rc = voucher_lookup(iss, hash, req, &vs);
	if (rc) {
		*why = "database error";
		goto out;
	}
	rc = -EACCES;
	if (vs == VOUCHER_UNKNOWN || vs == VOUCHER_USED) {
		*why = vs == VOUCHER_UNKNOWN ? "unknown voucher" : "voucher already used";
		goto out;
	}
	/* No transaction is open while signing (RSA is the slow part), so issuers on other threads
	 * go on meanwhile; redeem() settles which of two uses of one voucher wins. */
	for (size_t i = 0; i < req->count; i++) {
		rc = nym_blind_rsa_blind_sign(sk, req->blinded[i], k, resp->blind_sigs[i]);
		if (rc) {
			*why = "signing failure";
			goto out;
		}
	}
	if (vs == VOUCHER_UNUSED) {
		rc = redeem(iss, hash, req, now);
		/* Redeemed since the lookup by another thread: by this very request (a client that
		 * retried), it is answered as the repeat it is. */
		if (rc == -EACCES && voucher_lookup(iss, hash, req, &vs) == 0 && vs == VOUCHER_REPLAY)
			rc = 0;
		if (rc) {
			*why = rc == -EACCES ? "voucher already used" : "database error";
			goto out;
		}
	}
	resp->type = req->type;
	resp->expiry = req->expiry;
	resp->count = req->count;
	resp->elem_len = k;
	*why = vs == VOUCHER_REPLAY ? "repeated request answered again" : "issued";
	rc = 0;
out:
	if (rc)
		nym_memzero(resp, sizeof(*resp));
	nym_memzero(hash, sizeof(hash));
	return rc;
}

int nym_issuer_handle_ticketbooks(struct nym_issuer *iss, const char *body, size_t len, int64_t now,
				  int *status, char **resp, size_t *resp_len)
{
	struct nym_issue_request *req = malloc(sizeof(*req));
	struct nym_issue_response *out = malloc(sizeof(*out));
	const char *why = "out of memory";
	int rc = -ENOMEM;
	*resp = NULL;
	*status = 500;
	if (!req || !out)
		goto error;
	rc = nym_issue_request_decode(req, body, len);
	if (rc) {
		why = rc == -EMSGSIZE ? "request body too large" : "malformed request";
		goto error;
	}
	rc = nym_issuer_issue(iss, req, now, out, &why);
	if (rc)
		goto error;
	rc = nym_issue_response_encode(out, resp, resp_len);
	if (rc)
		goto error;
	*status = 200;
	goto done;
error:
	switch (rc) {
	case -EMSGSIZE:
		*status = 413;
		break;
	case -EINVAL:
		*status = 400;
		break;
	case -EACCES:
		*status = 403;
		break;
	case -ENOKEY:
		*status = 404;
		break;
	case -EBUSY:
		*status = 503;
		break;
	default:
		*status = 500;
		break;
	}
	log_ratelimited(NYM_LOG_INFO, "issuer: ticketbook request refused (%d): %s", *status, why);
	rc = nym_issue_error_encode(why, resp, resp_len);
done:
	if (req)
		nym_issue_request_clear(req);
	free(req);
	if (out)
		nym_memzero(out, sizeof(*out));
	free(out);
	return rc;
}

int nym_issuer_stats(struct nym_issuer *iss, struct nym_issuer_stats *s)
{
	sqlite3_stmt *st;
	memset(s, 0, sizeof(*s));
	int rc =
		nym_db_prepare(iss->db, &st,
			       "SELECT (SELECT count(*) FROM vouchers WHERE redeemed IS NULL),"
			       " (SELECT count(*) FROM vouchers WHERE redeemed IS NOT NULL),"
			       " (SELECT count(*) FROM issuer_keys),"
			       " (SELECT count(*) FROM issuer_keys WHERE private_der IS NOT NULL)");
	if (rc)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->vouchers_unused = (uint64_t)sqlite3_column_int64(st, 0);
		s->vouchers_redeemed = (uint64_t)sqlite3_column_int64(st, 1);
		s->keys = (uint64_t)sqlite3_column_int64(st, 2);
		s->private_keys = (uint64_t)sqlite3_column_int64(st, 3);
		rc = 0;
	} else {
		rc = nym_db_errno(rc);
	}
	sqlite3_finalize(st);
	return rc;
}
