/* The verified-token cache (client option verified_cache_entries) through the C ABI:
 * a token decoded before (a cache hit) is still refused when it has expired, is for
 * another audience, lacks a scope, comes without its DPoP proof or with a wrong one, or
 * was signed by a key that has left the JWKS; bytes differing by one character are
 * checked in full; a token whose signature failed gets the same error document again
 * (from the negative entries). Then 8 threads decode a mix of valid and invalid tokens on one client
 * whose cache is smaller than the set of valid tokens (full and evicting all the time);
 * run.sh runs this test under ASan+UBSan and once more under ThreadSanitizer.
 *
 * Tokens: the provider's DPoP-bound access token (tests/c/dpop-token.mjs), and tokens of
 * a test-only issuer signed by tests/c/vcache-tokens.mjs with tests/keys keys; that
 * client is made from metadata and imported keys (cache_only: no network). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "soidc.h"
#include "test_util.h"

/* The decode's status, and its error document's reason (or "" on success). */
static soidc_status decode(const soidc_client *c, const char *token, const char *options, char *reason, size_t n) {
    char *doc = NULL;
    soidc_status st = soidc_decode_access_token(c, token, options, &doc);
    reason[0] = '\0';
    if (st != SOIDC_OK) {
        char *r = json_string_at(doc, "/reason");
        if (r != NULL) snprintf(reason, n, "%s", r);
        soidc_string_free(r);
    }
    soidc_string_free(doc);
    return st;
}

#define EXPECT(client, token, options, status, want_reason)                          \
    do {                                                                             \
        char r_[64];                                                                 \
        soidc_status s_ = decode((client), (token), (options), r_, sizeof r_);       \
        CHECK_STATUS(s_, (status), r_);                                              \
        CHECK_STR_EQ(r_, (want_reason));                                             \
    } while (0)

/* The token with one character at `pos` (from the end if negative) changed. */
static char *changed(const char *token, long pos) {
    char *t = test_strdup(token);
    size_t len = strlen(t);
    size_t i = pos < 0 ? len - (size_t)(-pos) : (size_t)pos;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    return t;
}

static soidc_client *local_client(const char *entries) {
    char meta[512], opts[128];
    const char *iss = test_env("VC_ISSUER");
    snprintf(meta, sizeof meta,
             "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth\",\"jwks_uri\":\"%s/jwks\","
             "\"response_types_supported\":[\"code\"],\"subject_types_supported\":[\"public\"],"
             "\"id_token_signing_alg_values_supported\":[\"RS256\"]}",
             iss, iss, iss);
    snprintf(opts, sizeof opts, "{\"verified_cache_entries\": %s, \"leeway_s\": 0}", entries);
    soidc_client *c = NULL;
    char *err = NULL;
    CHECK_STATUS(soidc_client_from_issuer_config(meta, NULL, "rp", NULL, NULL, opts, &c, &err), SOIDC_OK, err);
    soidc_string_free(err);
    err = NULL;
    if (c != NULL) {
        CHECK_STATUS(soidc_client_import_keys(c, test_env("VC_JWKS_AB"), NULL, &err), SOIDC_OK, err);
        soidc_string_free(err);
    }
    return c;
}

static void options_and_bounds(void) {
    const char *bad[] = {"1000001", "-1", "\"8\"", "1.5", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char meta[256], opts[96];
        snprintf(meta, sizeof meta,
                 "{\"issuer\":\"https://i.example\",\"authorization_endpoint\":\"https://i.example/a\","
                 "\"jwks_uri\":\"https://i.example/j\",\"response_types_supported\":[\"code\"],"
                 "\"subject_types_supported\":[\"public\"]}");
        snprintf(opts, sizeof opts, "{\"verified_cache_entries\": %s}", bad[i]);
        soidc_client *c = NULL;
        char *err = NULL;
        CHECK_STATUS(soidc_client_from_issuer_config(meta, NULL, "rp", NULL, NULL, opts, &c, &err),
                     SOIDC_ERR_INVALID_ARGUMENT, err);
        CHECK(c == NULL);
        if (strcmp(bad[i], "null") != 0) CHECK_STR_CONTAINS(err, "verified_cache_entries");
        soidc_string_free(err);
    }
}

