/* ID token validation with real tokens from the provider: RS256, ES256, EdDSA; wrong
 * nonce; a tampered signature; a token for another client; the ACR callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

static soidc_client *discover(const char *client_id, const char *secret) {
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, client_id,
                                                   secret, NULL, NULL, &client, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    return client;
}

/* {"nonce": <nonce quoted>} */
static void nonce_options(char *buf, size_t size, const char *nonce) {
    char *quoted = test_quote(nonce);
    int n = snprintf(buf, size, "{\"nonce\": %s}", quoted);
    soidc_string_free(quoted);
    CHECK(n > 0 && (size_t)n < size);
}

/* Decodes `token` with the expected nonce; checks sub, aud and the document. */
static void expect_valid(const soidc_client *client, const char *token, const char *sub,
                         const char *client_id) {
    char options[256];
    nonce_options(options, sizeof options, test_env("SOIDC_TEST_NONCE"));
    char *claims = NULL;
    soidc_status st = soidc_decode_id_token(client, token, options, NULL, NULL, &claims);
    CHECK_STATUS(st, SOIDC_OK, claims);
    CHECK(json_is_valid(claims));
    char *got_sub = json_string_at(claims, "/sub");
    CHECK_STR_EQ(got_sub, sub);
    soidc_string_free(got_sub);
    char *aud = json_string_at(claims, "/aud");
    CHECK_STR_EQ(aud, client_id);
    soidc_string_free(aud);
    char *iss = json_string_at(claims, "/iss");
    CHECK_STR_EQ(iss, test_env("SOIDC_TEST_ISSUER"));
    soidc_string_free(iss);
    char *email = json_string_at(claims, "/email");
    char expected_email[64];
    snprintf(expected_email, sizeof expected_email, "%s@example.test", sub);
    CHECK_STR_EQ(email, expected_email);
    soidc_string_free(email);
    char *nonce = json_string_at(claims, "/nonce");
    CHECK_STR_EQ(nonce, test_env("SOIDC_TEST_NONCE"));
    soidc_string_free(nonce);
    CHECK(json_has(claims, "/exp") && json_has(claims, "/iat"));
    CHECK(json_has(claims, "/auth_time"));
    CHECK(json_has(claims, "/at_hash")); /* unknown-to-us claims are kept */
    soidc_string_free(claims);
}

/* Expects SOIDC_ERR_VALIDATION whose error document's message contains `word`. */
static void expect_invalid(const soidc_client *client, const char *token, const char *options,
                           const char *word) {
    char *err = NULL;
    soidc_status st = soidc_decode_id_token(client, token, options, NULL, NULL, &err);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, err);
    CHECK(json_is_valid(err));
    char *status = json_string_at(err, "/status");
    CHECK_STR_EQ(status, "validation");
    soidc_string_free(status);
    char *message = json_string_at(err, "/message");
    CHECK_STR_CONTAINS(message, word);
    /* The error document never repeats the token. */
    CHECK(err == NULL || *token == '\0' || strstr(err, token) == NULL);
    soidc_string_free(message);
    soidc_string_free(err);
}

