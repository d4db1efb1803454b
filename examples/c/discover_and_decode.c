/*
 * discover_and_decode.c: the smallest useful soidc program.
 *
 * It
 *   1. discovers an OpenID provider (fetches <issuer>/.well-known/openid-configuration),
 *   2. prints what kind of client it is and the provider's endpoints,
 *   3. validates an ID token (signature, issuer, audience, expiry, nonce) and prints
 *      who the user is.
 *
 * Usage:
 *   discover_and_decode ISSUER CLIENT_ID CLIENT_SECRET ID_TOKEN [NONCE]
 * or, better for secrets (command lines are visible to other users in `ps`), set
 *   SOIDC_ISSUER, SOIDC_CLIENT_ID, SOIDC_CLIENT_SECRET, SOIDC_ID_TOKEN, SOIDC_NONCE
 * and run it without arguments. An empty CLIENT_SECRET makes a public client; NONCE is
 * optional (give it whenever your authorization request sent one).
 *
 * Build: see the Makefile next to this file (it links ../../target/release/libsoidc.so).
 *
 * Memory rules of soidc, which this example follows everywhere:
 *   - a soidc_client is freed with soidc_client_free();
 *   - every char * that soidc hands out (the out_json documents) is freed with
 *     soidc_string_free(), never with free();
 *   - strings soidc returns as const char * (soidc_version, soidc_status_name) are
 *     static and never freed;
 *   - out-pointers are set to NULL by soidc on entry, so freeing them unconditionally
 *     in the cleanup code is always safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soidc.h"

/* ------------------------------------------------------------------------------------
 * EXAMPLE-ONLY JSON HELPER. This is NOT a JSON parser: it finds a member of the
 * top-level object of a well-formed document (as soidc produces) and copies its value
 * (a string, unescaped for the common escapes; or a number/true/false as text).
 * A real program should use a JSON library (cJSON, jansson, json-c, ...).
 * Returns 1 if the member was found and fit into `out`.
 * ---------------------------------------------------------------------------------- */
static const char *skip_string(const char *p) { /* p at the opening quote */
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
    }
    return *p ? p + 1 : p;
}