static void hits_recheck_local(void) {
    soidc_client *c = local_client("64");
    if (c == NULL) return;
    char aud[160], other[160], scope[200];
    snprintf(aud, sizeof aud, "{\"audience\": \"%s\", \"cache_only\": true}", test_env("VC_AUDIENCE"));
    snprintf(other, sizeof other, "{\"audience\": \"https://other.vcache.test\", \"cache_only\": true}");
    snprintf(scope, sizeof scope, "{\"audience\": \"%s\", \"cache_only\": true, \"required_scopes\": [\"api:write\"]}",
             test_env("VC_AUDIENCE"));
    const char *a = test_env("VC_TOKEN_A"), *b = test_env("VC_TOKEN_B");

    /* Cached, then every check again on the hits. */
    EXPECT(c, a, aud, SOIDC_OK, "");
    EXPECT(c, a, aud, SOIDC_OK, "");
    EXPECT(c, a, other, SOIDC_ERR_VALIDATION, "audience");
    EXPECT(c, a, scope, SOIDC_ERR_VALIDATION, "scope");
    EXPECT(c, b, aud, SOIDC_OK, "");

    /* One character changed: in the signature, in the payload. */
    char *sig = changed(a, -10);
    EXPECT(c, sig, aud, SOIDC_ERR_VALIDATION, "signature");
    EXPECT(c, sig, aud, SOIDC_ERR_VALIDATION, "signature");
    /* Its failure is cached (negative entry): the error document of that answer is the
     * one the full check gave, byte for byte. */
    {
        char *d1 = NULL, *d2 = NULL;
        CHECK_STATUS(soidc_decode_access_token(c, sig, aud, &d1), SOIDC_ERR_VALIDATION, d1);
        CHECK_STATUS(soidc_decode_access_token(c, sig, aud, &d2), SOIDC_ERR_VALIDATION, d2);
        CHECK(d1 != NULL && d2 != NULL && strcmp(d1, d2) == 0);
        soidc_string_free(d1);
        soidc_string_free(d2);
    }
    free(sig);
    const char *dot = strchr(a, '.');
    char *payload = changed(a, (long)(dot - a) + 20);
    char r[64];
    CHECK_STATUS(decode(c, payload, aud, r, sizeof r), SOIDC_ERR_VALIDATION, r);
    free(payload);
    EXPECT(c, a, aud, SOIDC_OK, "");

    /* The key of token A leaves the set: A is refused where it would have been a hit;
     * B (the remaining key) is still accepted. */
    char *err = NULL;
    CHECK_STATUS(soidc_client_import_keys(c, test_env("VC_JWKS_B"), NULL, &err), SOIDC_OK, err);
    soidc_string_free(err);
    EXPECT(c, a, aud, SOIDC_ERR_VALIDATION, "unknown_kid");
    EXPECT(c, b, aud, SOIDC_OK, "");
    err = NULL;
    CHECK_STATUS(soidc_client_import_keys(c, test_env("VC_JWKS_AB"), NULL, &err), SOIDC_OK, err);
    soidc_string_free(err);
    EXPECT(c, a, aud, SOIDC_OK, "");

    /* A short-lived token: accepted (cached), then refused once expired (leeway 0). */
    const char *s = test_env("VC_TOKEN_SHORT");
    char *doc = NULL;
    soidc_status st = soidc_decode_access_token(c, s, aud, &doc);
    if (st == SOIDC_OK) {
        CHECK_STATUS(decode(c, s, aud, r, sizeof r), SOIDC_OK, r);
        int64_t exp = 0;
        CHECK_STATUS(soidc_json_get_int64(doc, "/exp", &exp), SOIDC_OK, doc);
        while ((int64_t)time(NULL) < exp) nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
    } else {
        /* more than 5 s since run.sh made it: the machine is too slow for this check */
        CHECK(!"the short-lived token was still valid at its first decode (made 5 s before)");
    }
    soidc_string_free(doc);
    EXPECT(c, s, aud, SOIDC_ERR_VALIDATION, "expired");
    EXPECT(c, test_env("VC_TOKEN_EXPIRED"), aud, SOIDC_ERR_VALIDATION, "expired");
    EXPECT(c, test_env("VC_TOKEN_EXPIRED"), aud, SOIDC_ERR_VALIDATION, "expired");
    soidc_client_free(c);
}

static void hits_recheck_dpop(void) {
    const char *token = getenv("SOIDC_TEST_DPOP_TOKEN");
    if (token == NULL) {
        CHECK(!"SOIDC_TEST_DPOP_TOKEN is set (tests/c/dpop-token.mjs)");
        return;
    }
    soidc_client *c = NULL;
    char *err = NULL;
    CHECK_STATUS(soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, "conf-basic",
                                              "conf-basic-secret-0123456789abcdef", NULL,
                                              "{\"verified_cache_entries\": 8}", &c, &err),
                 SOIDC_OK, err);
    soidc_string_free(err);
    if (c == NULL) return;
    const char *uri = test_env("SOIDC_TEST_DPOP_URI");
    char *proof = test_quote(test_env("SOIDC_TEST_DPOP_PROOF"));
    char *post = test_quote(test_env("SOIDC_TEST_DPOP_PROOF_POST"));
    char with_proof[4096], with_post[4096], without[512], other_aud[4096], write_scope[4096];
    snprintf(with_proof, sizeof with_proof,
             "{\"audience\":\"https://api.soidc.test\",\"dpop_proof\":%s,\"http_method\":\"GET\",\"http_uri\":\"%s\"}",
             proof, uri);
    snprintf(with_post, sizeof with_post,
             "{\"audience\":\"https://api.soidc.test\",\"dpop_proof\":%s,\"http_method\":\"GET\",\"http_uri\":\"%s\"}",
             post, uri);
    snprintf(without, sizeof without, "{\"audience\":\"https://api.soidc.test\"}");
    snprintf(other_aud, sizeof other_aud,
             "{\"audience\":\"https://other.soidc.test\",\"dpop_proof\":%s,\"http_method\":\"GET\",\"http_uri\":\"%s\"}",
             proof, uri);
    snprintf(write_scope, sizeof write_scope,
             "{\"audience\":\"https://api.soidc.test\",\"required_scopes\":[\"api:write\"],\"dpop_proof\":%s,"
             "\"http_method\":\"GET\",\"http_uri\":\"%s\"}",
             proof, uri);
    /* Accepted once with its proof (cached), then each refusal on a hit. */
    EXPECT(c, token, with_proof, SOIDC_OK, "");
    EXPECT(c, token, without, SOIDC_ERR_VALIDATION, "dpop_missing");
    EXPECT(c, token, with_post, SOIDC_ERR_VALIDATION, "dpop_htm");
    EXPECT(c, token, with_proof, SOIDC_ERR_VALIDATION, "dpop_replay");
    EXPECT(c, token, other_aud, SOIDC_ERR_VALIDATION, "audience");
    EXPECT(c, token, write_scope, SOIDC_ERR_VALIDATION, "scope");
    char *sig = changed(token, -10);
    EXPECT(c, sig, without, SOIDC_ERR_VALIDATION, "signature");
    free(sig);
    soidc_string_free(proof);
    soidc_string_free(post);
    soidc_client_free(c);
}

