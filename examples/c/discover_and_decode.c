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
 *   - every char * that soidc hands out (the out_json documents, the values of the
 *     soidc_json_* helpers) is freed with soidc_string_free(), never with free();
 *   - strings soidc returns as const char * (soidc_version, soidc_status_name) are
 *     static and never freed;
 *   - out-pointers are set to NULL by soidc on entry, so freeing them unconditionally
 *     in the cleanup code is always safe.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "soidc.h"

/* ------------------------------------------------------------------------------------
 * Reading JSON: soidc's helpers take an RFC 6901 JSON pointer ("/sub", "/address/country",
 * "/groups/0") and return SOIDC_ERR_NOT_FOUND when the member is absent. Strings they
 * hand out are freed with soidc_string_free(). No JSON library is needed.
 * ---------------------------------------------------------------------------------- */
/* ------------------------------------------------------------------------------------
 * Error reporting: every failing soidc call gives a status code and, through its
 * out_json argument, an error document {"status": "...", "message": "...", ...}.
 * ---------------------------------------------------------------------------------- */
static void print_error(const char *what, soidc_status status, const char *error_doc) {
    char *message = NULL;
    fflush(stdout); /* keep stdout and stderr in order when both go to one file */
    soidc_json_get_string(error_doc, "/message", &message); /* stays NULL on any failure */
    fprintf(stderr, "error: %s failed: %s (status %d): %s\n", what, soidc_status_name(status),
            (int)status, message != NULL ? message : "(no error document)");
    soidc_string_free(message);
}

static const char *arg_or_env(int argc, char **argv, int index, const char *env) {
    if (argc > index) return argv[index];
    return getenv(env);
}

/* Writes {"nonce": <nonce>} into `out`. soidc_json_quote makes the nonce a JSON string
 * literal (quotes, backslashes and control characters escaped), so whatever it holds it
 * stays one string value: never paste a value between quotes with snprintf. */
static int nonce_options(const char *nonce, char *out, size_t size) {
    char *quoted = soidc_json_quote(nonce); /* NULL if the nonce is not UTF-8 */
    if (quoted == NULL) return 0;
    int n = snprintf(out, size, "{\"nonce\": %s}", quoted);
    soidc_string_free(quoted);
    return n > 0 && (size_t)n < size;
}

/* Prints a claim: a string as itself, anything else (a boolean, an array of audiences)
 * as its JSON text. Absent claims are skipped. */
static void print_claim(const char *claims, const char *name, const char *label) {
    char pointer[64], *value = NULL;
    snprintf(pointer, sizeof pointer, "/%s", name); /* these names hold no '/' or '~' */
    soidc_status st = soidc_json_get_string(claims, pointer, &value);
    if (st == SOIDC_ERR_INVALID_ARGUMENT) st = soidc_json_get_raw(claims, pointer, &value); /* not a string */
    if (st == SOIDC_OK) printf("    %-15s %s\n", label, value);
    soidc_string_free(value);
}

static void print_time_claim(const char *claims, const char *name, const char *label) {
    char pointer[64];
    int64_t seconds;
    snprintf(pointer, sizeof pointer, "/%s", name);
    if (soidc_json_get_int64(claims, pointer, &seconds) != SOIDC_OK) return;
    time_t t = (time_t)seconds;
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
        char pointer[64], *url = NULL;
        snprintf(pointer, sizeof pointer, "/%s", endpoints[i]);
        /* SOIDC_ERR_NOT_FOUND: the provider does not offer this endpoint. */
        if (soidc_json_get_string(config, pointer, &url) == SOIDC_OK) {
            printf("     %-30s %s\n", endpoints[i], url);
        }
        soidc_string_free(url);
    }

    /* Step 3: validate the ID token. soidc fetches the provider's keys (JWKS) on first
     * use and caches them in the client. Pass the nonce of your authorization request
     * so that a replayed token is rejected. The claims come back as a JSON object. */
    char options[512] = "{}";
    if (nonce != NULL && *nonce != '\0' && !nonce_options(nonce, options, sizeof options)) {
        fprintf(stderr, "error: the nonce is too long or not UTF-8\n");
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
    char *subject = NULL; /* always present in a valid ID token */
    soidc_json_get_string(claims, "/sub", &subject);
    printf("   valid: the user is \"%s\"\n", subject != NULL ? subject : "?");
    soidc_string_free(subject);
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
