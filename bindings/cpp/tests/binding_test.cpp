// Tests of the binding itself that need no provider: version and status names,
// soidc::Error, the JSON helpers, NullableString, empty clients, argument checks,
// and clients made from static provider metadata (no network access).
#include <soidc.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <type_traits>
#include <vector>

// Defined in header_alone.cpp (another translation unit including soidc.hpp).
soidc::Client make_client_in_other_translation_unit(const std::string& metadata,
                                                    const soidc::ClientSettings& settings);
std::string_view version_from_other_translation_unit();

namespace {

static_assert(!std::is_copy_constructible_v<soidc::Client>, "Client is move-only");
static_assert(!std::is_copy_assignable_v<soidc::Client>, "Client is move-only");
static_assert(std::is_nothrow_move_constructible_v<soidc::Client>, "moving a Client never throws");
static_assert(std::is_nothrow_move_assignable_v<soidc::Client>, "moving a Client never throws");
static_assert(std::is_base_of_v<std::runtime_error, soidc::Error>, "Error is a runtime_error");
static_assert(std::is_nothrow_copy_constructible_v<soidc::Error>,
              "copying an exception must not throw");

// Static metadata of a provider that does not exist: enough for the functions that
// never touch the network. It has no end_session_endpoint and no userinfo_endpoint.
const std::string kMetadata = R"({
  "issuer": "https://op.example.test",
  "authorization_endpoint": "https://op.example.test/auth",
  "token_endpoint": "https://op.example.test/token",
  "jwks_uri": "https://op.example.test/jwks",
  "response_types_supported": ["code"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256"],
  "x_unknown_member": {"kept": true}
})";

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

TEST(Version, MatchesHeaderAndOtherTranslationUnit) {
  EXPECT_EQ(soidc::version(), SOIDC_VERSION_STRING);
  EXPECT_EQ(version_from_other_translation_unit(), soidc::version());
}

TEST(StatusName, NamesCodesAsErrorDocumentsDo) {
  EXPECT_EQ(soidc::status_name(SOIDC_OK), "ok");
  EXPECT_EQ(soidc::status_name(SOIDC_ERR_INVALID_ARGUMENT), "invalid_argument");
  EXPECT_EQ(soidc::status_name(SOIDC_ERR_PROVIDER), "provider");
  EXPECT_EQ(soidc::status_name(SOIDC_ERR_VALIDATION), "validation");
  EXPECT_EQ(soidc::status_name(SOIDC_ERR_PENDING), "pending");
  EXPECT_EQ(soidc::status_name(12345), "unknown");
  EXPECT_EQ(soidc::status_name(-1), "unknown");
}