enum { THREADS = 8, ROUNDS = 150, MAX_TOKENS = 64 };

struct shared {
    const soidc_client *client;
    char *valid[MAX_TOKENS];
    char subs[MAX_TOKENS][16];
    int nvalid;
    const char *invalid_sig;
    const char *expired;
    const char *aud;
    const char *other;
};

struct worker {
    struct shared *s;
    unsigned seed;
    int wrong; /* answers that were not what the token deserves */
    int done;
};

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *s = w->s;
    for (int i = 0; i < ROUNDS; i++) {
        w->seed = w->seed * 1103515245u + 12345u;
        unsigned pick = (w->seed >> 16) % 100;
        char r[64];
        if (pick < 5) {
            if (decode(s->client, s->invalid_sig, s->aud, r, sizeof r) != SOIDC_ERR_VALIDATION || strcmp(r, "signature") != 0) w->wrong++;
        } else if (pick < 10) {
            if (decode(s->client, s->expired, s->aud, r, sizeof r) != SOIDC_ERR_VALIDATION || strcmp(r, "expired") != 0) w->wrong++;
        } else if (pick < 15) {
            int k = (int)(w->seed >> 8) % s->nvalid;
            if (decode(s->client, s->valid[k], s->other, r, sizeof r) != SOIDC_ERR_VALIDATION || strcmp(r, "audience") != 0) w->wrong++;
        } else {
            int k = (int)(w->seed >> 8) % s->nvalid;
            char *claims = NULL;
            soidc_status st = soidc_decode_access_token(s->client, s->valid[k], s->aud, &claims);
            char *sub = st == SOIDC_OK ? json_string_at(claims, "/sub") : NULL;
            if (sub == NULL || strcmp(sub, s->subs[k]) != 0) w->wrong++;
            soidc_string_free(sub);
            soidc_string_free(claims);
        }
        w->done++;
    }
    return NULL;
}

static void threads_full_and_evicting(void) {
    struct shared s;
    memset(&s, 0, sizeof s);
    soidc_client *c = local_client("16");
    if (c == NULL) return;
    s.client = c;
    char *list = test_strdup(test_env("VC_TOKENS"));
    for (char *save = NULL, *t = strtok_r(list, " ", &save); t != NULL && s.nvalid < MAX_TOKENS;
         t = strtok_r(NULL, " ", &save)) {
        s.valid[s.nvalid] = t;
        snprintf(s.subs[s.nvalid], sizeof s.subs[0], "u%d", s.nvalid);
        s.nvalid++;
    }
    CHECK(s.nvalid == 40);
    char *bad = changed(test_env("VC_TOKEN_B"), -10);
    s.invalid_sig = bad;
    s.expired = test_env("VC_TOKEN_EXPIRED");
    char aud[160], other[160];
    snprintf(aud, sizeof aud, "{\"audience\": \"%s\", \"cache_only\": true}", test_env("VC_AUDIENCE"));
    snprintf(other, sizeof other, "{\"audience\": \"https://other.vcache.test\", \"cache_only\": true}");
    s.aud = aud;
    s.other = other;
    pthread_t tid[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){&s, 7919u * (unsigned)(i + 1), 0, 0};
        CHECK(pthread_create(&tid[i], NULL, work, &w[i]) == 0);
    }
    int wrong = 0, done = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        wrong += w[i].wrong;
        done += w[i].done;
    }
    CHECK(done == THREADS * ROUNDS);
    CHECK(wrong == 0);
    if (wrong) fprintf(stderr, "%d wrong answers of %d\n", wrong, done);
    free(bad);
    free(list);
    soidc_client_free(c);
}

int main(void) {
    options_and_bounds();
    hits_recheck_local();
    hits_recheck_dpop();
    threads_full_and_evicting();
    TEST_MAIN_END();
}
