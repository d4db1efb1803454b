#include "shim.h"
#include "_cgo_export.h"

/* soidc passes `const char *`; the exported Go function takes `char *` (cgo has
 * no const) and only reads it. The handle travels as the callback's user_data. */
static int soidc_go_acr_shim(const char *acr, void *user_data) {
  return soidcGoValidateACR((char *)acr, (uintptr_t)user_data);
}

soidc_status soidc_go_decode_id_token(const soidc_client *client, const char *raw_token,
                                      const char *options_json, uintptr_t acr_handle,
                                      char **out_json) {
  return soidc_decode_id_token(client, raw_token, options_json,
                               acr_handle != 0 ? soidc_go_acr_shim : NULL,
                               (void *)acr_handle, out_json);
}

static void soidc_go_log_shim(int level, const char *message, void *user_data) {
  (void)user_data;
  soidcGoLog(level, (char *)message);
}

void soidc_go_set_log(int on, int max_level) {
  soidc_set_log_callback(on ? soidc_go_log_shim : NULL, max_level, NULL);
}

static void soidc_go_client_log_shim(int level, const char *message, void *user_data) {
  soidcGoClientLog(level, (char *)message, (uintptr_t)user_data);
}

soidc_status soidc_go_client_set_log(const soidc_client *client, uintptr_t log_handle, int max_level) {
  return soidc_client_set_log_callback(client, log_handle != 0 ? soidc_go_client_log_shim : NULL,
                                       max_level, (void *)log_handle);
}

soidc_status soidc_go_client_from_issuer_url_with_log(const char *issuer_url, const char *redirect_uri,
                                                      const char *client_id, const char *client_secret,
                                                      const char *scope, const char *options_json,
                                                      uintptr_t log_handle, int max_level,
                                                      soidc_client **out_client, char **out_json) {
  return soidc_client_from_issuer_url_with_log(issuer_url, redirect_uri, client_id, client_secret, scope,
                                               options_json, soidc_go_client_log_shim, max_level,
                                               (void *)log_handle, out_client, out_json);
}
