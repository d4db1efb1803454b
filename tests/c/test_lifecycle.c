/* Lifecycle: discovery against the real provider, client types, provider config
 * and keys, NULL-safe frees, version and status names. */
#include <stdio.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

static void test_version(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", SOIDC_VERSION_MAJOR, SOIDC_VERSION_MINOR,
             SOIDC_VERSION_PATCH);
    CHECK_STR_EQ(soidc_version(), SOIDC_VERSION_STRING);
    CHECK_STR_EQ(expected, SOIDC_VERSION_STRING);
    CHECK(SOIDC_VERSION_NUMBER ==
          SOIDC_VERSION_MAJOR * 10000 + SOIDC_VERSION_MINOR * 100 + SOIDC_VERSION_PATCH);
    /* Static: the same pointer every time, never freed. */
    CHECK(soidc_version() == soidc_version());
}

static void test_status_names(void) {
    static const struct { soidc_status status; int value; const char *name; } table[] = {
        {SOIDC_OK, 0, "ok"},
        {SOIDC_ERR_INVALID_ARGUMENT, 1, "invalid_argument"},
        {SOIDC_ERR_NETWORK, 2, "network"},
        {SOIDC_ERR_HTTP, 3, "http"},
        {SOIDC_ERR_PROTOCOL, 4, "protocol"},
        {SOIDC_ERR_PROVIDER, 5, "provider"},
        {SOIDC_ERR_VALIDATION, 6, "validation"},
        {SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, 7, "unsupported_by_provider"},
        {SOIDC_ERR_AUTHENTICATION_FAILED, 8, "authentication_failed"},
        {SOIDC_ERR_PENDING, 9, "pending"},
        {SOIDC_ERR_NOT_FOUND, 10, "not_found"},
        {SOIDC_ERR_INTERNAL, 100, "internal"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        CHECK(table[i].status == table[i].value); /* the values are part of the ABI */
        CHECK_STR_EQ(soidc_status_name(table[i].status), table[i].name);
    }
    CHECK_STR_EQ(soidc_status_name(42), "unknown");
    CHECK_STR_EQ(soidc_status_name(11), "unknown");
    CHECK_STR_EQ(soidc_status_name(-1), "unknown");
}

static void test_null_frees(void) {
    soidc_client_free(NULL);
    soidc_string_free(NULL);
    CHECK(soidc_client_get_type(NULL) == SOIDC_CLIENT_INVALID);
}

/* 1 if a key of the JWKS `jwks` has a kid starting with `prefix` (read with the JSON
 * helpers: /keys/0/kid, /keys/1/kid, ... up to the last key). */
static int has_kid_prefix(const char *jwks, const char *prefix) {
    int found = 0;
    for (int i = 0; !found; i++) {
        char pointer[32];
        snprintf(pointer, sizeof pointer, "/keys/%d", i);
        if (!json_has(jwks, pointer)) break;
        snprintf(pointer, sizeof pointer, "/keys/%d/kid", i);
        char *kid = json_string_at(jwks, pointer);
        found = kid != NULL && strncmp(kid, prefix, strlen(prefix)) == 0;
        soidc_string_free(kid);
    }
    return found;
}

/* Discovers a client; asserts success, that both out-pointers were overwritten
 * (they start as garbage), and that out_json stays NULL on success. */
static soidc_client *discover(const char *issuer, const char *client_id, const char *secret) {
    static int dummy;
    soidc_client *client = (soidc_client *)&dummy;
    char *err = (char *)&dummy;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, client_id, secret, NULL, NULL,
                                                   &client, &err);
    CHECK(client != (soidc_client *)&dummy);
    CHECK(err != (char *)&dummy);
    if (client == (soidc_client *)&dummy) client = NULL; /* never free the dummy */
    if (err == (char *)&dummy) err = NULL;
    CHECK_STATUS(st, SOIDC_OK, err);
    CHECK(client != NULL);
    CHECK(err == NULL); /* nothing on success */
    soidc_string_free(err);
    return client;
}

static void test_discovery(void) {
    const char *issuer = test_env("SOIDC_TEST_ISSUER");
    const char *client_id = test_env("SOIDC_TEST_CLIENT_ID");
    const char *secret = test_env("SOIDC_TEST_CLIENT_SECRET");

    /* Confidential: a secret was given. */
    soidc_client *conf = discover(issuer, client_id, secret);
    CHECK(conf != NULL);
    CHECK(soidc_client_get_type(conf) == SOIDC_CLIENT_CONFIDENTIAL);

    /* Public: no secret. */
    soidc_client *pub = discover(issuer, "public-pkce", NULL);
    CHECK(pub != NULL);
    CHECK(soidc_client_get_type(pub) == SOIDC_CLIENT_PUBLIC);
    soidc_client_free(pub);

    if (conf == NULL) return;

    /* The provider configuration, exactly as discovered. */
    char *config = NULL;
    soidc_status st = soidc_client_provider_config(conf, &config);
    CHECK_STATUS(st, SOIDC_OK, config);
    CHECK(json_is_valid(config));
    char *config_issuer = json_string_at(config, "/issuer");
    CHECK_STR_EQ(config_issuer, issuer);
    soidc_string_free(config_issuer);
    char *jwks_uri = json_string_at(config, "/jwks_uri");
    CHECK(jwks_uri != NULL && strncmp(jwks_uri, issuer, strlen(issuer)) == 0);
    soidc_string_free(jwks_uri);
    CHECK(json_has(config, "/token_endpoint"));

    /* The provider's keys: a JWKS with one key per algorithm. */
    char *keys = NULL;
    st = soidc_client_provider_keys(conf, NULL, &keys);
    CHECK_STATUS(st, SOIDC_OK, keys);
    CHECK(json_is_valid(keys));
    CHECK(json_has(keys, "/keys"));
    CHECK(has_kid_prefix(keys, "rs256-"));
    CHECK(has_kid_prefix(keys, "es256-"));
    CHECK(has_kid_prefix(keys, "eddsa-"));
    soidc_string_free(keys);

    /* cache_only now succeeds (the keys are cached) without the network. */
    keys = NULL;
    st = soidc_client_provider_keys(conf, "{\"cache_only\": true}", &keys);
    CHECK_STATUS(st, SOIDC_OK, keys);
    CHECK(json_has(keys, "/keys"));
    soidc_string_free(keys);

    /* A second client from the discovered document: no network, same issuer. */
    if (st == SOIDC_OK && config != NULL) {
        soidc_client *from_config = NULL;
        char *err = NULL;
        st = soidc_client_from_issuer_config(config, NULL, client_id, NULL, "openid email", NULL,
                                             &from_config, &err);
        CHECK_STATUS(st, SOIDC_OK, err);
        CHECK(err == NULL);
        CHECK(soidc_client_get_type(from_config) == SOIDC_CLIENT_PUBLIC);
        char *config2 = NULL;
        st = soidc_client_provider_config(from_config, &config2);
        CHECK_STATUS(st, SOIDC_OK, config2);
        char *issuer2 = json_string_at(config2, "/issuer");
        CHECK_STR_EQ(issuer2, issuer);
        soidc_string_free(issuer2);
        soidc_string_free(config2);
        soidc_string_free(err);
        soidc_client_free(from_config);
    }
    soidc_string_free(config);
    soidc_client_free(conf);
}

int main(void) {
    test_version();
    test_status_names();
    test_null_frees();
    test_discovery();
    TEST_MAIN_END();
}
