/* soidc_token_exchange (RFC 8693) from C, under ASan/UBSan: the header's token type
 * constants, and bad input of every kind refused with SOIDC_ERR_INVALID_ARGUMENT and a
 * JSON error document naming the problem (never the token), out-pointers overwritten.
 * A valid request goes to the token endpoint: here one where nothing listens, so it
 * ends as SOIDC_ERR_NETWORK. (The exchanges themselves run against Keycloak in
 * tests/keycloak.rs.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

static char dummy_storage;
#define DUMMY_STR ((char *)&dummy_storage)

static const char *const subject = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

/* Runs one exchange with out_json pre-set to garbage; checks the status, that the
 * document was written, is JSON, carries `fragment` in its message and not the token. */
static void expect(int line, const soidc_client *c, const char *token, const char *type,
                   const char *options, soidc_status want, const char *fragment) {
    char *doc = DUMMY_STR;
    soidc_status st = soidc_token_exchange(c, token, type, options, &doc);
    if (st != want || doc == DUMMY_STR) {
        test_failures++;
        fprintf(stderr, "line %d: got %s, expected %s; document %s\n", line, soidc_status_name(st),
                soidc_status_name(want), doc == DUMMY_STR ? "(not overwritten)" : (doc ? doc : "(null)"));
    }
    test_checks++;
    if (doc == DUMMY_STR) return;
    CHECK(doc != NULL);
    if (doc == NULL) return;
    /* The error document is JSON (read with soidc's own strict JSON helpers). */
    char *status = NULL, *message = NULL;
    CHECK_STATUS(soidc_json_get_string(doc, "/status", &status), SOIDC_OK, doc);
    CHECK_STATUS(soidc_json_get_string(doc, "/message", &message), SOIDC_OK, doc);
    CHECK_STR_EQ(status, soidc_status_name(want));
    if (fragment != NULL) CHECK_STR_CONTAINS(message, fragment);
    if (token != NULL && strlen(token) > 8) CHECK(strstr(doc, token) == NULL);
    soidc_string_free(status);
    soidc_string_free(message);
    soidc_string_free(doc);
}

#define EXPECT(c, tok, ty, opt, want, frag) expect(__LINE__, c, tok, ty, opt, want, frag)