static void test_algorithms(void) {
    const char *id = test_env("SOIDC_TEST_CLIENT_ID");
    soidc_client *basic = discover(id, test_env("SOIDC_TEST_CLIENT_SECRET"));
    expect_valid(basic, test_env("SOIDC_TEST_ID_TOKEN"), "alice", id);         /* RS256 */
    expect_valid(basic, test_env("SOIDC_TEST_ID_TOKEN_BOB"), "bob", id);       /* RS256 */

    const char *es_id = test_env("SOIDC_TEST_ES256_CLIENT_ID");
    soidc_client *es256 = discover(es_id, test_env("SOIDC_TEST_ES256_CLIENT_SECRET"));
    expect_valid(es256, test_env("SOIDC_TEST_ID_TOKEN_ES256"), "alice", es_id);

    const char *ed_id = test_env("SOIDC_TEST_EDDSA_CLIENT_ID");
    soidc_client *eddsa = discover(ed_id, test_env("SOIDC_TEST_EDDSA_CLIENT_SECRET"));
    expect_valid(eddsa, test_env("SOIDC_TEST_ID_TOKEN_EDDSA"), "alice", ed_id);

    /* A token issued to another client fails the audience check. */
    char options[256];
    nonce_options(options, sizeof options, test_env("SOIDC_TEST_NONCE"));
    expect_invalid(basic, test_env("SOIDC_TEST_ID_TOKEN_ES256"), options, "aud");

    /* Without options no nonce is expected, so the token (which carries one) is refused
     * with reason "nonce"; ignore_nonce skips the check. out_json may be NULL. */
    char *err = NULL;
    CHECK_STATUS(soidc_decode_id_token(basic, test_env("SOIDC_TEST_ID_TOKEN"), NULL, NULL, NULL, &err),
                 SOIDC_ERR_VALIDATION, err);
    char *reason = json_string_at(err, "/reason");
    CHECK_STR_EQ(reason, "nonce");
    soidc_string_free(reason);
    soidc_string_free(err);
    CHECK_STATUS(soidc_decode_id_token(basic, test_env("SOIDC_TEST_ID_TOKEN"), "{\"ignore_nonce\": true}", NULL,
                                       NULL, NULL),
                 SOIDC_OK, NULL);

    soidc_client_free(basic);
    soidc_client_free(es256);
    soidc_client_free(eddsa);
}

/* base64url without padding, enough to re-encode a JWT payload. */
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url_decode(const char *in, size_t len, unsigned char *out) {
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64url, in[i]);
        if (p == NULL || in[i] == '\0') return 0;
        acc = (acc << 6) | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return n;
}

static size_t b64url_encode(const unsigned char *in, size_t len, char *out) {
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[n++] = b64url[(acc >> bits) & 63];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0) out[n++] = b64url[(acc << (6 - bits)) & 63];
    out[n] = '\0';
    return n;
}

/* Returns a malloc'd copy of `token` whose payload has the first `from` replaced
 * by `to` (same length), keeping the original header and signature; NULL if absent. */
static char *forge_sub(const char *token, const char *from, const char *to) {
    const char *p1 = strchr(token, '.');
    const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
    if (p2 == NULL || strlen(from) != strlen(to)) return NULL;
    size_t plen = (size_t)(p2 - p1 - 1);
    unsigned char *json = malloc(plen + 1);
    char *forged = malloc(strlen(token) + 8);
    if (json == NULL || forged == NULL) abort();
    size_t jlen = b64url_decode(p1 + 1, plen, json);
    json[jlen] = '\0';
    char *hit = strstr((char *)json, from);
    if (jlen == 0 || hit == NULL) {
        free(json);
        free(forged);
        return NULL;
    }
    memcpy(hit, to, strlen(to));
    size_t hlen = (size_t)(p1 - token) + 1; /* header and its dot */
    memcpy(forged, token, hlen);
    size_t elen = b64url_encode(json, jlen, forged + hlen);
    strcpy(forged + hlen + elen, p2);
    free(json);
    return forged;
}

