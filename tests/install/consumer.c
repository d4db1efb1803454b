/* A program that links an installed soidc: discovers the test provider, runs the client
 * credentials grant and checks the version macros against the library. */
#include <soidc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    const char *issuer = getenv("SOIDC_TEST_ISSUER");
    if (!issuer) { fprintf(stderr, "SOIDC_TEST_ISSUER is not set\n"); return 2; }
    if (strcmp(soidc_version(), SOIDC_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", SOIDC_VERSION_STRING, soidc_version());
        return 1;
    }
    soidc_client *client = NULL;
    char *doc = NULL;
    soidc_status st = soidc_client_from_issuer_url(issuer, NULL, "conf-basic",
        "conf-basic-secret-0123456789abcdef", NULL, NULL, &client, &doc);
    if (st != SOIDC_OK) { fprintf(stderr, "discovery: %s %s\n", soidc_status_name(st), doc); soidc_string_free(doc); return 1; }
    st = soidc_client_credentials_grant(client, "api:read", NULL, &doc);
    char *access_token = NULL; /* read with soidc's JSON helper (RFC 6901 pointer) */
    int ok = st == SOIDC_OK && soidc_json_get_string(doc, "/access_token", &access_token) == SOIDC_OK
             && access_token[0] != '\0';
    printf("%s: client credentials %s\n", ok ? "ok" : "FAIL", soidc_status_name(st));
    soidc_string_free(access_token);
    soidc_string_free(doc);
    soidc_client_free(client);
    return ok ? 0 : 1;
}
