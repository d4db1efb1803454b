/* Bad input: every pointer argument NULL in turn, invalid UTF-8, malformed options,
 * unknown option keys, out-of-range values. Every out-pointer starts as garbage and
 * must come back NULL (or a fresh document); error documents are JSON with
 * "status":"invalid_argument" and name the argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soidc.h"
#include "test_util.h"

/* A non-NULL value the library must overwrite; never freed. */
static char dummy_storage;
#define DUMMY_STR ((char *)&dummy_storage)
#define DUMMY_CLIENT ((soidc_client *)&dummy_storage)

static const char *secret; /* must never appear in an error document */
static const char *const password = "alice-password"; /* neither may the password */

static int is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* 1 if `word` occurs in `text` as a whole identifier ("client" is not in "client_id"). */
static int mentions_word(const char *text, const char *word) {
    size_t n = strlen(word);
    for (const char *p = text ? strstr(text, word) : NULL; p; p = strstr(p + 1, word)) {
        if ((p == text || !is_ident(p[-1])) && !is_ident(p[n])) return 1;
    }
    return 0;
}

/* Checks an invalid-argument result and its document, then frees the document.
 * `doc` is what the out_json pointer held after the call (must not be the dummy). */
static void expect_invalid(int line, soidc_status st, char *doc, const char *word) {
    CHECK_STATUS(st, SOIDC_ERR_INVALID_ARGUMENT, doc == DUMMY_STR ? "(not overwritten)" : doc);
    CHECK(doc != DUMMY_STR);
    if (doc == DUMMY_STR) return;
    CHECK(doc != NULL);
    CHECK(json_is_valid(doc));
    char *status = json_string_at(doc, "/status");
    char *message = json_string_at(doc, "/message");
    CHECK_STR_EQ(status, "invalid_argument");
    CHECK(message != NULL && *message != '\0');
    if (word != NULL && !mentions_word(message, word)) {
        test_failures++;
        fprintf(stderr, "%s:%d (called from line %d): FAILED: message names \"%s\": %s\n",
                __FILE__, __LINE__, line, word, message ? message : "(null)");
    }
    CHECK(doc == NULL || strstr(doc, secret) == NULL);
    CHECK(doc == NULL || strstr(doc, password) == NULL);
    soidc_string_free(status);
    soidc_string_free(message);
    soidc_string_free(doc);
}
#define EXPECT_INVALID(st, doc, word) expect_invalid(__LINE__, (st), (doc), (word))

/* ---- the two constructors: same signature, first argument differs ---------------- */

typedef soidc_status (*create_fn)(const char *, const char *, const char *, const char *,
                                  const char *, const char *, soidc_client **, char **);

enum { N_CREATE_ARGS = 6 };

