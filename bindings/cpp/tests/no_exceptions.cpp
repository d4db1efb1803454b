// soidc.hpp in a program built with -fno-exceptions: the header compiles, and the
// try_ forms report every failure as a soidc::Result. No provider needed (a client
// made from static metadata); exits non-zero and names the check that failed.
#include <soidc.hpp>

#include <cstdio>
#include <string>

#if SOIDC_HPP_EXCEPTIONS
#error "this translation unit must be compiled with -fno-exceptions"
#endif

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

const char* const kMetadata = R"({
  "issuer": "https://op.example.test",
  "authorization_endpoint": "https://op.example.test/auth",
  "token_endpoint": "https://op.example.test/token",
  "jwks_uri": "https://op.example.test/jwks",
  "response_types_supported": ["code"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256"]
})";

}  // namespace

int main() {
  soidc::ClientSettings settings;
  settings.client_id = "cli";
  settings.redirect_uri = "http://127.0.0.1:9/callback";

  const soidc::Result<soidc::Client> bad = soidc::Client::try_from_issuer_config("{not json", settings);
  check(!bad.ok() && bad.error().status() == SOIDC_ERR_INVALID_ARGUMENT, "invalid metadata is an error result");

  soidc::Result<soidc::Client> created = soidc::Client::try_from_issuer_config(kMetadata, settings);
  check(created.ok(), "a client from static metadata");
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.error().document().c_str());
    return 1;
  }
  const soidc::Client client = std::move(created).value();

  const soidc::Result<soidc::ClientType> type = client.try_get_type();
  check(type.ok() && *type == soidc::ClientType::Public, "get_type");

  const soidc::Result<soidc::AuthStart> start = client.try_auth_code_start(R"({"state":"s-1"})");
  check(start.ok() && start->state() == "s-1" && start->url().rfind("https://op.example.test/auth?", 0) == 0,
        "auth_code_start");

  const soidc::Result<soidc::Claims> no_keys = client.try_decode_access_token(
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.e30.c2ln", R"({"cache_only":true})");
  check(!no_keys.ok() && no_keys.error().status() == SOIDC_ERR_VALIDATION &&
            no_keys.error().reason() == soidc::reason::no_keys_cached,
        "cache_only decode without keys: reason no_keys_cached");

  const soidc::Result<std::string> logout = client.try_initiate_logout();
  check(!logout.ok() && logout.error().status() == SOIDC_ERR_UNSUPPORTED_BY_PROVIDER, "initiate_logout");

  const soidc::Result<soidc::ProviderMetadata> meta = client.try_provider_config();
  check(meta.ok() && meta->issuer() == "https://op.example.test", "provider_config");

  soidc::Client empty;
  check(!empty.try_revoke_token("t").ok(), "an empty client");

  // The creation with a log callback (nothing listens on port 1 of loopback).
  int logged = 0;
  const soidc::Result<soidc::Client> unreachable = soidc::Client::try_from_issuer_url(
      "http://127.0.0.1:1", settings, [&logged](soidc::LogLevel, std::string_view) { ++logged; },
      soidc::LogLevel::Trace);
  check(!unreachable.ok() && unreachable.error().status() == SOIDC_ERR_NETWORK,
        "from_issuer_url with a log callback: an unreachable issuer");

  check(soidc::JsonValue::parse(R"({"a":[1,{"b":true}]})")->get<bool>("/a/1/b") == true, "JsonValue");
  check(!soidc::JsonValue::parse(R"({"a":1,"a":2})").has_value(), "duplicate names refused");

  if (failures == 0) {
    std::printf("no-exceptions build: all checks passed\n");
  }
  return failures == 0 ? 0 : 1;
}