TEST(Error, ExtractsMessageWithEscapesAndKeepsDocument) {
  const std::string doc =
      R"({"status":"validation","nested":{"message":"not this one"},)"
      R"("message":"aud [\"other\"] does not contain client_id \"web\" \\ caf\u00e9 \ud83d\ude00",)"
      R"("error":"invalid_token"})";
  const soidc::Error e(SOIDC_ERR_VALIDATION, doc);
  EXPECT_EQ(e.status(), SOIDC_ERR_VALIDATION);
  EXPECT_EQ(e.status_name(), "validation");
  EXPECT_EQ(e.message(),
            "aud [\"other\"] does not contain client_id \"web\" \\ caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(std::string(e.what()), "validation: " + e.message());
  EXPECT_EQ(e.document(), doc);
  EXPECT_EQ(e.string_member("error"), std::optional<std::string>("invalid_token"));
  EXPECT_EQ(e.string_member("error_description"), std::nullopt);

  const soidc::Error copy = e;  // shares its state
  EXPECT_EQ(copy.message(), e.message());
  EXPECT_EQ(&copy.document(), &e.document());
}

TEST(Error, WithoutMessageMember) {
  const soidc::Error no_message(SOIDC_ERR_HTTP, R"({"status":"http"})");
  EXPECT_EQ(no_message.message(), R"({"status":"http"})");
  const soidc::Error empty(SOIDC_ERR_NETWORK, "");
  EXPECT_NE(empty.message().find("no error document"), std::string::npos);
  EXPECT_EQ(std::string(empty.what()).rfind("network: ", 0), 0u);
}

TEST(JsonStringMember, FindsTopLevelStringsOnly) {
  const std::string doc =
      R"( { "a" : {"id_token":"nested","x":["}",{"y":"]"}]}, "n": 12.5e3, "t": true, )"
      R"("z": null, "arr": [1, "id_token"], "k\"ey": "v\n\t\/\u0041", "id_token" : "top" } )";
  EXPECT_EQ(soidc::json_string_member(doc, "id_token"), std::optional<std::string>("top"));
  EXPECT_EQ(soidc::json_string_member(doc, "k\"ey"), std::optional<std::string>("v\n\t/A"));
  EXPECT_EQ(soidc::json_string_member(doc, "n"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member(doc, "a"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member(doc, "missing"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member("[\"id_token\"]", "id_token"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member("", "x"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member(R"({"x":"unterminated)", "x"), std::nullopt);
  EXPECT_EQ(soidc::json_string_member(R"({"x":"lone \ud800 surrogate"})", "x"),
            std::optional<std::string>("lone \xEF\xBF\xBD surrogate"));
}

TEST(JsonQuote, EscapesAndRoundTrips) {
  const std::string text = std::string("a\"b\\c\n\x01/\xC3\xA9") + '\0' + "end";
  const std::string quoted = soidc::json_quote(text);
  EXPECT_EQ(quoted, "\"a\\\"b\\\\c\\n\\u0001/\xC3\xA9\\u0000end\"");
  EXPECT_EQ(soidc::json_string_member("{\"k\":" + quoted + "}", "k"), std::optional<std::string>(text));
}

TEST(NullableString, ConvertsFromTheUsualStringTypes) {
  auto check = [](soidc::NullableString s) { return s.has_value() ? std::string(s.view()) : "<null>"; };
  const char* null_c = nullptr;
  const std::string str = "std";
  const std::optional<std::string> none;
  const std::optional<std::string> some = "opt";
  const std::optional<std::string_view> some_view = std::string_view("view");
  EXPECT_EQ(check(nullptr), "<null>");
  EXPECT_EQ(check(std::nullopt), "<null>");
  EXPECT_EQ(check(null_c), "<null>");
  EXPECT_EQ(check({}), "<null>");
  EXPECT_EQ(check(""), "");
  EXPECT_EQ(check("literal"), "literal");
  EXPECT_EQ(check(str), "std");
  EXPECT_EQ(check(std::string_view("sv")), "sv");
  EXPECT_EQ(check(none), "<null>");
  EXPECT_EQ(check(some), "opt");
  EXPECT_EQ(check(some_view), "view");
}

TEST(EmptyClient, EveryMethodThrowsAClearError) {
  soidc::Client client;  // default-constructed: empty
  EXPECT_FALSE(client);
  EXPECT_EQ(client.native_handle(), nullptr);
  const std::vector<std::function<void()>> calls = {
      [&] { (void)client.get_type(); },
      [&] { (void)client.provider_config(); },
      [&] { (void)client.provider_keys(); },
      [&] { (void)client.auth_code_start(); },
      [&] { client.auth_code_handle_result("http://127.0.0.1:9/callback?code=x"); },
      [&] { client.auth_code_exchange("code"); },
      [&] { client.client_credentials_grant(); },
      [&] { client.direct_access_grant("alice", "alice-password"); },
      [&] { client.exchange_refresh_token("rt"); },
      [&] { client.device_authorization_start(); },
      [&] { client.device_authorization_poll("dc"); },
      [&] { client.fetch_userinfo("at"); },
      [&] { client.introspect_token("at"); },
      [&] { client.revoke_token("at"); },
      [&] { (void)client.initiate_logout(); },
      [&] { (void)client.decode_id_token("x.y.z"); },
      [&] { (void)client.decode_access_token("x.y.z"); },
      [&] { (void)client.decode_logout_token("x.y.z"); },
  };
  for (const auto& call : calls) {
    const soidc::Error e = expect_error(call);
    EXPECT_EQ(e.status(), SOIDC_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("empty (moved-from or default-constructed) client"), std::string::npos)
        << e.message();
    EXPECT_EQ(e.string_member("status"), std::optional<std::string>("invalid_argument"));
  }
}

TEST(OfflineClient, FromIssuerConfigInAnotherTranslationUnit) {
  const soidc::Client confidential =
      make_client_in_other_translation_unit(kMetadata, {"web", "web-secret-0123456789abcdef"});
  ASSERT_TRUE(confidential);
  EXPECT_EQ(confidential.get_type(), soidc::ClientType::Confidential);
  EXPECT_NE(confidential.native_handle(), nullptr);
  EXPECT_EQ(soidc_client_get_type(confidential.native_handle()), SOIDC_CLIENT_CONFIDENTIAL);

  soidc::ClientSettings settings;
  settings.client_id = "cli";
  settings.redirect_uri = "http://127.0.0.1:9/callback";
  const soidc::Client pub = soidc::Client::from_issuer_config(kMetadata, settings);
  EXPECT_EQ(pub.get_type(), soidc::ClientType::Public);

  // Provider metadata is returned as given, unknown members kept.
  const std::string config = pub.provider_config();
  EXPECT_EQ(soidc::json_string_member(config, "issuer"),
            std::optional<std::string>("https://op.example.test"));
  EXPECT_NE(config.find("x_unknown_member"), std::string::npos);

  // The authorization URL is built without the network.
  const std::string start = pub.auth_code_start(R"({"state":"s-1","nonce":"n-1"})");
  const auto url = soidc::json_string_member(start, "url");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->rfind("https://op.example.test/auth?", 0), 0u) << *url;
  EXPECT_NE(url->find("state=s-1"), std::string::npos) << *url;
  EXPECT_NE(url->find("code_challenge_method=S256"), std::string::npos) << *url;
  EXPECT_EQ(soidc::json_string_member(start, "state"), std::optional<std::string>("s-1"));

  // No end_session_endpoint in the metadata.
  const soidc::Error no_logout = expect_error([&] { (void)pub.initiate_logout(); });
  EXPECT_EQ(no_logout.status(), SOIDC_ERR_UNSUPPORTED_BY_PROVIDER) << no_logout.document();
}

TEST(OfflineClient, InvalidArgumentsFromTheLibrary) {
  const soidc::Error bad_json =
      expect_error([] { (void)soidc::Client::from_issuer_config("{not json", {"web"}); });
  EXPECT_EQ(bad_json.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bad_json.string_member("status"), std::optional<std::string>("invalid_argument"));
  EXPECT_FALSE(bad_json.message().empty());

  soidc::ClientSettings typo;
  typo.client_id = "web";
  typo.options_json = R"({"leeway_seconds": 10})";
  const soidc::Error unknown_option =
      expect_error([&] { (void)soidc::Client::from_issuer_config(kMetadata, typo); });
  EXPECT_EQ(unknown_option.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(unknown_option.message().find("leeway_seconds"), std::string::npos)
      << unknown_option.message();

  const soidc::Client client = soidc::Client::from_issuer_config(kMetadata, {"web"});
  const soidc::Error not_a_jwt = expect_error([&] { (void)client.decode_id_token("not-a-jwt"); });
  EXPECT_TRUE(not_a_jwt.status() == SOIDC_ERR_VALIDATION ||
              not_a_jwt.status() == SOIDC_ERR_INVALID_ARGUMENT)
      << not_a_jwt.document();
}

TEST(OfflineClient, NulByteInAnArgumentIsRejectedWithoutEchoingIt) {
  const std::string with_nul("conf-basic-secret\0tail", 22);
  soidc::ClientSettings settings;
  settings.client_id = "web";
  settings.client_secret = with_nul;
  const soidc::Error e =
      expect_error([&] { (void)soidc::Client::from_issuer_config(kMetadata, settings); });
  EXPECT_EQ(e.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(e.message(), "client_secret contains a NUL byte");
  EXPECT_EQ(e.document().find("conf-basic-secret"), std::string::npos);

  const soidc::Client client = soidc::Client::from_issuer_config(kMetadata, {"web"});
  const soidc::Error token = expect_error(
      [&] { (void)client.decode_access_token(std::string_view("a.b\0.c", 6)); });
  EXPECT_EQ(token.message(), "raw_token contains a NUL byte");
}

}  // namespace
