/*
 * flows.c: the OAuth grants and endpoints of soidc, one after the other.
 *
 *   flows <issuer> <client_id> <client_secret> <username> <password>
 *
 * An empty <client_secret> ("") makes a public client (soidc takes NULL for that).
 *
 * 1. client credentials grant (a service calling an API as itself)
 * 2. password grant for a user, with the ID token validated by soidc
 * 3. token introspection of the user's access token
 * 4. the device flow: prints a code for the user to approve, then waits (sending the
 *    start's PKCE code_verifier with the poll when the start returned one)
 *
 * Every soidc string (results, error documents, values read with soidc_json_get_*) is
 * freed with soidc_string_free(). Members are read with soidc's JSON helpers.
 */
#include <soidc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* soidc's JSON helpers read a member by JSON pointer ("/token_type"); what they hand out
 * is freed with soidc_string_free(). */
static char *string_member(const char *json, const char *pointer) {
    char *value = NULL; /* stays NULL when absent (SOIDC_ERR_NOT_FOUND) or not a string */
    soidc_json_get_string(json, pointer, &value);
    return value;
}

static int has_member(const char *json, const char *pointer) {
    char *raw = NULL;
    soidc_status st = soidc_json_get_raw(json, pointer, &raw);
    soidc_string_free(raw);
    return st == SOIDC_OK;
}

/* Prints a step's outcome readably: for token responses the token type, lifetime and the
 * validated ID token claims rather than the raw tokens. Takes ownership of `doc`. */
static int report(const char *step, soidc_status st, char *doc) {
    if (st != SOIDC_OK) {
        printf("   %s: failed (%s)\n      %s\n", step, soidc_status_name(st), doc ? doc : "");
    } else if (has_member(doc, "/access_token")) {
        char *type = string_member(doc, "/token_type");
        char *scope = string_member(doc, "/scope");
        char *claims = NULL; /* the validated ID token's claims, as JSON text */
        soidc_json_get_raw(doc, "/id_token_claims", &claims);
        int64_t expires_in = -1; /* left as is when absent */
        soidc_json_get_int64(doc, "/expires_in", &expires_in);
        printf("   %s: ok\n      token_type %s, expires_in %lld s, scope \"%s\", refresh token: %s\n",
               step, type ? type : "?", (long long)expires_in, scope ? scope : "",
               has_member(doc, "/refresh_token") ? "yes" : "no");
        printf("      ID token: %s\n", claims ? claims : "none (this grant did not return one)");
        soidc_string_free(type);
        soidc_string_free(scope);
        soidc_string_free(claims);
    } else {
        printf("   %s: ok\n      %s\n", step, doc ? doc : "(no document)");
    }
    soidc_string_free(doc);
    return st == SOIDC_OK;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s <issuer> <client_id> <client_secret> <username> <password>\n", argv[0]);
        return 2;
    }
    const char *issuer = argv[1], *client_id = argv[2], *secret = argv[3];
    const char *username = argv[4], *password = argv[5];
    int ok = 1;
    char *doc = NULL;
    soidc_client *client = NULL;

    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, client_id, secret[0] ? secret : NULL, "openid email",
                                                   "{\"timeout_ms\": 10000}", &client, &doc);
    if (st != SOIDC_OK) {
        report("discovery", st, doc);
        return 1;
    }
    printf("1. client credentials grant (scope api:read)\n");
    st = soidc_client_credentials_grant(client, "api:read", NULL, &doc);
    ok &= report("token response", st, doc);

    printf("2. password grant for %s (legacy; prefer the code or device flow)\n", username);
    st = soidc_direct_access_grant(client, username, password, "openid email", NULL, &doc);
    char *access_token = st == SOIDC_OK ? string_member(doc, "/access_token") : NULL;
    ok &= report("token response with id_token_claims", st, doc);

    printf("3. introspection of that access token\n");
    if (access_token) {
        st = soidc_introspect_token(client, access_token, "access_token", NULL, &doc);
        ok &= report("introspection", st, doc);
        soidc_string_free(access_token);
    }

    printf("4. device flow\n");
    st = soidc_device_authorization_start(client, "openid email", NULL, &doc);
    if (st == SOIDC_OK) {
        char *device_code = string_member(doc, "/device_code");
        char *user_code = string_member(doc, "/user_code");
        char *uri = string_member(doc, "/verification_uri");
        /* With PKCE (on by default for a public client at a provider that advertises
         * S256) the start returns a code_verifier that the poll must send. It is
         * 43-128 characters of [A-Za-z0-9-._~] (RFC 7636), so it goes into the JSON
         * options as is. */
        char *verifier = string_member(doc, "/code_verifier");
        printf("   open %s and enter the code %s\n", uri ? uri : "?", user_code ? user_code : "?");
        fflush(stdout);
        soidc_string_free(doc);
        doc = NULL;
        char options[256];
        int n = verifier
                    ? snprintf(options, sizeof options,
                               "{\"wait\": true, \"interval\": 1, \"expires_in\": 120, \"code_verifier\": \"%s\"}",
                               verifier)
                    : snprintf(options, sizeof options, "{\"wait\": true, \"interval\": 1, \"expires_in\": 120}");
        if (n < 0 || (size_t)n >= sizeof options || (verifier && strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != strlen(verifier))) {
            printf("   device authorization: unexpected code_verifier\n");
            ok = 0;
        } else {
            /* Blocks, polling at the provider's interval, until the user approves or denies. */
            st = soidc_device_authorization_poll(client, device_code ? device_code : "", options, &doc);
            ok &= report("device flow result", st, doc);
        }
        if (verifier) {
            memset(verifier, 0, strlen(verifier));
        }
        memset(options, 0, sizeof options);
        soidc_string_free(verifier);
        soidc_string_free(device_code);
        soidc_string_free(user_code);
        soidc_string_free(uri);
    } else {
        ok &= report("device authorization", st, doc);
    }

    soidc_client_free(client);
    return ok ? 0 : 1;
}
