/* C shims between soidc's callback types and the Go functions exported in
 * callbacks.go. They live in a .c file because a Go file with //export may
 * only declare, never define, C functions in its preamble. */
#ifndef SOIDC_GO_SHIM_H
#define SOIDC_GO_SHIM_H

#include <stdint.h>
#include "soidc.h"

/* soidc_decode_id_token with the Go ACR trampoline when `acr_handle` (a
 * runtime/cgo.Handle) is not 0, and without a validator when it is 0. */
soidc_status soidc_go_decode_id_token(const soidc_client *client, const char *raw_token,
                                      const char *options_json, uintptr_t acr_handle,
                                      char **out_json);

/* Routes soidc's log callback to the Go logger (on != 0) or turns logging off. */
void soidc_go_set_log(int on, int max_level);

/* soidc_client_set_log_callback routed to the Go LogFunc behind `log_handle` (a
 * runtime/cgo.Handle), or back to the process-wide callback when it is 0. */
soidc_status soidc_go_client_set_log(const soidc_client *client, uintptr_t log_handle, int max_level);

/* soidc_client_from_issuer_url_with_log with the per-client log callback routed to the Go
 * LogFunc behind `log_handle` (a runtime/cgo.Handle, not 0). */
soidc_status soidc_go_client_from_issuer_url_with_log(const char *issuer_url, const char *redirect_uri,
                                                      const char *client_id, const char *client_secret,
                                                      const char *scope, const char *options_json,
                                                      uintptr_t log_handle, int max_level,
                                                      soidc_client **out_client, char **out_json);

#endif
