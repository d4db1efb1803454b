/* DPoP at a resource server through the C ABI (RFC 9449 §7.1): a DPoP-bound access token
 * of the provider (tests/c/dpop-token.mjs) accepted with a right proof, then refused with
 * a proof for another method, with the same proof again (replay) and without a proof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

/* Options for a GET of SOIDC_TEST_DPOP_URI with `proof` (NULL: no proof). */
static char *options_for(const char *proof) {
    char *uri = test_quote(test_env("SOIDC_TEST_DPOP_URI"));
    char *p = proof ? test_quote(proof) : NULL;
    size_t size = strlen(uri) + (p ? strlen(p) : 0) + 160;
    char *buf = malloc(size);
    CHECK(buf != NULL);
    int n = p ? snprintf(buf, size, "{\"audience\": \"https://api.soidc.test\", \"http_method\": \"GET\", "
                                    "\"http_uri\": %s, \"dpop_proof\": %s}", uri, p)
              : snprintf(buf, size, "{\"audience\": \"https://api.soidc.test\", \"http_method\": \"GET\", "
                                    "\"http_uri\": %s}", uri);
    CHECK(n > 0 && (size_t)n < size);
    soidc_string_free(uri);
    soidc_string_free(p);
    return buf;
}

/* Decodes the bound token with `proof`; expects `expected` and, on failure, `reason`. */
static void decode(const soidc_client *client, const char *proof, soidc_status expected,
                   const char *reason) {
    char *options = options_for(proof);
    char *doc = NULL;
    soidc_status st = soidc_decode_access_token(client, test_env("SOIDC_TEST_DPOP_TOKEN"), options, &doc);
    CHECK_STATUS(st, expected, doc);
    CHECK(json_is_valid(doc));
    if (expected == SOIDC_OK) {
        char *jkt = json_string_at(doc, "/cnf/jkt");
        CHECK(jkt != NULL && strlen(jkt) == 43);
        soidc_string_free(jkt);
    } else {
        char *got = json_string_at(doc, "/reason");
        CHECK_STR_EQ(got, reason);
        soidc_string_free(got);
        char *algs = json_string_at(doc, "/algs");
        CHECK_STR_CONTAINS(algs, "ES256");
        soidc_string_free(algs);
    }
    soidc_string_free(doc);
    free(options);
}

int main(void) {
    soidc_client *client = NULL;
    char *err = NULL;
    soidc_status st = soidc_client_from_issuer_url(test_env("SOIDC_TEST_ISSUER"), NULL, "conf-basic",
                                                   NULL, NULL, NULL, &client, &err);
    CHECK_STATUS(st, SOIDC_OK, err);
    soidc_string_free(err);
    if (client == NULL) {
        TEST_MAIN_END();
    }
    const char *proof = test_env("SOIDC_TEST_DPOP_PROOF");
    decode(client, test_env("SOIDC_TEST_DPOP_PROOF_POST"), SOIDC_ERR_VALIDATION, "dpop_htm");
    decode(client, proof, SOIDC_OK, NULL);
    decode(client, proof, SOIDC_ERR_VALIDATION, "dpop_replay");
    decode(client, NULL, SOIDC_ERR_VALIDATION, "dpop_missing");
    /* A wrong option type: an argument error, and no document leak under ASan. */
    char *doc = NULL;
    st = soidc_decode_access_token(client, test_env("SOIDC_TEST_DPOP_TOKEN"), "{\"dpop_proof\": 1}", &doc);
    CHECK_STATUS(st, SOIDC_ERR_INVALID_ARGUMENT, doc);
    soidc_string_free(doc);
    soidc_client_free(client);
    TEST_MAIN_END();
}