static int json_member(const char *json, const char *key, char *out, size_t out_size) {
    size_t key_len = strlen(key);
    int depth = 0;
    for (const char *p = json; *p; ) {
        if (*p == '{' || *p == '[') { depth++; p++; continue; }
        if (*p == '}' || *p == ']') { depth--; p++; continue; }
        if (*p != '"') { p++; continue; }
        const char *end = skip_string(p);
        /* A key of the top-level object: depth 1, the string followed by ':'. */
        const char *colon = end;
        while (*colon == ' ' || *colon == '\n' || *colon == '\t' || *colon == '\r') colon++;
        if (depth != 1 || *colon != ':' || (size_t)(end - p - 2) != key_len ||
            strncmp(p + 1, key, key_len) != 0) {
            p = end;
            continue;
        }
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\n' || *v == '\t' || *v == '\r') v++;
        size_t n = 0;
        if (*v == '"') {                              /* a string: unescape */
            for (v++; *v && *v != '"'; v++) {
                char c = *v;
                if (c == '\\') {
                    c = *++v;
                    if (c == 'n') c = '\n'; else if (c == 't') c = '\t';
                    else if (c == 'u') { c = '?'; v += 4; } /* \uXXXX: not decoded here */
                }
                if (n + 1 >= out_size) return 0;
                out[n++] = c;
            }
        } else if (*v != '{' && *v != '[') {          /* a number, true, false, null */
            while (*v && *v != ',' && *v != '}' && *v != ' ' && *v != '\n') {
                if (n + 1 >= out_size) return 0;
                out[n++] = *v++;
            }
        } else {
            return 0;                                 /* objects/arrays: not handled */
        }
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------
 * Error reporting: every failing soidc call gives a status code and, through its
 * out_json argument, an error document {"status": "...", "message": "...", ...}.
 * ---------------------------------------------------------------------------------- */
static void print_error(const char *what, soidc_status status, const char *error_doc) {
    char message[1024] = "(no error document)";
    fflush(stdout); /* keep stdout and stderr in order when both go to one file */
    if (error_doc != NULL) json_member(error_doc, "message", message, sizeof message);
    fprintf(stderr, "error: %s failed: %s (status %d): %s\n", what, soidc_status_name(status),
            (int)status, message);
}

static const char *arg_or_env(int argc, char **argv, int index, const char *env) {
    if (argc > index) return argv[index];
    return getenv(env);
}

/* Writes {"nonce": "<nonce>"} into `out`, escaping the nonce for JSON. */
static int nonce_options(const char *nonce, char *out, size_t size) {
    size_t n = (size_t)snprintf(out, size, "{\"nonce\": \"");
    for (const char *c = nonce; *c; c++) {
        if (n + 8 >= size) return 0;
        if (*c == '"' || *c == '\\') out[n++] = '\\';
        if ((unsigned char)*c < 0x20) return 0; /* a nonce never holds control characters */
        out[n++] = *c;
    }
    if (n + 3 > size) return 0;
    memcpy(out + n, "\"}", 3);
    return 1;
}

static void print_claim(const char *claims, const char *name, const char *label) {
    char value[512];
    if (json_member(claims, name, value, sizeof value)) printf("    %-15s %s\n", label, value);
}

static void print_time_claim(const char *claims, const char *name, const char *label) {
    char value[32];
    if (!json_member(claims, name, value, sizeof value)) return;
    time_t t = (time_t)strtoll(value, NULL, 10);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    long long delta = (long long)difftime(t, time(NULL));
    if (delta == 0) {
        printf("    %-15s %s (just now)\n", label, when);
    } else {
        printf("    %-15s %s (%lld s %s)\n", label, when, delta < 0 ? -delta : delta,
               delta < 0 ? "ago" : "from now");
    }
}

int main(int argc, char **argv) {
    const char *issuer = arg_or_env(argc, argv, 1, "SOIDC_ISSUER");
    const char *client_id = arg_or_env(argc, argv, 2, "SOIDC_CLIENT_ID");
    const char *client_secret = arg_or_env(argc, argv, 3, "SOIDC_CLIENT_SECRET");
    const char *id_token = arg_or_env(argc, argv, 4, "SOIDC_ID_TOKEN");
    const char *nonce = arg_or_env(argc, argv, 5, "SOIDC_NONCE");
    if (issuer == NULL || client_id == NULL || id_token == NULL) {
        fprintf(stderr,
                "usage: %s ISSUER CLIENT_ID CLIENT_SECRET ID_TOKEN [NONCE]\n"
                "   or: set SOIDC_ISSUER, SOIDC_CLIENT_ID, SOIDC_CLIENT_SECRET, SOIDC_ID_TOKEN\n"
                "       [, SOIDC_NONCE] and run it without arguments\n", argv[0]);
        return 2;
    }
    if (client_secret != NULL && *client_secret == '\0') client_secret = NULL; /* public */

    /* Everything soidc hands out, declared up front so one cleanup path frees it all.
     * soidc sets each out-pointer to NULL on entry; NULL is fine for the free functions. */
    soidc_client *client = NULL;
    char *error_doc = NULL;
    char *config = NULL;
    char *claims = NULL;
    int exit_code = 1;
    soidc_status status;

    printf("soidc %s\n\n", soidc_version()); /* static string: not freed */

    /* Step 1: discovery. Fetches <issuer>/.well-known/openid-configuration, checks that
     * its "issuer" is exactly `issuer`, and creates a client for our registration. The
     * secret is copied into the client; `scope` NULL would mean "openid". Options NULL:
     * defaults (30 s timeout, https only except for loopback hosts, ...). */
    printf("1. Discovering %s ...\n", issuer);
    status = soidc_client_from_issuer_url(issuer, NULL /* redirect_uri */, client_id, client_secret,
                                          "openid email", NULL /* options_json */, &client,
                                          &error_doc);
    if (status != SOIDC_OK) {
        print_error("discovery", status, error_doc);
        goto cleanup;
    }
    /* On success error_doc stays NULL, and `client` is ours until soidc_client_free(). */

    /* Step 2: what kind of client, and where the provider's endpoints are. */
    printf("\n2. The client and the provider\n");
    printf("   client \"%s\" is %s\n", client_id,
           soidc_client_get_type(client) == SOIDC_CLIENT_CONFIDENTIAL
               ? "confidential (it authenticates with a secret)"
               : "public (no secret)");
    status = soidc_client_provider_config(client, &config); /* no network: cached metadata */
    if (status != SOIDC_OK) {
        print_error("reading the provider configuration", status, config);
        goto cleanup;
    }
    printf("   provider endpoints:\n");
    static const char *const endpoints[] = {
        "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
        "introspection_endpoint", "revocation_endpoint", "device_authorization_endpoint",
        "end_session_endpoint"};
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
        char url[512];
        if (json_member(config, endpoints[i], url, sizeof url)) {
            printf("     %-30s %s\n", endpoints[i], url);
        }
    }

    /* Step 3: validate the ID token. soidc fetches the provider's keys (JWKS) on first
     * use and caches them in the client. Pass the nonce of your authorization request
     * so that a replayed token is rejected. The claims come back as a JSON object. */
    char options[512] = "{}";
    if (nonce != NULL && *nonce != '\0' && !nonce_options(nonce, options, sizeof options)) {
        fprintf(stderr, "error: the nonce is too long or holds control characters\n");
        goto cleanup;
    }
    printf("\n3. Validating the ID token%s ...\n", strcmp(options, "{}") ? " (with its nonce)" : "");
    status = soidc_decode_id_token(client, id_token, options, NULL /* no acr check */, NULL,
                                   &claims);
    if (status != SOIDC_OK) {
        /* On failure `claims` holds the error document instead. */
        print_error("ID token validation", status, claims);
        goto cleanup;
    }
    char subject[256] = "?";
    json_member(claims, "sub", subject, sizeof subject);
    printf("   valid: the user is \"%s\"\n", subject);
    print_claim(claims, "iss", "issuer");
    print_claim(claims, "aud", "audience");
    print_claim(claims, "email", "email");
    print_claim(claims, "email_verified", "email verified");
    print_claim(claims, "name", "name");
    print_time_claim(claims, "auth_time", "logged in at");
    print_time_claim(claims, "iat", "issued at");
    print_time_claim(claims, "exp", "expires at");
    printf("   all claims: %s\n", claims);
    exit_code = 0;

cleanup:
    /* Strings from soidc go back to soidc; the client last. All are NULL-safe. */
    soidc_string_free(claims);
    soidc_string_free(config);
    soidc_string_free(error_doc);
    soidc_client_free(client);
    return exit_code;
}
