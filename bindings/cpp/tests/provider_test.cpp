// Tests of soidc::Client against the real test OpenID provider (tests/provider),
// started by tests/with-provider.sh, which exports SOIDC_TEST_ISSUER. Every C function
// is exercised through the binding: discovery, provider keys and config, every grant,
// the authorization code and device flows, userinfo, introspection, revocation,
// logout, the three token decoders, error mapping, moves, callbacks and threads;
// the typed results (TokenResponse, Claims, ...) against the raw documents, the
// try_ forms, and Error::reason() for validation failures of real tokens.
#include <soidc.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using test::Json;

const char* const kClientId = "conf-basic";
const char* const kClientSecret = "conf-basic-secret-0123456789abcdef";
const char* const kRedirectUri = "http://127.0.0.1:9/callback";
const char* const kApi = "https://api.soidc.test";

template <class F>
soidc::Error expect_error(F&& f) {
  try {
    f();
  } catch (const soidc::Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected soidc::Error, nothing was thrown";
  return soidc::Error(SOIDC_ERR_INTERNAL, "");
}

soidc::ClientSettings conf_basic() {
  soidc::ClientSettings s;
  s.client_id = kClientId;
  s.client_secret = kClientSecret;
  s.redirect_uri = kRedirectUri;
  return s;
}

class Provider : public ::testing::Test {
 protected:
  // One discovered client shared by the tests, as an application would share it.
  static const soidc::Client& client() {
    static const soidc::Client shared = soidc::Client::from_issuer_url(test::issuer(), conf_basic());
    return shared;
  }

  // A fresh password grant for alice with the given scope and options.
  static soidc::TokenResponse alice_tokens(const std::string& scope, soidc::NullableString options = nullptr) {
    return client().direct_access_grant("alice", "alice-password", scope, options);
  }
};

TEST_F(Provider, DiscoveryAndProviderConfig) {
  const soidc::Client& c = client();
  EXPECT_EQ(c.get_type(), soidc::ClientType::Confidential);
  const soidc::ProviderMetadata meta = c.provider_config();
  const Json config = Json::parse(meta.raw());
  EXPECT_EQ(config["issuer"].str(), test::issuer());
  EXPECT_EQ(config["token_endpoint"].str(), test::issuer() + "/token");
  // The typed accessors read the same document.
  EXPECT_EQ(meta.issuer(), test::issuer());
  EXPECT_EQ(meta.token_endpoint(), config["token_endpoint"].str());
  EXPECT_EQ(meta.jwks_uri(), config["jwks_uri"].str());
  EXPECT_EQ(meta.end_session_endpoint(), config["end_session_endpoint"].str());
  EXPECT_EQ(meta.introspection_endpoint(), config["introspection_endpoint"].str());
  EXPECT_EQ(meta.get<std::vector<std::string>>("/response_types_supported").value_or(std::vector<std::string>{}).empty(),
            false);

  const soidc::Client pub = soidc::Client::from_issuer_url(test::issuer(), {"public-pkce"});
  EXPECT_EQ(pub.get_type(), soidc::ClientType::Public);
}

TEST_F(Provider, FromIssuerConfigReusesDiscoveredMetadata) {
  const soidc::Client again = soidc::Client::from_issuer_config(client().provider_config().raw(), conf_basic());
  const soidc::TokenResponse tokens = again.client_credentials_grant();
  EXPECT_FALSE(tokens.access_token().empty());
  EXPECT_EQ(Json::parse(tokens.raw())["access_token"].str(), tokens.access_token());
}

TEST_F(Provider, ProviderKeys) {
  const soidc::Jwks jwks = client().provider_keys();
  const Json keys = Json::parse(jwks.raw());
  ASSERT_GE(keys["keys"].array().size(), 3u);
  ASSERT_EQ(jwks.size(), keys["keys"].array().size());
  const std::vector<std::string> kids = jwks.key_ids();
  ASSERT_EQ(kids.size(), jwks.size());
  for (std::size_t k = 0; k < kids.size(); ++k) {
    EXPECT_FALSE(kids[k].empty());
    EXPECT_EQ(kids[k], keys["keys"].array()[k]["kid"].str());
    EXPECT_EQ(jwks.keys()[k].get<std::string>("/kty"), keys["keys"].array()[k]["kty"].str());
  }
  const soidc::Jwks refreshed = client().provider_keys(R"({"force_refresh": true})");
  EXPECT_EQ(refreshed.size(), jwks.size());
  const soidc::Jwks cached = client().provider_keys(R"({"cache_only": true})");
  EXPECT_EQ(cached.key_ids(), refreshed.key_ids());
}

TEST_F(Provider, ClientCredentialsAndJwtAccessToken) {
  const soidc::TokenResponse tokens =
      client().client_credentials_grant("api:read", R"({"resource": "https://api.soidc.test"})");
  EXPECT_EQ(tokens.token_type(), "Bearer");
  EXPECT_EQ(tokens.token_type(), Json::parse(tokens.raw())["token_type"].str());
  ASSERT_TRUE(tokens.expires_in().has_value());
  EXPECT_EQ(tokens.expires_in()->count(),
            static_cast<long>(Json::parse(tokens.raw())["expires_in"].number()));
  EXPECT_FALSE(tokens.id_token().has_value());
  EXPECT_FALSE(tokens.id_token_claims().has_value());
  const std::string access_token = tokens.access_token();

  const soidc::Claims claims = client().decode_access_token(access_token, R"({"audience": "https://api.soidc.test"})");
  const Json raw = Json::parse(claims.raw());
  EXPECT_EQ(claims.client_id(), kClientId);
  EXPECT_EQ(raw["client_id"].str(), kClientId);
  EXPECT_EQ(claims.aud(), std::vector<std::string>{kApi});
  EXPECT_EQ(claims.iss(), test::issuer());
  EXPECT_TRUE(claims.has_scope("api:read"));
  EXPECT_EQ(claims.scope(), raw["scope"].str());
  ASSERT_TRUE(claims.exp().has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(claims.exp()->time_since_epoch()).count(),
            static_cast<long>(raw["exp"].number()));
  EXPECT_GT(*claims.exp(), std::chrono::system_clock::now());
  EXPECT_EQ(claims.get<std::int64_t>("/iat"), static_cast<std::int64_t>(raw["iat"].number()));

  const soidc::Error wrong_audience = expect_error(
      [&] { (void)client().decode_access_token(access_token, R"({"audience": "https://other.test"})"); });
  EXPECT_EQ(wrong_audience.status(), SOIDC_ERR_VALIDATION) << wrong_audience.document();
  EXPECT_EQ(wrong_audience.reason(), soidc::reason::audience) << wrong_audience.document();

  const soidc::Error missing_scope = expect_error([&] {
    (void)client().decode_access_token(
        access_token, R"({"audience": "https://api.soidc.test", "required_scopes": ["api:write"]})");
  });
  EXPECT_EQ(missing_scope.status(), SOIDC_ERR_VALIDATION) << missing_scope.document();
  EXPECT_EQ(missing_scope.string_member("error"), std::optional<std::string>("insufficient_scope"));
  EXPECT_EQ(missing_scope.reason(), soidc::reason::scope) << missing_scope.document();
}

TEST_F(Provider, PasswordGrantAndIdTokenDecode) {
  const soidc::TokenResponse tokens = alice_tokens("openid profile email");
  ASSERT_TRUE(tokens.id_token_claims().has_value()) << tokens.raw();
  EXPECT_EQ(tokens.id_token_claims()->sub(), "alice");
  // The nested claims keep their own document: the id_token_claims member.
  const Json whole = Json::parse(tokens.raw());
  EXPECT_EQ(Json::parse(tokens.id_token_claims()->raw())["sub"].str(), whole["id_token_claims"]["sub"].str());
  EXPECT_EQ(tokens.get<std::string>("/id_token_claims/sub"), "alice");
  ASSERT_TRUE(tokens.id_token().has_value());
  EXPECT_EQ(*tokens.id_token(), whole["id_token"].str());
  const std::string id_token = *tokens.id_token();

  const soidc::Claims claims = client().decode_id_token(id_token);
  const Json raw = Json::parse(claims.raw());
  EXPECT_EQ(claims.sub(), "alice");
  const std::vector<std::string> aud = claims.aud();
  EXPECT_NE(std::find(aud.begin(), aud.end(), kClientId), aud.end());
  EXPECT_EQ(claims.iss(), test::issuer());
  EXPECT_EQ(claims.get<std::string>("/email"), "alice@example.test");
  EXPECT_EQ(claims.get<std::string>("/name"), "Alice Liddell");
  EXPECT_EQ(claims.get<std::string>("/name"), raw["name"].str());
  ASSERT_TRUE(claims.iat().has_value());
  ASSERT_TRUE(claims.exp().has_value());
  EXPECT_LT(*claims.iat(), *claims.exp());
  EXPECT_EQ(claims.get<std::int64_t>("/no_such_claim"), std::nullopt);
  EXPECT_EQ(claims.get<bool>("/sub"), std::nullopt);  // a string, not a boolean

  // at_hash is checked when the access token is given.
  const std::string with_at = "{\"access_token\":" + soidc::json_quote(tokens.access_token()) + "}";
  EXPECT_EQ(client().decode_id_token(id_token, with_at).sub(), "alice");
}

TEST_F(Provider, WrongPasswordIsAProviderError) {
  const soidc::Error e = expect_error(
      [] { (void)client().direct_access_grant("alice", "wrong-password-xyz", "openid"); });
  EXPECT_EQ(e.status(), SOIDC_ERR_PROVIDER);
  EXPECT_EQ(e.status_name(), "provider");
  EXPECT_EQ(e.string_member("status"), std::optional<std::string>("provider"));
  EXPECT_EQ(e.string_member("error"), std::optional<std::string>("invalid_grant"));
  EXPECT_FALSE(e.message().empty());
  EXPECT_EQ(std::string(e.what()), "provider: " + e.message());
  EXPECT_EQ(e.document().find("wrong-password-xyz"), std::string::npos) << "the password leaked";
  EXPECT_EQ(e.document().find(kClientSecret), std::string::npos) << "the client secret leaked";
  const Json doc = Json::parse(e.document());
  EXPECT_EQ(doc["http_status"].number(), 400);
  EXPECT_EQ(e.get<std::int64_t>("/http_status"), 400);
  EXPECT_EQ(e.reason(), std::nullopt);  // not a validation error

  // The same failure through the non-throwing form.
  const soidc::Result<soidc::TokenResponse> r =
      client().try_direct_access_grant("alice", "wrong-password-xyz", "openid");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().status(), SOIDC_ERR_PROVIDER);
  EXPECT_EQ(r.error().string_member("error"), std::optional<std::string>("invalid_grant"));
  const soidc::Error thrown = expect_error([&] { (void)r.value(); });
  EXPECT_EQ(thrown.document(), r.error().document());

  const soidc::Result<soidc::TokenResponse> good = client().try_direct_access_grant("alice", "alice-password", "openid");
  ASSERT_TRUE(good.ok()) << good.error().document();
  EXPECT_EQ(good->id_token_claims()->sub(), "alice");
  EXPECT_FALSE((*good).access_token().empty());
}

TEST_F(Provider, WrongNonceIsAValidationError) {
  // The `nonce` option only states the expected nonce; the test provider's password
  // grant takes the nonce to put into the ID token as an extra token request parameter.
  const soidc::TokenResponse tokens = alice_tokens(
      "openid", R"({"nonce": "nonce-cpp-1", "extra_params": {"nonce": "nonce-cpp-1"}})");
  const std::string id_token = tokens.id_token().value_or("");
  EXPECT_EQ(tokens.id_token_claims()->nonce(), "nonce-cpp-1");
  EXPECT_EQ(client().decode_id_token(id_token, R"({"nonce": "nonce-cpp-1"})").sub(), "alice");

  const soidc::Error e =
      expect_error([&] { (void)client().decode_id_token(id_token, R"({"nonce": "another-nonce"})"); });
  EXPECT_EQ(e.status(), SOIDC_ERR_VALIDATION) << e.document();
  EXPECT_EQ(e.status_name(), "validation");
  EXPECT_NE(e.message().find("nonce"), std::string::npos) << e.message();
}

TEST_F(Provider, RefreshTokenWithContinuityChecks) {
  const soidc::TokenResponse tokens = alice_tokens("openid offline_access");
  ASSERT_TRUE(tokens.refresh_token().has_value()) << tokens.raw();
  EXPECT_EQ(*tokens.refresh_token(), Json::parse(tokens.raw())["refresh_token"].str());
  const std::string refresh_token = *tokens.refresh_token();
  const std::string options = "{\"id_token\":" + soidc::json_quote(*tokens.id_token()) + "}";
  const soidc::TokenResponse refreshed = client().exchange_refresh_token(refresh_token, options);
  EXPECT_FALSE(refreshed.access_token().empty());
  EXPECT_NE(refreshed.access_token(), tokens.access_token());
  EXPECT_EQ(refreshed.id_token_claims()->sub(), "alice");

  const soidc::Error bad = expect_error([] { (void)client().exchange_refresh_token("not-a-refresh-token"); });
  EXPECT_EQ(bad.status(), SOIDC_ERR_PROVIDER) << bad.document();
  EXPECT_EQ(bad.string_member("error"), std::optional<std::string>("invalid_grant"));
}

TEST_F(Provider, DeviceFlowWithPkceForThePublicClient) {
  const soidc::Client pub = soidc::Client::from_issuer_url(test::issuer(), {"public-pkce"});
  const soidc::DeviceAuthorization device = pub.device_authorization_start("openid");
  ASSERT_TRUE(device.code_verifier().has_value()) << device.raw();
  EXPECT_EQ(device.code_verifier()->size(), 43u);
  EXPECT_FALSE(client().device_authorization_start("openid").code_verifier().has_value())
      << "auto: no PKCE for a confidential client";
  const Json approved = Json::parse(test::post_json(
      "/test/device/approve", "{\"user_code\":" + soidc::json_quote(device.user_code()) + ",\"user\":\"alice\"}"));
  EXPECT_TRUE(approved["ok"].boolean());
  const soidc::TokenResponse tokens = pub.device_authorization_poll(
      device.device_code(), "{\"code_verifier\":" + soidc::json_quote(*device.code_verifier()) + "}");
  ASSERT_TRUE(tokens.id_token_claims().has_value());
  EXPECT_EQ(tokens.id_token_claims()->sub(), "alice");
  const soidc::Error bad = expect_error([&] { (void)pub.device_authorization_start("openid", R"({"pkce":"yes"})"); });
  EXPECT_EQ(bad.status(), SOIDC_ERR_INVALID_ARGUMENT) << bad.document();
}

TEST_F(Provider, DeviceFlowApprovedByAlice) {
  const soidc::DeviceAuthorization device = client().device_authorization_start("openid");
  const Json start = Json::parse(device.raw());
  const std::string device_code = device.device_code();
  const std::string user_code = device.user_code();
  EXPECT_EQ(device_code, start["device_code"].str());
  EXPECT_EQ(user_code, start["user_code"].str());
  EXPECT_EQ(device.verification_uri(), start["verification_uri"].str());
  EXPECT_FALSE(device.verification_uri().empty());
  ASSERT_TRUE(device.expires_in().has_value());
  EXPECT_EQ(device.expires_in()->count(), static_cast<long>(start["expires_in"].number()));
  if (start.has("verification_uri_complete")) {
    EXPECT_EQ(device.verification_uri_complete(), start["verification_uri_complete"].str());
  }

  const soidc::Result<soidc::TokenResponse> pending_result = client().try_device_authorization_poll(device_code);
  ASSERT_FALSE(pending_result.ok());
  const soidc::Error& pending = pending_result.error();
  EXPECT_EQ(pending.status(), SOIDC_ERR_PENDING) << pending.document();
  EXPECT_EQ(pending.string_member("error"), std::optional<std::string>("authorization_pending"));

  const Json approved = Json::parse(test::post_json(
      "/test/device/approve", "{\"user_code\":" + soidc::json_quote(user_code) + ",\"user\":\"alice\"}"));
  EXPECT_TRUE(approved["ok"].boolean());

  // Pass on the provider's interval and expiry (the library's defaults apply when absent).
  std::string options = "{\"wait\": true, \"timeout_ms\": 60000";
  for (const char* member : {"interval", "expires_in"}) {
    if (start.has(member)) {
      options += std::string(", \"") + member +
                 "\": " + std::to_string(static_cast<long>(start[member].number()));
    }
  }
  options += "}";
  const soidc::TokenResponse tokens = client().device_authorization_poll(device_code, options);
  EXPECT_EQ(tokens.id_token_claims()->sub(), "alice");
  EXPECT_FALSE(tokens.access_token().empty());
}

TEST_F(Provider, UserinfoWithExpectedSub) {
  const std::string access_token = alice_tokens("openid profile email").access_token();
  const soidc::Claims info = client().fetch_userinfo(access_token, R"({"expected_sub": "alice"})");
  EXPECT_EQ(info.sub(), "alice");
  EXPECT_EQ(info.get<std::string>("/email"), "alice@example.test");
  EXPECT_EQ(Json::parse(info.raw())["email"].str(), "alice@example.test");

  const soidc::Error other =
      expect_error([&] { (void)client().fetch_userinfo(access_token, R"({"expected_sub": "bob"})"); });
  EXPECT_EQ(other.status(), SOIDC_ERR_VALIDATION) << other.document();

  const soidc::Error invalid = expect_error([] { (void)client().fetch_userinfo("not-a-valid-access-token"); });
  EXPECT_EQ(invalid.status(), SOIDC_ERR_PROVIDER) << invalid.document();
  EXPECT_EQ(invalid.string_member("error"), std::optional<std::string>("invalid_token"));
}

TEST_F(Provider, IntrospectionAndRevocation) {
  const std::string access_token = alice_tokens("openid").access_token();
  const soidc::Introspection active = client().introspect_token(access_token, "access_token");
  EXPECT_TRUE(active.active());
  EXPECT_TRUE(Json::parse(active.raw())["active"].boolean());
  EXPECT_EQ(active.sub(), "alice");
  EXPECT_EQ(active.client_id(), kClientId);
  ASSERT_TRUE(active.exp().has_value());
  EXPECT_GT(*active.exp(), std::chrono::system_clock::now());

  EXPECT_NO_THROW(client().revoke_token(access_token, "access_token"));
  EXPECT_TRUE(client().try_revoke_token(access_token, "access_token").ok());

  const soidc::Introspection inactive = client().introspect_token(access_token);
  EXPECT_FALSE(inactive.active());
  EXPECT_FALSE(Json::parse(inactive.raw())["active"].boolean());
  EXPECT_EQ(inactive.sub(), std::nullopt);
}

TEST_F(Provider, LogoutUrl) {
  const std::string id_token = alice_tokens("openid").id_token().value_or("");
  const std::string request = "{\"id_token_hint\":" + soidc::json_quote(id_token) +
                              ",\"post_logout_redirect_uri\":\"http://127.0.0.1:9/logged-out\","
                              "\"state\":\"logout-state-1\"}";
  const std::string url = client().initiate_logout(request);
  const std::string end_session = client().provider_config().end_session_endpoint().value_or("?");
  EXPECT_EQ(url.rfind(end_session + "?", 0), 0u) << url;
  EXPECT_EQ(test::query_param(url, "state"), "logout-state-1");
  EXPECT_EQ(test::query_param(url, "post_logout_redirect_uri"), "http://127.0.0.1:9/logged-out");
  EXPECT_EQ(test::query_param(url, "id_token_hint"), id_token);

  const soidc::Error bad = expect_error([] { (void)client().initiate_logout(R"({"no_such_key": 1})"); });
  EXPECT_EQ(bad.status(), SOIDC_ERR_INVALID_ARGUMENT) << bad.document();
}

TEST_F(Provider, AuthorizationCodeFlowWithBrowser) {
  const soidc::AuthStart auth = client().auth_code_start(R"({"scope": "openid email"})");
  const Json start = Json::parse(auth.raw());
  EXPECT_EQ(auth.url(), start["url"].str());
  EXPECT_EQ(auth.state(), start["state"].str());
  EXPECT_EQ(auth.nonce(), start["nonce"].str());
  EXPECT_EQ(auth.code_verifier(), start["code_verifier"].str());
  EXPECT_EQ(auth.redirect_uri(), kRedirectUri);
  const std::string callback = test::browser(auth.url(), "alice", "alice-password");
  ASSERT_EQ(callback.rfind(std::string(kRedirectUri) + "?", 0), 0u) << callback;

  // result_options() carries state, nonce, code_verifier and redirect_uri over.
  const std::string options = auth.result_options();
  const Json parsed_options = Json::parse(options);
  EXPECT_EQ(parsed_options["code_verifier"].str(), start["code_verifier"].str());
  const soidc::TokenResponse result = client().auth_code_handle_result(callback, options);
  ASSERT_TRUE(result.id_token_claims().has_value());
  EXPECT_EQ(result.id_token_claims()->sub(), "alice");
  EXPECT_EQ(result.id_token_claims()->nonce(), auth.nonce());
  EXPECT_EQ(result.id_token_claims()->get<std::string>("/email"), "alice@example.test");
  EXPECT_FALSE(result.access_token().empty());

  // The code is single-use: handling the same redirect again is refused by the provider.
  const soidc::Error replay = expect_error([&] { (void)client().auth_code_handle_result(callback, options); });
  EXPECT_EQ(replay.status(), SOIDC_ERR_PROVIDER) << replay.document();
}

TEST_F(Provider, PushedSignedRequestAndFormPostJwt) {
  // PAR and a signed request object are options; the answer comes as form_post.jwt.
  const soidc::AuthStart auth =
      client().auth_code_start(R"({"par": true, "request_object": "signed", "response_mode": "form_post.jwt"})");
  EXPECT_FALSE(test::query_param(auth.url(), "request_uri").empty()) << auth.url();
  EXPECT_TRUE(test::query_param(auth.url(), "state").empty()) << auth.url();
  // browser.mjs prints "POST <action> <body>" for a form_post answer.
  const std::string post = test::browser(auth.url(), "alice", "alice-password");
  const std::string prefix = std::string("POST ") + kRedirectUri + " ";
  ASSERT_EQ(post.rfind(prefix, 0), 0u) << post;
  const std::string body = post.substr(prefix.size());
  ASSERT_EQ(body.rfind("response=", 0), 0u) << body;

  const soidc::Error type = expect_error([&] {
    (void)client().auth_code_handle_form_post("text/plain", body, auth.result_options());
  });
  EXPECT_EQ(type.status(), SOIDC_ERR_INVALID_ARGUMENT) << type.document();
  const soidc::Error state = expect_error([&] {
    (void)client().auth_code_handle_form_post("application/x-www-form-urlencoded", body, R"({"state":"other"})");
  });
  EXPECT_EQ(state.status(), SOIDC_ERR_VALIDATION) << state.document();
  const soidc::Result<soidc::TokenResponse> nul =
      client().try_auth_code_handle_form_post("application/x-www-form-urlencoded", std::string("a\0b", 3));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().status(), SOIDC_ERR_INVALID_ARGUMENT);

  const soidc::TokenResponse result =
      client().auth_code_handle_form_post("application/x-www-form-urlencoded", body, auth.result_options());
  ASSERT_TRUE(result.id_token_claims().has_value());
  EXPECT_EQ(result.id_token_claims()->sub(), "alice");
  EXPECT_EQ(result.id_token_claims()->nonce(), auth.nonce());
}

TEST_F(Provider, AuthorizationCodeExchange) {
  const soidc::AuthStart start = client().auth_code_start();
  const std::string callback = test::browser(start.url(), "alice", "alice-password");
  const std::string code = test::query_param(callback, "code");
  ASSERT_FALSE(code.empty()) << callback;
  const std::string options = "{\"nonce\":" + soidc::json_quote(start.nonce().value_or("")) +
                              ",\"code_verifier\":" + soidc::json_quote(start.code_verifier().value_or("")) + "}";
  const soidc::TokenResponse tokens = client().auth_code_exchange(code, options);
  EXPECT_EQ(tokens.id_token_claims()->sub(), "alice");
}

TEST_F(Provider, WrongStateAndDeniedLogin) {
  const Json start = Json::parse(client().auth_code_start().raw());
  const std::string callback = test::browser(start["url"].str(), "alice", "alice-password");
  const std::string wrong_state = "{\"state\":\"not-the-state\",\"nonce\":" +
                                  soidc::json_quote(start["nonce"].str()) + ",\"code_verifier\":" +
                                  soidc::json_quote(start["code_verifier"].str()) + "}";
  const soidc::Error state = expect_error([&] { (void)client().auth_code_handle_result(callback, wrong_state); });
  EXPECT_EQ(state.status(), SOIDC_ERR_VALIDATION) << state.document();

  const Json denied_start = Json::parse(client().auth_code_start().raw());
  const std::string denied =
      test::browser(denied_start["url"].str(), "alice", "alice-password", {"--deny"});
  const std::string options = "{\"state\":" + soidc::json_quote(denied_start["state"].str()) + "}";
  const soidc::Error e = expect_error([&] { (void)client().auth_code_handle_result(denied, options); });
  EXPECT_EQ(e.status(), SOIDC_ERR_AUTHENTICATION_FAILED) << e.document();
  EXPECT_EQ(e.string_member("error"), std::optional<std::string>("access_denied"));
}

TEST_F(Provider, BackChannelLogoutToken) {
  soidc::ClientSettings settings;
  settings.client_id = "conf-bcl";
  settings.client_secret = "conf-bcl-secret-0123456789abcdef";
  const soidc::Client bcl = soidc::Client::from_issuer_url(test::issuer(), settings);
  const Json sent = Json::parse(
      test::post_json("/test/backchannel-logout", R"({"user":"alice","client_id":"conf-bcl"})"));
  ASSERT_FALSE(sent["logout_tokens"].array().empty());
  const std::string logout_token = sent["logout_tokens"].array().back().str();

  const soidc::Claims claims = bcl.decode_logout_token(logout_token);
  EXPECT_EQ(claims.sub(), "alice");
  EXPECT_TRUE(Json::parse(claims.raw())["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
  // A member name with '/' inside, through the pointer escape ~1.
  const soidc::JsonValue* event = claims.json().at("/events/http:~1~1schemas.openid.net~1event~1backchannel-logout");
  ASSERT_NE(event, nullptr);
  EXPECT_TRUE(event->is_object());
  EXPECT_FALSE(claims.sid().value_or("").empty());
  EXPECT_EQ(claims.aud(), std::vector<std::string>{"conf-bcl"});

  // Not for conf-basic: the audience check fails.
  const soidc::Error e = expect_error([&] { (void)client().decode_logout_token(logout_token); });
  EXPECT_EQ(e.status(), SOIDC_ERR_VALIDATION) << e.document();
}

TEST_F(Provider, UnsupportedByProvider) {
  // The discovered metadata with the userinfo endpoint renamed away (unknown members are kept).
  std::string config = client().provider_config().raw();
  const std::size_t at = config.find("\"userinfo_endpoint\"");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 19, "\"x_userinfo_endpoint\"");
  const soidc::Client no_userinfo = soidc::Client::from_issuer_config(config, conf_basic());
  const soidc::Error e = expect_error([&] { (void)no_userinfo.fetch_userinfo("some-access-token"); });
  EXPECT_EQ(e.status(), SOIDC_ERR_UNSUPPORTED_BY_PROVIDER) << e.document();
  EXPECT_EQ(e.status_name(), "unsupported_by_provider");
}

TEST_F(Provider, DiscoveryAndOptionErrors) {
  const soidc::Error unreachable = expect_error(
      [] { (void)soidc::Client::from_issuer_url("http://127.0.0.1:1", {"conf-basic"}); });
  EXPECT_EQ(unreachable.status(), SOIDC_ERR_NETWORK) << unreachable.document();

  const soidc::Error not_found = expect_error(
      [] { (void)soidc::Client::from_issuer_url(test::issuer() + "/no-such-tenant", {"conf-basic"}); });
  EXPECT_TRUE(not_found.status() == SOIDC_ERR_HTTP || not_found.status() == SOIDC_ERR_PROTOCOL)
      << not_found.document();

  const soidc::Error unknown_option = expect_error(
      [] { (void)client().client_credentials_grant(nullptr, R"({"no_such_option": 1})"); });
  EXPECT_EQ(unknown_option.status(), SOIDC_ERR_INVALID_ARGUMENT) << unknown_option.document();
}

TEST_F(Provider, MoveSemantics) {
  soidc::Client a = soidc::Client::from_issuer_url(test::issuer(), conf_basic());
  const soidc_client* handle = a.native_handle();
  ASSERT_NE(handle, nullptr);

  soidc::Client b = std::move(a);
  EXPECT_FALSE(a);  // a moved-from client is documented as empty
  EXPECT_TRUE(b);
  EXPECT_EQ(b.native_handle(), handle);
  const soidc::Error e = expect_error([&] { (void)a.provider_config(); });
  EXPECT_EQ(e.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(e.message().find("soidc::Client::provider_config called on an empty"), std::string::npos)
      << e.message();
  EXPECT_EQ(b.provider_config().issuer(), test::issuer());

  // Move assignment into a client that holds a handle frees the old one (LSan checks).
  soidc::Client c = soidc::Client::from_issuer_url(test::issuer(), {"public-pkce"});
  c = std::move(b);
  EXPECT_EQ(c.native_handle(), handle);
  EXPECT_EQ(c.get_type(), soidc::ClientType::Confidential);

  // A moved-from client can be assigned again and is usable.
  a = std::move(c);
  EXPECT_TRUE(a);
  EXPECT_FALSE(a.client_credentials_grant().access_token().empty());
}

TEST_F(Provider, AcrValidatorLambda) {
  const std::string id_token = alice_tokens("openid").id_token().value_or("");

  // A capturing lambda that accepts and records what it saw.
  int calls = 0;
  std::optional<std::string> seen;
  bool had_acr = true;
  const soidc::Claims claims = client().decode_id_token(
      id_token, nullptr, [&](std::optional<std::string_view> acr) {
        ++calls;
        had_acr = acr.has_value();
        if (acr) seen = std::string(*acr);
        return true;
      });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(claims.sub(), "alice");
  // The callback sees exactly the token's acr, or nullopt when it has none.
  EXPECT_EQ(had_acr, claims.acr().has_value());
  EXPECT_EQ(seen, claims.acr());

  // Requiring an acr the token does not have rejects it.
  const std::string required = "urn:example:acr:hardware-key";
  const soidc::Error rejected = expect_error([&] {
    (void)client().decode_id_token(id_token, nullptr, [&required](std::optional<std::string_view> acr) {
      return acr.has_value() && *acr == required;
    });
  });
  EXPECT_EQ(rejected.status(), SOIDC_ERR_VALIDATION) << rejected.document();
  EXPECT_NE(rejected.message().find("acr"), std::string::npos) << rejected.message();

  // An exception inside the validator is caught in the trampoline and rejects the token.
  const soidc::Error thrown = expect_error([&] {
    (void)client().decode_id_token(id_token, nullptr, [](std::optional<std::string_view>) -> bool {
      throw std::runtime_error("validator failed");
    });
  });
  EXPECT_EQ(thrown.status(), SOIDC_ERR_VALIDATION) << thrown.document();

  // An empty AcrValidator means no acr check.
  EXPECT_NO_THROW((void)client().decode_id_token(id_token, nullptr, soidc::AcrValidator()));
}

TEST_F(Provider, LogCallback) {
  std::mutex mutex;
  std::vector<std::pair<soidc::LogLevel, std::string>> messages;
  soidc::set_log_callback(
      [&](soidc::LogLevel level, std::string_view message) {
        const std::lock_guard<std::mutex> lock(mutex);
        messages.emplace_back(level, std::string(message));
      },
      soidc::LogLevel::Trace);
  (void)client().provider_keys(R"({"force_refresh": true})");
  (void)alice_tokens("openid");
  soidc::set_log_callback(nullptr);
  const std::size_t count = messages.size();
  (void)client().provider_keys(R"({"force_refresh": true})");
  EXPECT_EQ(messages.size(), count) << "messages arrived after set_log_callback(nullptr)";

  ASSERT_FALSE(messages.empty());
  for (const auto& [level, message] : messages) {
    EXPECT_GE(static_cast<int>(level), SOIDC_LOG_ERROR);
    EXPECT_LE(static_cast<int>(level), SOIDC_LOG_TRACE);
    EXPECT_EQ(message.find("alice-password"), std::string::npos) << message;
    EXPECT_EQ(message.find(kClientSecret), std::string::npos) << message;
  }

  // A throwing callback never breaks the call it logs.
  std::atomic<int> thrown{0};
  soidc::set_log_callback(
      [&thrown](soidc::LogLevel, std::string_view) {
        ++thrown;
        throw std::runtime_error("log sink failed");
      },
      soidc::LogLevel::Trace);
  EXPECT_NO_THROW((void)client().provider_keys(R"({"force_refresh": true})"));
  soidc::set_log_callback(nullptr);
  EXPECT_GT(thrown.load(), 0);
}

TEST_F(Provider, PerClientLogCallback) {
  std::mutex mutex;
  std::vector<std::string> mine;
  soidc::Client own = soidc::Client::from_issuer_url(test::issuer(), conf_basic());
  own.set_log_callback(
      [&](soidc::LogLevel, std::string_view message) {
        const std::lock_guard<std::mutex> lock(mutex);
        mine.emplace_back(message);
      },
      soidc::LogLevel::Trace);
  (void)own.provider_keys(R"({"force_refresh": true})");
  ASSERT_FALSE(mine.empty()) << "the client's own callback received nothing";
  const std::size_t count = mine.size();
  (void)client().provider_keys(R"({"force_refresh": true})");  // another client: not ours
  EXPECT_EQ(mine.size(), count);
  own.set_log_callback(nullptr, soidc::LogLevel::Trace);
  (void)own.provider_keys(R"({"force_refresh": true})");
  EXPECT_EQ(mine.size(), count) << "messages arrived after the callback was removed";
}

TEST_F(Provider, ConstClientSharedByThreads) {
  const soidc::Client& shared = client();
  const std::string id_token = alice_tokens("openid").id_token().value_or("");
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        try {
          const soidc::Claims claims = shared.decode_id_token(id_token);
          if (claims.sub() == "alice") ++ok; else ++failed;
        } catch (...) {
          ++failed;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(failed.load(), 0);
}

std::string base64url(const std::string& in) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

// Error::reason() for real tokens of the provider: no keys cached yet (a client made
// from metadata, cache_only), a signature that belongs to another token, a kid the
// provider does not have, the wrong audience.
TEST_F(Provider, ValidationReasonsOfRealTokens) {
  const std::string token = client().client_credentials_grant("api:read", R"({"resource": "https://api.soidc.test"})")
                                .access_token();
  const std::string other = client().client_credentials_grant("api:read", R"({"resource": "https://api.soidc.test"})")
                                .access_token();
  const std::string options = R"({"audience": "https://api.soidc.test"})";
  const std::string cache_only = R"({"audience": "https://api.soidc.test", "cache_only": true})";

  // No keys yet: the token was not checked at all (a server answers 503, not 401).
  const soidc::Client fresh = soidc::Client::from_issuer_config(client().provider_config().raw(), conf_basic());
  const soidc::Result<soidc::Claims> no_keys = fresh.try_decode_access_token(token, cache_only);
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.error().status(), SOIDC_ERR_VALIDATION);
  EXPECT_EQ(no_keys.error().reason(), soidc::reason::no_keys_cached) << no_keys.error().document();
  (void)fresh.provider_keys();
  EXPECT_EQ(fresh.decode_access_token(token, cache_only).client_id(), kClientId);

  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.rfind('.');
  const std::string swapped_signature = token.substr(0, dot2) + other.substr(other.rfind('.'));
  const soidc::Error signature = expect_error([&] { (void)client().decode_access_token(swapped_signature, options); });
  EXPECT_EQ(signature.reason(), soidc::reason::signature) << signature.document();

  const std::string header = base64url(R"({"alg":"RS256","kid":"no-such-key-id","typ":"at+jwt"})");
  const std::string unknown_kid = header + token.substr(dot1);
  const soidc::Error kid = expect_error([&] { (void)client().decode_access_token(unknown_kid, options); });
  EXPECT_EQ(kid.reason(), soidc::reason::unknown_kid) << kid.document();

  const soidc::Result<soidc::Claims> audience = client().try_decode_access_token(token, R"({"audience": "https://x.test"})");
  ASSERT_FALSE(audience.ok());
  EXPECT_EQ(audience.error().reason(), soidc::reason::audience) << audience.error().document();
}

// ---------------------------------------------------------------------------
// The library's newer options and the per-client log callback at creation
// ---------------------------------------------------------------------------

// A thread-safe record of log messages.
struct LogRecord {
  std::mutex mutex;
  std::vector<std::pair<soidc::LogLevel, std::string>> messages;

  void add(soidc::LogLevel level, std::string_view message) {
    const std::lock_guard<std::mutex> lock(mutex);
    messages.emplace_back(level, std::string(message));
  }
  // Whether one message contains every part.
  bool has(std::initializer_list<std::string_view> parts) {
    const std::lock_guard<std::mutex> lock(mutex);
    return std::any_of(messages.begin(), messages.end(), [&](const auto& m) {
      return std::all_of(parts.begin(), parts.end(),
                         [&](std::string_view p) { return m.second.find(p) != std::string::npos; });
    });
  }
  std::size_t size() {
    const std::lock_guard<std::mutex> lock(mutex);
    return messages.size();
  }
  std::string dump() {
    const std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (const auto& m : messages) out += m.second + "\n";
    return out;
  }
};

TEST_F(Provider, CreationLogCallbackReceivesTheDiscovery) {
  LogRecord global;
  LogRecord own;
  soidc::set_log_callback([&](soidc::LogLevel l, std::string_view m) { global.add(l, m); }, soidc::LogLevel::Trace);
  {
    const soidc::Client c = soidc::Client::from_issuer_url(
        test::issuer(), conf_basic(), [&own](soidc::LogLevel l, std::string_view m) { own.add(l, m); },
        soidc::LogLevel::Debug);
    EXPECT_TRUE(own.has({"discovery", "HTTP 200"})) << own.dump();
    EXPECT_TRUE(own.has({"client conf-basic", "ready"})) << own.dump();
    EXPECT_FALSE(global.has({"client conf-basic"})) << "the process-wide callback got the client's messages:\n"
                                                   << global.dump();
    EXPECT_FALSE(own.has({kClientSecret})) << own.dump();
    // It stays the client's callback.
    const std::size_t before = own.size();
    (void)c.provider_keys(R"({"force_refresh": true})");
    EXPECT_GT(own.size(), before);

    // Moving the client keeps the callable alive with the handle.
    soidc::Client moved = soidc::Client::from_issuer_url(test::issuer(), {"public-pkce"});
    soidc::Client source = soidc::Client::from_issuer_url(
        test::issuer(), conf_basic(), [&own](soidc::LogLevel l, std::string_view m) { own.add(l, m); },
        soidc::LogLevel::Debug);
    moved = std::move(source);
    const std::size_t before_move = own.size();
    (void)moved.provider_keys(R"({"force_refresh": true})");
    EXPECT_GT(own.size(), before_move);
  }
  soidc::set_log_callback(nullptr);

  // A failed creation logs to the callback too; the callable is released afterwards (LSan).
  LogRecord failed;
  const soidc::Result<soidc::Client> missing = soidc::Client::try_from_issuer_url(
      test::issuer() + "/no-such-tenant", conf_basic(),
      [&failed](soidc::LogLevel l, std::string_view m) { failed.add(l, m); }, soidc::LogLevel::Debug);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(failed.has({"discovery"})) << failed.dump();

  // An empty callable is plain from_issuer_url().
  EXPECT_TRUE(soidc::Client::try_from_issuer_url(test::issuer(), conf_basic(), soidc::LogCallback(),
                                                 soidc::LogLevel::Debug)
                  .ok());
}

// A listening socket that never accepts: connections complete in the backlog,
// requests are sent, and nothing ever answers.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~SilentServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  const std::string& url() const { return url_; }

 private:
  int fd_ = -1;
  std::string url_;
};

TEST_F(Provider, CreateTimeoutBoundsTheCreation) {
  const SilentServer silent;
  soidc::ClientSettings settings;
  settings.client_id = "x";
  settings.options_json = R"({"timeout_ms": 20000, "create_timeout_ms": 300})";
  const auto began = std::chrono::steady_clock::now();
  const soidc::Result<soidc::Client> r = soidc::Client::try_from_issuer_url(silent.url(), settings);
  const auto elapsed = std::chrono::steady_clock::now() - began;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status(), SOIDC_ERR_NETWORK) << r.error().document();
  EXPECT_EQ(r.error().reason(), soidc::reason::timeout) << r.error().document();
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::seconds(2)) << "creation took "
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";

  settings.options_json = R"({"create_timeout_ms": 0})";
  const soidc::Result<soidc::Client> zero = soidc::Client::try_from_issuer_url(test::issuer(), settings);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << zero.error().document();
}

// A fresh directory under $TMPDIR holding files written with an exact mode.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/soidc-cpp-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = buf.data();
  }
  ~TempDir() {
    for (const std::string& f : files_) ::unlink(f.c_str());
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string file = path_ + "/" + name;
    ::unlink(file.c_str());
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    EXPECT_GE(fd, 0) << file;
    if (fd < 0) return file;
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    EXPECT_EQ(::fchmod(fd, mode), 0);
    ::close(fd);
    files_.push_back(file);
    return file;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST_F(Provider, SecretAndKeyFiles) {
  TempDir dir;
  soidc::ClientSettings settings;
  settings.client_id = kClientId;
  settings.options_json = "{\"client_secret_file\":" +
                          soidc::json_quote(dir.write("secret", std::string(kClientSecret) + "\n", 0600)) + "}";
  const soidc::Client from_file = soidc::Client::from_issuer_url(test::issuer(), settings);
  EXPECT_EQ(from_file.get_type(), soidc::ClientType::Confidential);
  EXPECT_FALSE(from_file.client_credentials_grant().access_token().empty());

  settings.options_json = "{\"client_secret_file\":" +
                          soidc::json_quote(dir.write("open", std::string(kClientSecret) + "\n", 0644)) + "}";
  const soidc::Result<soidc::Client> open = soidc::Client::try_from_issuer_url(test::issuer(), settings);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << open.error().document();
  EXPECT_EQ(open.error().document().find(kClientSecret), std::string::npos) << "the secret leaked";

  // private_key_jwt with the key from a file (conf-pkjwt knows tests/keys/client-rs256).
  std::ifstream in(test::source_root() + "/tests/keys/client-rs256.pem");
  std::stringstream pem;
  pem << in.rdbuf();
  ASSERT_FALSE(pem.str().empty());
  soidc::ClientSettings pk;
  pk.client_id = "conf-pkjwt";
  pk.options_json = "{\"auth_method\":\"private_key_jwt\",\"private_key_kid\":\"client-rs256\",\"private_key_file\":" +
                    soidc::json_quote(dir.write("key.pem", pem.str(), 0400)) + "}";
  const soidc::Client keyed = soidc::Client::from_issuer_url(test::issuer(), pk);
  EXPECT_FALSE(keyed.client_credentials_grant().access_token().empty());
  pk.options_json = "{\"private_key_kid\":\"client-rs256\",\"private_key_file\":" +
                    soidc::json_quote(dir.write("group.pem", pem.str(), 0640)) + "}";
  const soidc::Result<soidc::Client> group = soidc::Client::try_from_issuer_url(test::issuer(), pk);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << group.error().document();
  EXPECT_EQ(group.error().document().find("PRIVATE KEY"), std::string::npos);
}

TEST_F(Provider, IgnoreNonceAcceptsATokenWhoseNonceIsNotAtHand) {
  const soidc::TokenResponse tokens = alice_tokens(
      "openid", R"({"nonce": "nonce-cpp-ignore", "extra_params": {"nonce": "nonce-cpp-ignore"}})");
  const std::string id_token = tokens.id_token().value_or("");
  const soidc::Result<soidc::Claims> refused = client().try_decode_id_token(id_token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status(), SOIDC_ERR_VALIDATION);
  EXPECT_EQ(refused.error().reason(), soidc::reason::nonce) << refused.error().document();

  const soidc::Claims claims = client().decode_id_token(id_token, R"({"ignore_nonce": true})");
  EXPECT_EQ(claims.sub(), "alice");
  EXPECT_EQ(claims.nonce(), "nonce-cpp-ignore");

  const soidc::Result<soidc::Claims> both =
      client().try_decode_id_token(id_token, R"({"ignore_nonce": true, "nonce": "nonce-cpp-ignore"})");
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << both.error().document();
}

TEST_F(Provider, FractionalMinIatAndAcrValuesAllowed) {
  const std::string id_token = alice_tokens("openid").id_token().value_or("");
  const soidc::Claims claims = client().decode_id_token(id_token);
  ASSERT_TRUE(claims.get<std::int64_t>("/iat").has_value());
  const std::int64_t iat = *claims.get<std::int64_t>("/iat");
  EXPECT_TRUE(client().try_decode_id_token(id_token, "{\"min_iat\": " + std::to_string(iat - 1) + ".5}").ok());
  const soidc::Result<soidc::Claims> later =
      client().try_decode_id_token(id_token, "{\"min_iat\": " + std::to_string(iat) + ".5}");
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error().status(), SOIDC_ERR_VALIDATION) << later.error().document();
  EXPECT_NE(later.error().message().find("min_iat"), std::string::npos) << later.error().message();

  // acr_values_allowed: the token's acr (if any) passes, another list refuses it.
  if (claims.acr()) {
    EXPECT_TRUE(client()
                    .try_decode_id_token(id_token, "{\"acr_values_allowed\": [\"urn:x\", " +
                                                       soidc::json_quote(*claims.acr()) + "]}")
                    .ok());
  }
  const soidc::Result<soidc::Claims> acr =
      client().try_decode_id_token(id_token, R"({"acr_values_allowed": ["urn:example:acr:hardware-key"]})");
  ASSERT_FALSE(acr.ok());
  EXPECT_EQ(acr.error().reason(), soidc::reason::acr) << acr.error().document();
  // The list is checked before the callback, which then never runs.
  bool called = false;
  const soidc::Result<soidc::Claims> acr_first = client().try_decode_id_token(
      id_token, R"({"acr_values_allowed": ["urn:example:acr:hardware-key"]})",
      [&called](std::optional<std::string_view>) { return called = true; });
  ASSERT_FALSE(acr_first.ok());
  EXPECT_FALSE(called);
}

TEST_F(Provider, AccessTokenAudienceList) {
  const std::string token =
      client().client_credentials_grant("api:read", R"({"resource": "https://api.soidc.test"})").access_token();
  const soidc::Claims claims =
      client().decode_access_token(token, R"({"audience": ["https://other.test", "https://api.soidc.test"]})");
  EXPECT_EQ(claims.aud(), std::vector<std::string>{kApi});
  const soidc::Result<soidc::Claims> none =
      client().try_decode_access_token(token, R"({"audience": ["https://other.test", "https://third.test"]})");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason(), soidc::reason::audience) << none.error().document();
  const soidc::Result<soidc::Claims> empty = client().try_decode_access_token(token, R"({"audience": []})");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << empty.error().document();
}

TEST_F(Provider, LogoutTokenExpOptions) {
  soidc::ClientSettings settings;
  settings.client_id = "conf-bcl";
  settings.client_secret = "conf-bcl-secret-0123456789abcdef";
  const soidc::Client bcl = soidc::Client::from_issuer_url(test::issuer(), settings);
  const Json sent = Json::parse(
      test::post_json("/test/backchannel-logout", R"({"user":"alice","client_id":"conf-bcl"})"));
  ASSERT_FALSE(sent["logout_tokens"].array().empty());
  const std::string logout_token = sent["logout_tokens"].array().back().str();
  // The provider's tokens carry exp: allow_missing_exp changes nothing, and they are
  // not tracked for replay.
  for (int i = 0; i < 2; ++i) {
    const soidc::Claims claims = bcl.decode_logout_token(logout_token, R"({"allow_missing_exp": true, "max_age_s": 60})");
    EXPECT_EQ(claims.sub(), "alice");
    EXPECT_TRUE(claims.exp().has_value());
  }
  // max_age_s only with allow_missing_exp, and at most 600.
  for (const char* options : {R"({"max_age_s": 60})", R"({"allow_missing_exp": true, "max_age_s": 601})"}) {
    const soidc::Result<soidc::Claims> r = bcl.try_decode_logout_token(logout_token, options);
    ASSERT_FALSE(r.ok()) << options;
    EXPECT_EQ(r.error().status(), SOIDC_ERR_INVALID_ARGUMENT) << r.error().document();
  }
}

TEST_F(Provider, ExportStateAndFromState) {
  (void)client().provider_keys();
  const soidc::Document state = client().export_state();
  const Json doc = Json::parse(state.raw());
  EXPECT_EQ(doc["issuer"].str(), test::issuer());
  EXPECT_EQ(state.raw().find(kClientSecret), std::string::npos) << "no secret in the state";
  soidc::ClientSettings settings = conf_basic();
  settings.options_json = R"({"timeout_ms": 5000})";
  const soidc::Client replica = soidc::Client::from_state(state.raw(), test::issuer(), settings);
  // The keys came with the state: a cache_only read and a decode work without a fetch.
  EXPECT_EQ(replica.provider_keys(R"({"cache_only": true})").key_ids(), client().provider_keys().key_ids());
  const soidc::TokenResponse tokens = alice_tokens("openid");
  ASSERT_TRUE(tokens.id_token().has_value());
  EXPECT_EQ(replica.decode_id_token(*tokens.id_token(), R"({"cache_only": true})").sub(), "alice");
  EXPECT_EQ(replica.export_state().raw(), state.raw());

  // Refused whole: another issuer, a truncated document, options that are not an object.
  const soidc::Result<soidc::Client> foreign = soidc::Client::try_from_state(state.raw(), "https://other.example", conf_basic());
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  const soidc::Result<soidc::Client> truncated =
      soidc::Client::try_from_state(state.raw().substr(0, state.raw().size() / 2), test::issuer(), conf_basic());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  settings.options_json = "[1]";
  EXPECT_EQ(soidc::Client::try_from_state(state.raw(), test::issuer(), settings).error().status(),
            SOIDC_ERR_INVALID_ARGUMENT);
  const soidc::Client empty;
  EXPECT_EQ(empty.try_export_state().error().status(), SOIDC_ERR_INVALID_ARGUMENT);
}

// DPoP (RFC 9449): a client with the option dpop obtains tokens bound to its key (the
// provider's introspection shows cnf.jkt = the key's thumbprint); dpop_jwk() and
// dpop_proof() give the public key and proofs for the host's own requests.
TEST_F(Provider, DpopBoundTokensAndProofs) {
  soidc::ClientSettings settings;
  settings.client_id = "dpop-bound";
  settings.client_secret = "dpop-bound-secret-0123456789abcdef";
  settings.redirect_uri = kRedirectUri;
  settings.options_json = R"({"dpop": "EdDSA"})";
  const soidc::Client dpop = soidc::Client::from_issuer_url(test::issuer(), settings);
  const soidc::DpopKey key = soidc::dpop_jwk(dpop);
  ASSERT_NE(key.jwk(), nullptr);
  EXPECT_EQ(Json::parse(key.raw())["jwk"]["crv"].str(), "Ed25519");
  EXPECT_FALSE(Json::parse(key.raw())["jwk"].has("d"));
  EXPECT_EQ(key.jkt(), Json::parse(key.raw())["jkt"].str());

  const soidc::TokenResponse tokens = dpop.client_credentials_grant();
  EXPECT_EQ(tokens.token_type(), "DPoP");
  const soidc::Introspection seen = dpop.introspect_token(tokens.access_token(), "access_token");
  EXPECT_TRUE(seen.active());
  EXPECT_EQ(Json::parse(seen.raw())["cnf"]["jkt"].str(), key.jkt());

  const std::string proof =
      soidc::dpop_proof(dpop, "GET", "https://api.example/items?x=1", tokens.access_token(), R"({"nonce": "n-1"})");
  EXPECT_EQ(std::count(proof.begin(), proof.end(), '.'), 2) << proof;
  EXPECT_NE(proof, soidc::dpop_proof(dpop, "GET", "https://api.example/items")) << "a new proof each time";

  // The test provider's password grant does not bind tokens: refused as unbound.
  const soidc::Error unbound =
      expect_error([&] { (void)dpop.direct_access_grant("alice", "alice-password", "openid"); });
  EXPECT_EQ(unbound.status(), SOIDC_ERR_PROTOCOL) << unbound.document();
  EXPECT_EQ(unbound.reason(), soidc::reason::dpop_not_bound) << unbound.document();

  // A client without DPoP, bad arguments and a NUL byte: SOIDC_ERR_INVALID_ARGUMENT.
  EXPECT_EQ(soidc::try_dpop_jwk(client()).error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(soidc::try_dpop_proof(client(), "GET", "https://api.example/").error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(soidc::try_dpop_proof(dpop, "GE T", "https://api.example/").error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(soidc::try_dpop_proof(dpop, "GET", "/relative").error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(soidc::try_dpop_proof(dpop, "GET", std::string_view("https://a\0b", 11)).error().status(),
            SOIDC_ERR_INVALID_ARGUMENT);
  const soidc::Client empty;
  EXPECT_EQ(soidc::try_dpop_jwk(empty).error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(soidc::try_dpop_proof(empty, "GET", "https://api.example/").error().status(), SOIDC_ERR_INVALID_ARGUMENT);
}

}  // namespace
