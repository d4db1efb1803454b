/*
 * flows.c: the OAuth grants and endpoints of soidc, one after the other.
 *
 *   flows <issuer> <client_id> <client_secret> <username> <password>
 *
 * 1. client credentials grant (a service calling an API as itself)
 * 2. password grant for a user, with the ID token validated by soidc
 * 3. token introspection of the user's access token
 * 4. the device flow: prints a code for the user to approve, then waits
 *
 * Every soidc string (results and error documents) is freed with soidc_string_free().
 * JSON is printed as soidc returns it; a real program would parse it with its JSON library.
 */
#include <soidc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the object member `name` of a JSON document (example-grade: braces balanced,
 * no braces inside strings). */
static char *json_object_member(const char *json, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":{", name);
    const char *start = json ? strstr(json, key) : NULL;
    if (!start) return NULL;
    start += strlen(key) - 1;
    int depth = 0;
    const char *p = start;
    do {
        if (*p == '{') depth++;
        if (*p == '}') depth--;
        p++;
    } while (*p && depth > 0);
    char *out = malloc((size_t)(p - start) + 1);
    if (!out) return NULL;
    memcpy(out, start, (size_t)(p - start));
    out[p - start] = '\0';
    return out;
}

static char *json_string_member(const char *json, const char *name);

/* Prints a step's outcome readably: for token responses the token type, lifetime and the
 * validated ID token claims rather than the raw tokens. Takes ownership of `doc`. */
static int report(const char *step, soidc_status st, char *doc) {
    if (st != SOIDC_OK) {
        printf("   %s: failed (%s)\n      %s\n", step, soidc_status_name(st), doc ? doc : "");
    } else if (doc && strstr(doc, "\"access_token\"")) {
        char *type = json_string_member(doc, "token_type");
        char *scope = json_string_member(doc, "scope");
        char *claims = json_object_member(doc, "id_token_claims");
        const char *exp = strstr(doc, "\"expires_in\":");
        printf("   %s: ok\n      token_type %s, expires_in %ld s, scope \"%s\", refresh token: %s\n",
               step, type ? type : "?", exp ? strtol(exp + 13, NULL, 10) : -1L, scope ? scope : "",
               strstr(doc, "\"refresh_token\"") ? "yes" : "no");
        printf("      ID token: %s\n", claims ? claims : "none (this grant did not return one)");
        free(type);
        free(scope);
        free(claims);
    } else {
        printf("   %s: ok\n      %s\n", step, doc ? doc : "(no document)");
    }
    soidc_string_free(doc);
    return st == SOIDC_OK;
}

/* Copies the string member `name` of a flat JSON object (example-grade: no escapes). */
static char *json_string_member(const char *json, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *start = json ? strstr(json, key) : NULL;
    if (!start) return NULL;
    start += strlen(key);
    const char *end = strchr(start, '"');
    if (!end) return NULL;
    char *out = malloc((size_t)(end - start) + 1);
    if (!out) return NULL;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return out;
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

    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, client_id, secret, "openid email",
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
    char *access_token = st == SOIDC_OK ? json_string_member(doc, "access_token") : NULL;
    ok &= report("token response with id_token_claims", st, doc);

    printf("3. introspection of that access token\n");
    if (access_token) {
        st = soidc_introspect_token(client, access_token, "access_token", NULL, &doc);
        ok &= report("introspection", st, doc);
        free(access_token);
    }

    printf("4. device flow\n");
    st = soidc_device_authorization_start(client, "openid email", NULL, &doc);
    if (st == SOIDC_OK) {
        char *device_code = json_string_member(doc, "device_code");
        char *user_code = json_string_member(doc, "user_code");
        char *uri = json_string_member(doc, "verification_uri");
        printf("   open %s and enter the code %s\n", uri ? uri : "?", user_code ? user_code : "?");
        fflush(stdout);
        soidc_string_free(doc);
        doc = NULL;
        /* Blocks, polling at the provider's interval, until the user approves or denies. */
        st = soidc_device_authorization_poll(client, device_code ? device_code : "",
                                             "{\"wait\": true, \"interval\": 1, \"expires_in\": 120}", &doc);
        ok &= report("device flow result", st, doc);
        free(device_code);
        free(user_code);
        free(uri);
    } else {
        ok &= report("device authorization", st, doc);
    }

    soidc_client_free(client);
    return ok ? 0 : 1;
}