static void test_wrong_nonce_and_tampering(void) {
    soidc_client *client = discover(test_env("SOIDC_TEST_CLIENT_ID"), test_env("SOIDC_TEST_CLIENT_SECRET"));
    const char *token = test_env("SOIDC_TEST_ID_TOKEN");

    expect_invalid(client, token, "{\"nonce\": \"not-the-nonce\"}", "nonce");

    /* Flip one character in the middle of the signature (not the last one, whose low
     * bits may be base64 padding that a decoder ignores). */
    char *tampered = test_strdup(token);
    char *sig = strrchr(tampered, '.');
    CHECK(sig != NULL && strlen(sig) > 40);
    if (sig != NULL && strlen(sig) > 40) {
        char *c = sig + 20;
        *c = (*c == 'A') ? 'B' : 'A';
        char options[256];
        nonce_options(options, sizeof options, test_env("SOIDC_TEST_NONCE"));
        expect_invalid(client, tampered, options, "signature");

        /* A forged claim (sub "alice" -> "mallo") with the original signature. */
        char *forged = forge_sub(token, "alice", "mallo");
        CHECK(forged != NULL);
        if (forged != NULL) {
            expect_invalid(client, forged, options, "signature");
            free(forged);
        }
    }
    free(tampered);

    /* alg "none" with the real payload and an empty signature is refused. */
    {
        static const char none_header[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
        const char *dot = strchr(token, '.');
        const char *dot2 = strchr(dot + 1, '.');
        size_t plen = (size_t)(dot2 - dot); /* ".payload" */
        char *unsigned_token = malloc(64 + plen + 2);
        if (unsigned_token == NULL) abort();
        size_t n = b64url_encode((const unsigned char *)none_header, strlen(none_header), unsigned_token);
        memcpy(unsigned_token + n, dot, plen);
        strcpy(unsigned_token + n + plen, ".");
        expect_invalid(client, unsigned_token, NULL, "none");
        free(unsigned_token);
    }

    /* A JWE (five parts) and other non-JWS shapes are refused. */
    expect_invalid(client, "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", NULL, "");
    expect_invalid(client, "not-a-token", NULL, "");
    expect_invalid(client, "", NULL, "");
    expect_invalid(client, "..", NULL, "");
    soidc_client_free(client);
}

/* ACR callback: counts its calls and records what it received. */
struct acr_probe {
    int calls;
    int got_null;
    int verdict; /* what to return: 0 accept, else reject */
};

static int acr_callback(const char *acr, void *user_data) {
    struct acr_probe *probe = user_data;
    probe->calls++;
    if (acr == NULL) probe->got_null++;
    return probe->verdict;
}

static void test_acr_callback(void) {
    soidc_client *client = discover(test_env("SOIDC_TEST_CLIENT_ID"), test_env("SOIDC_TEST_CLIENT_SECRET"));
    const char *token = test_env("SOIDC_TEST_ID_TOKEN"); /* the provider sets no acr */
    char options[256];
    nonce_options(options, sizeof options, test_env("SOIDC_TEST_NONCE"));

    /* Rejecting: validation error, called once, with NULL (the token has no acr). */
    struct acr_probe reject = {0, 0, 1};
    char *err = NULL;
    soidc_status st = soidc_decode_id_token(client, token, options, acr_callback, &reject, &err);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, err);
    CHECK(reject.calls == 1);
    CHECK(reject.got_null == 1);
    char *message = json_string_at(err, "/message");
    CHECK_STR_CONTAINS(message, "acr");
    soidc_string_free(message);
    soidc_string_free(err);

    /* Accepting: success, again called exactly once with NULL. */
    struct acr_probe accept = {0, 0, 0};
    char *claims = NULL;
    st = soidc_decode_id_token(client, token, options, acr_callback, &accept, &claims);
    CHECK_STATUS(st, SOIDC_OK, claims);
    CHECK(accept.calls == 1);
    CHECK(accept.got_null == 1);
    char *sub = json_string_at(claims, "/sub");
    CHECK_STR_EQ(sub, "alice");
    soidc_string_free(sub);
    soidc_string_free(claims);

    /* The nonce is checked before the callback (the documented order), so a token
     * with the wrong nonce never reaches it. */
    struct acr_probe other = {0, 0, 0};
    st = soidc_decode_id_token(client, token, "{\"nonce\": \"wrong\"}", acr_callback, &other, NULL);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, NULL);
    CHECK(other.calls == 0);

    /* Nor does a token with a bad signature: forged claims never reach user code. */
    char *tampered = test_strdup(token);
    char *c = strrchr(tampered, '.') + 20;
    *c = (*c == 'A') ? 'B' : 'A';
    st = soidc_decode_id_token(client, tampered, options, acr_callback, &other, NULL);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, NULL);
    CHECK(other.calls == 0);
    free(tampered);

    soidc_client_free(client);
}

int main(void) {
    test_algorithms();
    test_wrong_nonce_and_tampering();
    test_acr_callback();
    TEST_MAIN_END();
}