int main(void) {
    /* The constants are the RFC 8693 §3 identifiers and usable as C string literals. */
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_ACCESS_TOKEN, "urn:ietf:params:oauth:token-type:access_token");
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_REFRESH_TOKEN, "urn:ietf:params:oauth:token-type:refresh_token");
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_ID_TOKEN, "urn:ietf:params:oauth:token-type:id_token");
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_SAML1, "urn:ietf:params:oauth:token-type:saml1");
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_SAML2, "urn:ietf:params:oauth:token-type:saml2");
    CHECK_STR_EQ(SOIDC_TOKEN_TYPE_JWT, "urn:ietf:params:oauth:token-type:jwt");
    static const char literal[] = "type=" SOIDC_TOKEN_TYPE_JWT;
    CHECK_STR_EQ(literal, "type=urn:ietf:params:oauth:token-type:jwt");

    /* A client whose token endpoint is a loopback port nobody listens on (port 9). */
    const char *metadata =
        "{\"issuer\":\"http://127.0.0.1:9\",\"authorization_endpoint\":\"http://127.0.0.1:9/auth\","
        "\"token_endpoint\":\"http://127.0.0.1:9/token\",\"jwks_uri\":\"http://127.0.0.1:9/jwks\","
        "\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}";
    soidc_client *c = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_config(metadata, NULL, "rp", "rp-secret-0123456789", NULL,
                                                      "{\"connect_timeout_ms\": 2000}", &c, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (c == NULL) TEST_MAIN_END();

    const char *at = SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
    const soidc_status BAD = SOIDC_ERR_INVALID_ARGUMENT;

    /* NULL arguments; out_json NULL is allowed (the status alone). */
    EXPECT(NULL, subject, at, NULL, BAD, "client is NULL");
    EXPECT(c, NULL, at, NULL, BAD, "subject_token is NULL");
    EXPECT(c, subject, NULL, NULL, BAD, "subject_token_type is NULL");
    CHECK_STATUS(soidc_token_exchange(c, NULL, at, NULL, NULL), BAD, NULL);

    /* Invalid UTF-8 anywhere. */
    EXPECT(c, "\xff\xfe token", at, NULL, BAD, "UTF-8");
    EXPECT(c, subject, "urn:\xc3", NULL, BAD, "UTF-8");
    EXPECT(c, subject, at, "{\"scope\": \"\xed\xa0\x80\"}", BAD, "UTF-8");

    /* Tokens and token types. */
    EXPECT(c, "", at, NULL, BAD, "subject_token is empty");
    EXPECT(c, subject, "access_token", NULL, BAD, "not a token type identifier");
    EXPECT(c, subject, "urn:ietf:params:oauth:token-type:acess_token", NULL, BAD, "RFC 8693");
    EXPECT(c, subject, "", NULL, BAD, "not a token type identifier");
    size_t huge_len = 300 * 1024;
    char *huge = malloc(huge_len + 1);
    if (huge == NULL) abort();
    memset(huge, 'a', huge_len);
    huge[huge_len] = '\0';
    EXPECT(c, huge, at, NULL, BAD, "byte limit");
    EXPECT(c, subject, huge, NULL, BAD, "bytes");

    /* Options. */
    EXPECT(c, subject, at, "{", BAD, "malformed JSON");
    EXPECT(c, subject, at, "[1]", BAD, "JSON object");
    EXPECT(c, subject, at, "{\"audiences\": \"x\"}", BAD, "audiences");
    EXPECT(c, subject, at, "{\"scope\": \"a\", \"scope\": \"b\"}", BAD, NULL);
    EXPECT(c, subject, at, "{\"scope\": null}", BAD, "null");
    EXPECT(c, subject, at, "{\"audience\": []}", BAD, "empty list");
    EXPECT(c, subject, at, "{\"audience\": 3}", BAD, "audience");
    EXPECT(c, subject, at, "{\"resource\": \"https://api.example/#f\"}", BAD, "fragment");
    EXPECT(c, subject, at, "{\"actor_token\": \"t\"}", BAD, "actor_token_type");
    EXPECT(c, subject, at, "{\"actor_token_type\": \"" SOIDC_TOKEN_TYPE_JWT "\"}", BAD, "without actor_token");
    EXPECT(c, subject, at, "{\"requested_token_type\": \"jwt\"}", BAD, "requested_token_type");
    EXPECT(c, subject, at, "{\"timeout_ms\": 0}", BAD, "timeout_ms");
    /* A huge options document (a 300 KiB scope string) is parsed and refused as too long. */
    size_t opt_len = huge_len + 32;
    char *big_options = malloc(opt_len);
    if (big_options == NULL) abort();
    snprintf(big_options, opt_len, "{\"scope\": \"%s\"}", huge);
    EXPECT(c, subject, at, big_options, BAD, "scope");
    /* Deep nesting. */
    char deep[4096 + 32];
    strcpy(deep, "{\"audience\": ");
    size_t n = strlen(deep);
    for (int i = 0; i < 2000; i++) deep[n++] = '[';
    for (int i = 0; i < 2000; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    EXPECT(c, subject, at, deep, BAD, NULL);

    /* Everything valid: the request is made, and fails on the network. */
    EXPECT(c, subject, at,
           "{\"actor_token\": \"actor\", \"actor_token_type\": \"" SOIDC_TOKEN_TYPE_JWT "\","
           " \"requested_token_type\": \"" SOIDC_TOKEN_TYPE_ACCESS_TOKEN "\","
           " \"audience\": [\"a\", \"b\"], \"resource\": \"https://api.example/x\", \"scope\": \"read\","
           " \"timeout_ms\": 3000}",
           SOIDC_ERR_NETWORK, NULL);

    free(huge);
    free(big_options);
    soidc_client_free(c);
    TEST_MAIN_END();
}