static void test_create(create_fn create, const char *const valid[N_CREATE_ARGS],
                        const char *const names[N_CREATE_ARGS], const int required[N_CREATE_ARGS]) {
    const char *args[N_CREATE_ARGS];
    soidc_client *client;
    char *doc;
    soidc_status st;

    /* Each string argument NULL in turn. */
    for (int i = 0; i < N_CREATE_ARGS; i++) {
        memcpy(args, valid, sizeof args);
        args[i] = NULL;
        client = DUMMY_CLIENT;
        doc = DUMMY_STR;
        st = create(args[0], args[1], args[2], args[3], args[4], args[5], &client, &doc);
        CHECK(client != DUMMY_CLIENT);
        if (client == DUMMY_CLIENT) client = NULL;
        if (required[i]) {
            CHECK(client == NULL);
            EXPECT_INVALID(st, doc, names[i]);
        } else {
            /* Nullable: accepted. */
            CHECK_STATUS(st, SOIDC_OK, doc);
            CHECK(client != NULL);
            CHECK(doc == NULL);
            if (doc != DUMMY_STR) soidc_string_free(doc);
        }
        soidc_client_free(client);
    }

    /* Invalid UTF-8 in each string argument. */
    for (int i = 0; i < N_CREATE_ARGS; i++) {
        memcpy(args, valid, sizeof args);
        args[i] = "\xff\xfe";
        client = DUMMY_CLIENT;
        doc = DUMMY_STR;
        st = create(args[0], args[1], args[2], args[3], args[4], args[5], &client, &doc);
        CHECK(client == NULL);
        if (client != DUMMY_CLIENT) soidc_client_free(client);
        EXPECT_INVALID(st, doc, names[i]);
    }

    /* out_client NULL: an error, reported in the document. */
    doc = DUMMY_STR;
    st = create(valid[0], valid[1], valid[2], valid[3], valid[4], valid[5], NULL, &doc);
    EXPECT_INVALID(st, doc, "out_client");

    /* out_json NULL: fine, both on success and on failure. */
    client = DUMMY_CLIENT;
    st = create(valid[0], valid[1], valid[2], valid[3], valid[4], valid[5], &client, NULL);
    CHECK_STATUS(st, SOIDC_OK, NULL);
    CHECK(client != NULL && client != DUMMY_CLIENT);
    if (client != DUMMY_CLIENT) soidc_client_free(client);
    client = DUMMY_CLIENT;
    st = create(valid[0], valid[1], NULL, valid[3], valid[4], valid[5], &client, NULL);
    CHECK_STATUS(st, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    CHECK(client == NULL);

    /* Empty client_id. */
    client = DUMMY_CLIENT;
    doc = DUMMY_STR;
    st = create(valid[0], valid[1], "", valid[3], valid[4], valid[5], &client, &doc);
    CHECK(client == NULL);
    EXPECT_INVALID(st, doc, "client_id");

    /* Bad client options: malformed JSON, not an object, unknown keys, wrong types,
     * out-of-range values. `word` is what the message must name (NULL: anything): the
     * unknown, mistyped or out-of-range key. */
    static const struct { const char *options; const char *word; } bad[] = {
        {"{", NULL},
        {"", NULL},
        {"[]", NULL},
        {"\"timeout_ms\"", NULL},
        {"{\"timeout_ms\": 1000,}", NULL},
        {"{\"timeout_msec\": 1000}", "timeout_msec"},
        {"{\"leeway\": 10}", "leeway"},
        {"{\"timeout_ms\": \"1000\"}", "timeout_ms"},
        {"{\"timeout_ms\": -1}", "timeout_ms"},
        {"{\"leeway_s\": 301}", "leeway_s"},
        {"{\"allowed_algs\": [\"none\"]}", "allowed_algs"},
        {"{\"allowed_algs\": \"RS256\"}", "allowed_algs"},
        {"{\"allow_insecure_http\": \"yes\"}", "allow_insecure_http"},
        {"{\"auth_method\": \"client_secret_magic\"}", "auth_method"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        client = DUMMY_CLIENT;
        doc = DUMMY_STR;
        st = create(valid[0], valid[1], valid[2], valid[3], valid[4], bad[i].options, &client, &doc);
        CHECK(client == NULL);
        if (client != DUMMY_CLIENT) soidc_client_free(client);
        if (st != SOIDC_ERR_INVALID_ARGUMENT) fprintf(stderr, "  (options %s)\n", bad[i].options);
        EXPECT_INVALID(st, doc, bad[i].word);
    }
}

/* ---- functions taking a client ---------------------------------------------------- */

static int accept_acr(const char *acr, void *user_data) {
    (void)acr;
    (void)user_data;
    return 0;
}

static void test_client_functions(const soidc_client *client) {
    const char *token = test_env("SOIDC_TEST_ID_TOKEN");
    char *doc;
    soidc_status st;

    CHECK(soidc_client_get_type(NULL) == SOIDC_CLIENT_INVALID);

    /* soidc_client_set_log_callback(client, cb, max_level, user_data): client required,
     * cb NULL = back to the process-wide callback. */
    CHECK(soidc_client_set_log_callback(NULL, NULL, 0, NULL) == SOIDC_ERR_INVALID_ARGUMENT);
    CHECK(soidc_client_set_log_callback(client, NULL, 0, NULL) == SOIDC_OK);

    /* soidc_client_provider_config(client, out_json): both required. */
    doc = DUMMY_STR;
    st = soidc_client_provider_config(NULL, &doc);
    EXPECT_INVALID(st, doc, "client");
    CHECK_STATUS(soidc_client_provider_config(client, NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);

    /* soidc_client_provider_keys(client, options_json, out_json) */
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(NULL, NULL, &doc);
    EXPECT_INVALID(st, doc, "client");
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(client, NULL, &doc); /* options nullable */
    CHECK_STATUS(st, SOIDC_OK, doc);
    CHECK(doc != DUMMY_STR && json_has(doc, "/keys"));
    if (doc != DUMMY_STR) soidc_string_free(doc);
    CHECK_STATUS(soidc_client_provider_keys(client, NULL, NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(client, "\xff\xfe", &doc);
    EXPECT_INVALID(st, doc, "options_json");
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(client, "{\"force_refesh\": true}", &doc);
    EXPECT_INVALID(st, doc, "force_refesh");
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(client, "{\"cache_only\": 1}", &doc);
    EXPECT_INVALID(st, doc, "cache_only"); /* wrong type */
    doc = DUMMY_STR;
    st = soidc_client_provider_keys(client, "{", &doc);
    EXPECT_INVALID(st, doc, NULL);

    /* soidc_decode_id_token(client, raw_token, options_json, validate_acr, user_data, out_json) */
    doc = DUMMY_STR;
    st = soidc_decode_id_token(NULL, token, NULL, NULL, NULL, &doc);
    EXPECT_INVALID(st, doc, "client");
    doc = DUMMY_STR;
    st = soidc_decode_id_token(client, NULL, NULL, NULL, NULL, &doc);
    EXPECT_INVALID(st, doc, "raw_token");
    doc = DUMMY_STR;
    st = soidc_decode_id_token(client, "\xff\xfe", NULL, NULL, NULL, &doc);
    EXPECT_INVALID(st, doc, "raw_token");
    doc = DUMMY_STR;
    st = soidc_decode_id_token(client, token, "\xff\xfe", NULL, NULL, &doc);
    EXPECT_INVALID(st, doc, "options_json");
    /* options, validate_acr, user_data and out_json are nullable. */
    /* The test token carries a nonce: without options it is refused (no nonce expected);
     * ignore_nonce skips the check. */
    doc = DUMMY_STR;
    st = soidc_decode_id_token(client, token, NULL, accept_acr, NULL, &doc);
    CHECK_STATUS(st, SOIDC_ERR_VALIDATION, doc);
    CHECK(doc != DUMMY_STR && doc != NULL && strstr(doc, "\"reason\":\"nonce\"") != NULL);
    if (doc != DUMMY_STR) soidc_string_free(doc);
    doc = DUMMY_STR;
    st = soidc_decode_id_token(client, token, "{\"ignore_nonce\": true}", accept_acr, NULL, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    CHECK(doc != DUMMY_STR && doc != NULL);
    if (doc != DUMMY_STR) soidc_string_free(doc);
    CHECK_STATUS(soidc_decode_id_token(client, token, "{\"ignore_nonce\": true}", NULL, NULL, NULL), SOIDC_OK,
                 NULL);
    CHECK_STATUS(soidc_decode_id_token(NULL, token, NULL, NULL, NULL, NULL), SOIDC_ERR_INVALID_ARGUMENT, NULL);

    static const struct { const char *options; const char *word; } bad[] = {
        {"{\"nonce\": }", NULL},
        {"{\"nonce\": \"n\"", NULL},
        {"nonce", NULL},
        {"[\"nonce\"]", NULL},
        {"{\"nonse\": \"n\"}", "nonse"},
        {"{\"nonce\": 5}", "nonce"},
        {"{\"max_age\": \"10\"}", "max_age"},
        {"{\"extra_trusted_audiences\": \"a\"}", "extra_trusted_audiences"},
        {"{\"expect_self_azp\": \"true\"}", "expect_self_azp"},
        {"{\"leeway_s\": 10}", "leeway_s"}, /* a client option, not a decode option */
        /* ignore_nonce: a bool, and not together with nonce */
        {"{\"ignore_nonce\": \"true\"}", "ignore_nonce"},
        {"{\"ignore_nonce\": 1}", "ignore_nonce"},
        {"{\"nonce\": \"n\", \"ignore_nonce\": true}", "ignore_nonce"},
        {"{\"ignore_nonce\": null}", "ignore_nonce"},
        /* min_iat: a number of seconds, fractions allowed, within range */
        {"{\"min_iat\": \"1700000000.5\"}", "min_iat"},
        {"{\"min_iat\": -0.5}", "min_iat"},
        {"{\"min_iat\": 1e300}", "min_iat"},
        /* acr_values_allowed: a non-empty array of strings */
        {"{\"acr_values_allowed\": []}", "acr_values_allowed"},
        {"{\"acr_values_allowed\": \"urn:gold\"}", "acr_values_allowed"},
        {"{\"acr_values_allowed\": [1]}", "acr_values_allowed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = DUMMY_STR;
        st = soidc_decode_id_token(client, token, bad[i].options, NULL, NULL, &doc);
        if (st != SOIDC_ERR_INVALID_ARGUMENT) fprintf(stderr, "  (decode options %s)\n", bad[i].options);
        EXPECT_INVALID(st, doc, bad[i].word);
    }
}

/* ---- the grants, endpoints and other token types: table-driven --------------------
 * Each function takes the client, then up to four string arguments, then its out-pointer.
 * For every function: client NULL, each required argument NULL, each argument invalid
 * UTF-8 -> invalid_argument naming it; each nullable argument NULL -> not
 * invalid_argument; an unknown option key -> invalid_argument naming the key; the
 * out-pointer NULL -> invalid_argument where it is required, no crash elsewhere. */

enum { MAX_ARGS = 4 };

struct fn_case {
    const char *function;
    int nargs;
    const char *names[MAX_ARGS];
    int required[MAX_ARGS];
    const char *valid[MAX_ARGS];
    int options_index; /* which argument is the options object (-1: none) */
    const char *out_name;
    int out_required;
};

static soidc_status call_case(int which, const soidc_client *c, const char *const a[MAX_ARGS], char **out) {
    switch (which) {
    case 0: return soidc_auth_code_start(c, a[0], out);
    case 1: return soidc_auth_code_handle_result(c, a[0], a[1], out);
    case 2: return soidc_auth_code_exchange(c, a[0], a[1], out);
    case 3: return soidc_client_credentials_grant(c, a[0], a[1], out);
    case 4: return soidc_direct_access_grant(c, a[0], a[1], a[2], a[3], out);
    case 5: return soidc_exchange_refresh_token(c, a[0], a[1], out);
    case 6: return soidc_device_authorization_start(c, a[0], a[1], out);
    case 7: return soidc_device_authorization_poll(c, a[0], a[1], out);
    case 8: return soidc_fetch_userinfo(c, a[0], a[1], out);
    case 9: return soidc_introspect_token(c, a[0], a[1], a[2], out);
    case 10: return soidc_revoke_token(c, a[0], a[1], a[2], out);
    case 11: return soidc_initiate_logout(c, a[0], out);
    case 12: return soidc_decode_access_token(c, a[0], a[1], out);
    case 13: return soidc_decode_logout_token(c, a[0], a[1], out);
    case 14: return soidc_auth_code_handle_form_post(c, a[0], a[1], a[2], a[3], out);
    default: abort();
    }
}


static void test_flow_functions(const soidc_client *client) {
    const char *access_token = test_env("SOIDC_TEST_ACCESS_TOKEN");
    const struct fn_case cases[] = {
        {"soidc_auth_code_start", 1, {"options_json"}, {0}, {"{}"}, 0, "out_json", 0},
        {"soidc_auth_code_handle_result", 2, {"current_url", "options_json"}, {1, 0},
         {"http://127.0.0.1:9/callback?code=not-a-code&state=s1", "{\"state\": \"s1\"}"}, 1, "out_json", 0},
        {"soidc_auth_code_exchange", 2, {"code", "options_json"}, {1, 0}, {"not-a-code", "{}"}, 1, "out_json", 0},
        {"soidc_client_credentials_grant", 2, {"scope", "options_json"}, {0, 0}, {"openid", "{}"}, 1, "out_json", 0},
        {"soidc_direct_access_grant", 4, {"username", "password", "scope", "options_json"}, {1, 1, 0, 0},
         {"alice", password, "openid email", "{}"}, 3, "out_json", 0},
        {"soidc_exchange_refresh_token", 2, {"refresh_token", "options_json"}, {1, 0},
         {"not-a-refresh-token", "{}"}, 1, "out_json", 0},
        {"soidc_device_authorization_start", 2, {"scope", "options_json"}, {0, 0}, {"openid", "{}"}, 1, "out_json", 0},
        {"soidc_device_authorization_poll", 2, {"device_code", "options_json"}, {1, 0},
         {"not-a-device-code", "{}"}, 1, "out_json", 0},
        {"soidc_fetch_userinfo", 2, {"access_token", "options_json"}, {1, 0}, {access_token, "{}"}, 1, "out_json", 0},
        {"soidc_introspect_token", 3, {"token", "token_type_hint", "options_json"}, {1, 0, 0},
         {"not-a-token", "access_token", "{}"}, 2, "out_json", 0},
        {"soidc_revoke_token", 3, {"token", "token_type_hint", "options_json"}, {1, 0, 0},
         {"not-a-token", "access_token", "{}"}, 2, "out_json", 0},
        {"soidc_initiate_logout", 1, {"request_json"}, {0}, {"{}"}, 0, "out_url", 1},
        {"soidc_decode_access_token", 2, {"raw_token", "options_json"}, {1, 0}, {"not.a.jwt", "{}"}, 1, "out_json", 0},
        {"soidc_decode_logout_token", 2, {"raw_token", "options_json"}, {1, 0}, {"not.a.jwt", "{}"}, 1, "out_json", 0},
        {"soidc_auth_code_handle_form_post", 4, {"content_type", "body", "state_json", "options_json"}, {1, 1, 0, 0},
         {"application/x-www-form-urlencoded", "code=not-a-code", "{}", "{}"}, 3, "out_json", 0},
    };
    enum { N_CASES = sizeof cases / sizeof cases[0] };
    const char *args[MAX_ARGS];
    char *doc;
    soidc_status st;

    for (int f = 0; f < N_CASES; f++) {
        const struct fn_case *fc = &cases[f];
        fprintf(stderr, "-- %s\n", fc->function); /* context for any failure below */

        /* client NULL */
        memcpy(args, fc->valid, sizeof args);
        doc = DUMMY_STR;
        st = call_case(f, NULL, args, &doc);
        EXPECT_INVALID(st, doc, "client");

        for (int i = 0; i < fc->nargs; i++) {
            /* NULL in turn */
            memcpy(args, fc->valid, sizeof args);
            args[i] = NULL;
            doc = DUMMY_STR;
            st = call_case(f, client, args, &doc);
            if (fc->required[i]) {
                EXPECT_INVALID(st, doc, fc->names[i]);
            } else {
                /* Nullable: whatever the provider says, it is not an argument error. */
                CHECK(st != SOIDC_ERR_INVALID_ARGUMENT);
                CHECK(doc != DUMMY_STR);
                if (doc == DUMMY_STR) doc = NULL;
                if (st != SOIDC_OK) {
                    char *status = json_string_at(doc, "/status");
                    CHECK_STR_EQ(status, soidc_status_name(st));
                    soidc_string_free(status);
                }
                if (st == SOIDC_ERR_INVALID_ARGUMENT || (doc != NULL && strstr(doc, password) != NULL)) {
                    fprintf(stderr, "  (%s with %s NULL: %s)\n", fc->function, fc->names[i], doc);
                }
                CHECK(doc == NULL || strstr(doc, password) == NULL);
                soidc_string_free(doc);
            }

            /* invalid UTF-8 in turn */
            memcpy(args, fc->valid, sizeof args);
            args[i] = "\xff\xfe";
            doc = DUMMY_STR;
            st = call_case(f, client, args, &doc);
            EXPECT_INVALID(st, doc, fc->names[i]);
        }

        /* An unknown option key is named. */
        memcpy(args, fc->valid, sizeof args);
        args[fc->options_index] = "{\"no_such_option\": 1}";
        doc = DUMMY_STR;
        st = call_case(f, client, args, &doc);
        EXPECT_INVALID(st, doc, "no_such_option");

        /* Malformed options. */
        args[fc->options_index] = "{\"timeout_ms\": ";
        doc = DUMMY_STR;
        st = call_case(f, client, args, &doc);
        EXPECT_INVALID(st, doc, fc->names[fc->options_index]);

        /* The out-pointer NULL. */
        memcpy(args, fc->valid, sizeof args);
        st = call_case(f, client, args, NULL);
        if (fc->out_required) CHECK_STATUS(st, SOIDC_ERR_INVALID_ARGUMENT, NULL);
        st = call_case(f, NULL, args, NULL);
        CHECK_STATUS(st, SOIDC_ERR_INVALID_ARGUMENT, NULL);
    }
    fprintf(stderr, "-- done\n");
}

/* Options added for the specification rules: each wrong value is an invalid argument
 * naming the option, before any network access or token parsing. */
static void test_rule_options(const soidc_client *client) {
    static const struct { int which; const char *options; const char *word; } bad[] = {
        /* soidc_decode_logout_token */
        {13, "{\"allow_missing_exp\": \"yes\"}", "allow_missing_exp"},
        {13, "{\"max_age_s\": 60}", "max_age_s"}, /* needs allow_missing_exp */
        {13, "{\"allow_missing_exp\": false, \"max_age_s\": 60}", "max_age_s"},
        {13, "{\"allow_missing_exp\": true, \"max_age_s\": 0}", "max_age_s"},
        {13, "{\"allow_missing_exp\": true, \"max_age_s\": 601}", "max_age_s"},
        {13, "{\"allow_missing_exp\": true, \"max_age_s\": -1}", "max_age_s"},
        {13, "{\"min_iat\": \"0\"}", "min_iat"},
        {13, "{\"min_iat\": -1}", "min_iat"},
        /* soidc_decode_access_token */
        {12, "{\"audience\": []}", "audience"},
        {12, "{\"audience\": [1]}", "audience"},
        {12, "{\"audience\": 5}", "audience"},
        {12, "{\"client_cert_pem\": 5}", "client_cert_pem"},
        {12, "{\"client_cert_pem\": \"\"}", "client_cert_pem"},
        {12, "{\"client_cert_pem\": \"garbage!\"}", "client_cert_pem"},
        {12, "{\"client_cert_pem\": \"AAAA\"}", "client_cert_pem"},
        {12, "{\"client_cert_pem\": \"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}", "client_cert_pem"},
        /* the code flow */
        {1, "{\"state\": \"s1\", \"acr_values_allowed\": []}", "acr_values_allowed"},
        {1, "{\"state\": \"s1\", \"acr_values_allowed\": \"urn:gold\"}", "acr_values_allowed"},
        {2, "{\"acr_values_allowed\": []}", "acr_values_allowed"},
        {2, "{\"acr_values_allowed\": [true]}", "acr_values_allowed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[MAX_ARGS] = {NULL, NULL, NULL, NULL};
        switch (bad[i].which) {
        case 1: args[0] = "http://127.0.0.1:9/callback?code=not-a-code&state=s1"; break;
        case 2: args[0] = "not-a-code"; break;
        default: args[0] = "not.a.jwt"; break;
        }
        args[1] = bad[i].options;
        char *doc = DUMMY_STR;
        soidc_status st = call_case(bad[i].which, client, args, &doc);
        if (st != SOIDC_ERR_INVALID_ARGUMENT) fprintf(stderr, "  (options %s)\n", bad[i].options);
        EXPECT_INVALID(st, doc, bad[i].word);
    }
}

static void test_utilities(void) {
    soidc_client_free(NULL);
    soidc_string_free(NULL);
    soidc_set_log_callback(NULL, SOIDC_LOG_TRACE, NULL); /* NULL = logging off */
    CHECK(soidc_status_name(-100) != NULL);
}

/* ---- DPoP, client side: soidc_client_dpop_jwk and soidc_dpop_proof ----------------- */

static void test_dpop_functions(const char *issuer, const char *client_id, const soidc_client *plain) {
    soidc_client *c = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, client_id, secret, NULL, "{\"dpop\": true}", &c, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (c == NULL) return;
    static const char bad_utf8[] = {'G', (char)0xff, 'T', 0};
    /* The call first, then the out-pointer's value (argument order is unspecified in C). */
#define DPOP_INVALID(call, word)              \
    do {                                      \
        doc = DUMMY_STR;                      \
        soidc_status dpop_st_ = (call);       \
        EXPECT_INVALID(dpop_st_, doc, word);  \
    } while (0)

    DPOP_INVALID(soidc_client_dpop_jwk(NULL, &doc), "client");
    DPOP_INVALID(soidc_client_dpop_jwk(plain, &doc), NULL); /* no DPoP key */
    CHECK(soidc_client_dpop_jwk(c, NULL) == SOIDC_ERR_INVALID_ARGUMENT);
    doc = DUMMY_STR;
    st = soidc_client_dpop_jwk(c, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    char *jkt = json_string_at(doc, "/jkt");
    CHECK(jkt != NULL && strlen(jkt) == 43);
    soidc_string_free(jkt);
    soidc_string_free(doc);

    const char *url = "https://rs.example/items?page=1";
    DPOP_INVALID(soidc_dpop_proof(NULL, "GET", url, NULL, NULL, &doc), "client");
    DPOP_INVALID(soidc_dpop_proof(c, NULL, url, NULL, NULL, &doc), "method");
    DPOP_INVALID(soidc_dpop_proof(c, "GET", NULL, NULL, NULL, &doc), "url");
    DPOP_INVALID(soidc_dpop_proof(c, bad_utf8, url, NULL, NULL, &doc), "method");
    DPOP_INVALID(soidc_dpop_proof(c, "GET", bad_utf8, NULL, NULL, &doc), "url");
    DPOP_INVALID(soidc_dpop_proof(c, "GET", url, bad_utf8, NULL, &doc), "access_token");
    DPOP_INVALID(soidc_dpop_proof(c, "GET", url, NULL, "{\"nonce\": 5}", &doc), "nonce");
    DPOP_INVALID(soidc_dpop_proof(c, "GET", url, NULL, "{\"nonse\": \"x\"}", &doc), NULL);
    DPOP_INVALID(soidc_dpop_proof(plain, "GET", url, NULL, NULL, &doc), NULL);
    CHECK(soidc_dpop_proof(c, "GET", url, NULL, NULL, NULL) == SOIDC_ERR_INVALID_ARGUMENT);
    doc = DUMMY_STR;
    st = soidc_dpop_proof(c, "GET", url, "an-access-token", "{\"nonce\": \"n\"}", &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    char *proof = json_string_at(doc, "/proof");
    CHECK(proof != NULL && strchr(proof, '.') != NULL);
    soidc_string_free(proof);
    soidc_string_free(doc);
    soidc_client_free(c);
#undef DPOP_INVALID
}

int main(void) {
    const char *issuer = test_env("SOIDC_TEST_ISSUER");
    const char *client_id = test_env("SOIDC_TEST_CLIENT_ID");
    secret = test_env("SOIDC_TEST_CLIENT_SECRET");

    static const char *const url_names[N_CREATE_ARGS] = {
        "issuer_url", "redirect_uri", "client_id", "client_secret", "scope", "options_json"};
    static const int required[N_CREATE_ARGS] = {1, 0, 1, 0, 0, 0};
    const char *url_valid[N_CREATE_ARGS] = {
        issuer, "http://127.0.0.1:9/callback", client_id, secret, "openid email", "{\"timeout_ms\": 5000}"};
    test_create(soidc_client_from_issuer_url, url_valid, url_names, required);

    /* A client for the rest, and its metadata for soidc_client_from_issuer_config. */
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, client_id, secret, NULL, NULL, &client, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    char *metadata = NULL;
    CHECK_STATUS(soidc_client_provider_config(client, &metadata), SOIDC_OK, metadata);

    if (client != NULL && metadata != NULL) {
        static const char *const config_names[N_CREATE_ARGS] = {
            "provider_metadata_json", "redirect_uri", "client_id", "client_secret", "scope", "options_json"};
        const char *config_valid[N_CREATE_ARGS] = {
            metadata, "http://127.0.0.1:9/callback", client_id, secret, "openid email", "{\"timeout_ms\": 5000}"};
        test_create(soidc_client_from_issuer_config, config_valid, config_names, required);

        /* Malformed or incomplete provider metadata. */
        static const char *const bad_metadata[] = {"{", "[]", "{}", "{\"issuer\": \"http://127.0.0.1:9\"}"};
        for (size_t i = 0; i < sizeof bad_metadata / sizeof bad_metadata[0]; i++) {
            soidc_client *c = DUMMY_CLIENT;
            doc = DUMMY_STR;
            st = soidc_client_from_issuer_config(bad_metadata[i], NULL, client_id, secret, NULL, NULL, &c, &doc);
            CHECK(c == NULL);
            if (c != DUMMY_CLIENT) soidc_client_free(c);
            EXPECT_INVALID(st, doc, NULL);
        }

        /* Mutual TLS client options (RFC 8705): wrong types, half a pair, unreadable files. */
        static const struct { const char *options; const char *word; } bad_mtls[] = {
            {"{\"client_cert_file\": 5, \"client_key_file\": \"/nonexistent\"}", "client_cert_file"},
            {"{\"client_cert_file\": \"/nonexistent\"}", "client_key_file"},
            {"{\"client_cert_file\": \"/nonexistent/c.pem\", \"client_key_file\": \"/nonexistent/k.pem\"}", "cannot open"},
            {"{\"client_cert_file\": \"/\", \"client_key_file\": \"/\"}", "regular file"},
            {"{\"auth_method\": \"tls_client_auth\"}", "client_cert_file"},
        };
        for (size_t i = 0; i < sizeof bad_mtls / sizeof bad_mtls[0]; i++) {
            soidc_client *c = DUMMY_CLIENT;
            doc = DUMMY_STR;
            st = soidc_client_from_issuer_config(metadata, NULL, client_id, NULL, NULL, bad_mtls[i].options, &c, &doc);
            CHECK(c == NULL);
            if (c != DUMMY_CLIENT) soidc_client_free(c);
            EXPECT_INVALID(st, doc, bad_mtls[i].word);
        }

        test_client_functions(client);
        test_dpop_functions(issuer, client_id, client);
    }

    /* A client with a redirect URI (soidc_auth_code_start needs one) for the flows. */
    soidc_client *flows = NULL;
    doc = NULL;
    st = soidc_client_from_issuer_url(issuer, "http://127.0.0.1:9/callback", client_id, secret,
                                      "openid email", NULL, &flows, &doc);
    CHECK_STATUS(st, SOIDC_OK, doc);
    soidc_string_free(doc);
    if (flows != NULL) test_flow_functions(flows);
    if (flows != NULL) test_rule_options(flows);
    soidc_client_free(flows);
    soidc_string_free(metadata);
    soidc_client_free(client);
    test_utilities();
    TEST_MAIN_END();
}
