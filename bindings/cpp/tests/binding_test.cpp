// Tests of the binding itself that need no provider: version and status names,
// soidc::Error, the JSON reader (JsonValue, RFC 8259 and RFC 6901) and helpers,
// soidc::Result, the typed results built from documents, NullableString, empty
// clients, argument checks, and clients made from static provider metadata (no
// network access).
#include <soidc.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
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
  // A lone surrogate is not valid text: the document is refused, not patched.
  EXPECT_EQ(soidc::json_string_member(R"({"x":"lone \ud800 surrogate"})", "x"), std::nullopt);
  // So is a document with a duplicate member name (which one would win?).
  EXPECT_EQ(soidc::json_string_member(R"({"x":"a","x":"b"})", "x"), std::nullopt);
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
      [&] { (void)client.auth_code_handle_result("http://127.0.0.1:9/callback?code=x"); },
      [&] { (void)client.auth_code_exchange("code"); },
      [&] { (void)client.client_credentials_grant(); },
      [&] { (void)client.direct_access_grant("alice", "alice-password"); },
      [&] { (void)client.exchange_refresh_token("rt"); },
      [&] { (void)client.device_authorization_start(); },
      [&] { (void)client.device_authorization_poll("dc"); },
      [&] { (void)client.fetch_userinfo("at"); },
      [&] { (void)client.introspect_token("at"); },
      [&] { client.revoke_token("at"); },
      [&] { client.set_log_callback(nullptr, soidc::LogLevel::Info); },
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

TEST(EmptyClient, EveryTryFormReturnsTheSameError) {
  soidc::Client client;
  const std::vector<std::function<soidc::Error()>> calls = {
      [&] { return client.try_get_type().error(); },
      [&] { return client.try_provider_config().error(); },
      [&] { return client.try_provider_keys().error(); },
      [&] { return client.try_auth_code_start().error(); },
      [&] { return client.try_auth_code_handle_result("http://127.0.0.1:9/callback?code=x").error(); },
      [&] { return client.try_auth_code_handle_form_post("application/x-www-form-urlencoded", "code=x").error(); },
      [&] { return client.try_auth_code_exchange("code").error(); },
      [&] { return client.try_client_credentials_grant().error(); },
      [&] { return client.try_direct_access_grant("alice", "alice-password").error(); },
      [&] { return client.try_exchange_refresh_token("rt").error(); },
      [&] { return client.try_device_authorization_start().error(); },
      [&] { return client.try_device_authorization_poll("dc").error(); },
      [&] { return client.try_fetch_userinfo("at").error(); },
      [&] { return client.try_introspect_token("at").error(); },
      [&] { return client.try_revoke_token("at").error(); },
      [&] { return client.try_initiate_logout().error(); },
      [&] { return client.try_decode_id_token("x.y.z").error(); },
      [&] { return client.try_decode_access_token("x.y.z").error(); },
      [&] { return client.try_decode_logout_token("x.y.z").error(); },
      [&] { return client.try_set_log_callback(nullptr, soidc::LogLevel::Info).error(); },
  };
  for (const auto& call : calls) {
    const soidc::Error e = call();  // never throws
    EXPECT_EQ(e.status(), SOIDC_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("empty (moved-from or default-constructed) client"), std::string::npos)
        << e.message();
  }
}

// --- JsonValue: the strict RFC 8259 reader -----------------------------------

soidc::JsonValue parse_ok(std::string_view text) {
  std::string error;
  std::optional<soidc::JsonValue> v = soidc::JsonValue::parse(text, &error);
  EXPECT_TRUE(v.has_value()) << "refused " << text << ": " << error;
  return v.value_or(soidc::JsonValue());
}

std::string parse_error(std::string_view text) {
  std::string error;
  const std::optional<soidc::JsonValue> v = soidc::JsonValue::parse(text, &error);
  EXPECT_FALSE(v.has_value()) << "accepted " << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

TEST(JsonValue, ParsesEveryKindOfValue) {
  const soidc::JsonValue v = parse_ok(
      " {\"s\": \"t\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\xC3\xA9\", \"n\": -12.5e-1,"
      " \"i\": 9007199254740993, \"t\": true, \"f\": false, \"z\": null,"
      " \"a\": [1, [2, [3, {\"deep\": \"x\"}]]], \"o\": {}, \"e\": []} \n");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.size(), 9u);
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"s", "n", "i", "t", "f", "z", "a", "o", "e"}));
  EXPECT_EQ(*v.find("s")->as_string(),
            "t\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9");
  EXPECT_EQ(v.find("n")->as_double(), -1.25);
  EXPECT_EQ(v.find("n")->number_text(), "-12.5e-1");
  EXPECT_EQ(v.find("n")->as_int64(), std::nullopt);  // not a whole number
  EXPECT_EQ(v.find("i")->as_int64(), 9007199254740993);  // exact beyond 2^53
  EXPECT_EQ(v.find("t")->as_bool(), true);
  EXPECT_EQ(v.find("f")->as_bool(), false);
  EXPECT_TRUE(v.find("z")->is_null());
  EXPECT_EQ(v.find("z")->as_bool(), std::nullopt);
  EXPECT_EQ(v.find("s")->as_int64(), std::nullopt);
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_TRUE(v.find("o")->is_object());
  EXPECT_EQ(v.find("o")->size(), 0u);
  EXPECT_TRUE(v.find("e")->is_array());
  EXPECT_EQ(v.find("a")->elements().size(), 2u);
  EXPECT_EQ(v.get<std::string>("/a/1/1/1/deep"), "x");
  // Source spans: where each value was.
  const auto [offset, length] = v.find("o")->source_span();
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(offset > 0, true);

  // Scalars at the top level, and numbers in every form of the grammar.
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_EQ(parse_ok("\"x\"").as_string() != nullptr, true);
  EXPECT_EQ(parse_ok("0").as_int64(), 0);
  EXPECT_EQ(parse_ok("-0").as_int64(), 0);
  EXPECT_EQ(parse_ok("1e3").as_int64(), 1000);
  EXPECT_EQ(parse_ok("5.0").as_int64(), 5);
  EXPECT_EQ(parse_ok("2E+2").as_double(), 200.0);
  EXPECT_EQ(parse_ok("9223372036854775807").as_int64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_ok("-9223372036854775808").as_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(parse_ok("9223372036854775808").as_int64(), std::nullopt);  // out of range
  EXPECT_EQ(parse_ok("1e400").as_int64(), std::nullopt);
  EXPECT_EQ(parse_ok("1e400").as_double(), std::numeric_limits<double>::infinity());
}

TEST(JsonValue, RefusesWhatRfc8259Refuses) {
  for (const char* bad : {"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "'x'", "[01]", "[1.]",
                          "[.5]", "[1e]", "[+1]", "[-]", "[NaN]", "[Infinity]", "[tru]", "[nul]", "\"unterminated",
                          "\"tab\tinside\"", "\"bad escape \\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "[1] [2]", "{} x",
                          "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\ud800x\"]"}) {
    parse_error(bad);
  }
  // Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate, above U+10FFFF, truncated.
  for (const char* bad : {"\"\x80\"", "\"\xC0\x80\"", "\"\xE0\x80\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"",
                          "\"\xF5\x80\x80\x80\"", "\"\xC3\""}) {
    parse_error(bad);
  }
  // Duplicate member names, at the top and nested.
  EXPECT_NE(parse_error(R"({"a":1,"b":2,"a":3})").find("duplicate member name"), std::string::npos);
  parse_error(R"({"x":{"a":1,"a":1}})");
  parse_error(R"([{"k":"v","k":"v"}])");
  // The error names the offset.
  EXPECT_NE(parse_error("[1, 2, x]").find("offset 7"), std::string::npos);
}

TEST(JsonValue, NestingIsCappedAt64) {
  const auto nested = [](int depth) { return std::string(static_cast<std::size_t>(depth), '[') +
                                             std::string(static_cast<std::size_t>(depth), ']'); };
  EXPECT_TRUE(soidc::JsonValue::parse(nested(soidc::JsonValue::max_depth)).has_value());
  EXPECT_NE(parse_error(nested(soidc::JsonValue::max_depth + 1)).find("nesting"), std::string::npos);
  // Deep input is refused without recursing through all of it.
  parse_error(nested(100000));
}

TEST(JsonValue, JsonPointers) {
  const soidc::JsonValue v = parse_ok(
      R"({"a":[{"b/c":1,"m~n":2,"":3}],"k":"v","arr":["x","y"],"mixed":["x",1],"num":"7","big":12345678901})");
  EXPECT_EQ(v.at(""), &v);
  EXPECT_EQ(v.get<std::int64_t>("/a/0/b~1c"), 1);
  EXPECT_EQ(v.get<std::int64_t>("/a/0/m~0n"), 2);
  EXPECT_EQ(v.get<std::int64_t>("/a/0/"), 3);  // the empty member name
  EXPECT_EQ(v.get<std::string>("/k"), "v");
  EXPECT_EQ(v.get<std::vector<std::string>>("/arr"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(v.get<std::vector<std::string>>("/mixed"), std::nullopt);  // not all strings
  EXPECT_EQ(v.get<std::vector<std::string>>("/k"), std::nullopt);
  EXPECT_EQ(v.get<std::int64_t>("/num"), std::nullopt);  // a string, not a number
  EXPECT_EQ(v.get<std::int64_t>("/big"), 12345678901);
  EXPECT_EQ(v.get<double>("/big"), 12345678901.0);
  // Other integer types: the value when it fits.
  EXPECT_EQ(v.get<int>("/a/0/b~1c"), 1);
  EXPECT_EQ(v.get<unsigned char>("/a/0/m~0n"), 2);
  EXPECT_EQ(v.get<int>("/big"), std::nullopt);  // beyond int
  EXPECT_EQ(v.get<long long>("/big"), 12345678901LL);
  EXPECT_EQ(parse_ok("-1").get<unsigned>(""), std::nullopt);
  EXPECT_EQ(parse_ok("4294967295").get<std::uint32_t>(""), 4294967295u);
  EXPECT_EQ(v.get<bool>("/k"), std::nullopt);
  EXPECT_EQ(v.get<soidc::JsonValue>("/a/0")->size(), 3u);
  for (const char* none : {"/missing", "/a/1", "/a/-", "/a/01", "/a/x", "/k/0", "/a/0/b~2c", "/a/0/b~", "k",
                           "/arr/99999999999999999999"}) {
    EXPECT_EQ(v.at(none), nullptr) << none;
  }
}

// --- Result ------------------------------------------------------------------

TEST(Result, HoldsAValueOrAnError) {
  soidc::Result<std::string> ok(std::string("value"));
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.value(), "value");
  EXPECT_EQ(*ok, "value");
  EXPECT_EQ(ok->size(), 5u);
  EXPECT_EQ(ok.value_or("fallback"), "value");
  EXPECT_EQ(std::move(ok).value(), "value");

  const soidc::Result<std::string> failed(soidc::Error(SOIDC_ERR_VALIDATION, R"({"message":"m","reason":"expired"})"));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().status(), SOIDC_ERR_VALIDATION);
  EXPECT_EQ(failed.error().reason(), soidc::reason::expired);
  EXPECT_EQ(failed.value_or("fallback"), "fallback");
  const soidc::Error thrown = expect_error([&] { (void)failed.value(); });
  EXPECT_EQ(thrown.message(), "m");

  const soidc::Result<void> done;
  EXPECT_TRUE(done.ok());
  EXPECT_NO_THROW(done.value());
  const soidc::Result<void> not_done(soidc::Error(SOIDC_ERR_NETWORK, ""));
  EXPECT_FALSE(not_done.ok());
  EXPECT_EQ(expect_error([&] { not_done.value(); }).status(), SOIDC_ERR_NETWORK);
}

TEST(Error, ReasonAndTypedMembers) {
  const soidc::Error e(SOIDC_ERR_VALIDATION,
                       R"({"status":"validation","message":"token expired","reason":"expired","http_status":401,)"
                       R"("detail":{"list":["a","b"]}})");
  EXPECT_EQ(e.reason(), soidc::reason::expired);
  EXPECT_EQ(e.reason(), std::optional<std::string>("expired"));
  EXPECT_EQ(e.get<std::int64_t>("/http_status"), 401);
  EXPECT_EQ(e.get<std::vector<std::string>>("/detail/list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(e.json().is_object());
  const soidc::Error without(SOIDC_ERR_PROVIDER, R"({"message":"no"})");
  EXPECT_EQ(without.reason(), std::nullopt);
  const soidc::Error not_json(SOIDC_ERR_INTERNAL, "not json");
  EXPECT_EQ(not_json.reason(), std::nullopt);
  EXPECT_TRUE(not_json.json().is_null());
  EXPECT_EQ(not_json.message(), "not json");
}

// --- Typed results from documents -------------------------------------------

TEST(TypedResults, TokenResponseFromADocument) {
  const std::string doc =
      R"({"access_token":"at-1","token_type":"Bearer","expires_in":300,"refresh_token":"rt-1",)"
      R"("id_token":"a.b.c","scope":"openid email","x_extra":{"n":1},)"
      R"("id_token_claims":{"iss":"https://op.test","sub":"alice","aud":"web","exp":1800000000,)"
      R"("iat":1799999700,"nonce":"n-1","email":"alice@example.test"}})";
  const soidc::TokenResponse t = soidc::from_json<soidc::TokenResponse>(doc).value();
  EXPECT_EQ(t.raw(), doc);
  const std::string& as_string = t;  // the implicit conversion kept for 0.1 code
  EXPECT_EQ(as_string, doc);
  EXPECT_EQ(t.access_token(), "at-1");
  EXPECT_EQ(t.token_type(), "Bearer");
  EXPECT_EQ(t.expires_in(), std::chrono::seconds(300));
  EXPECT_EQ(t.refresh_token(), "rt-1");
  EXPECT_EQ(t.id_token(), "a.b.c");
  EXPECT_EQ(t.scope(), "openid email");
  EXPECT_EQ(t.get<std::int64_t>("/x_extra/n"), 1);
  ASSERT_TRUE(t.id_token_claims().has_value());
  const soidc::Claims& c = *t.id_token_claims();
  EXPECT_EQ(c.raw().front(), '{');
  EXPECT_EQ(soidc::json_string_member(c.raw(), "sub"), std::optional<std::string>("alice"));
  EXPECT_EQ(c.sub(), "alice");
  EXPECT_EQ(c.iss(), "https://op.test");
  EXPECT_EQ(c.aud(), std::vector<std::string>{"web"});
  EXPECT_EQ(c.exp(), soidc::TimePoint(std::chrono::seconds(1800000000)));
  EXPECT_EQ(c.iat(), soidc::TimePoint(std::chrono::seconds(1799999700)));
  EXPECT_EQ(c.nonce(), "n-1");
  EXPECT_EQ(c.nbf(), std::nullopt);
  EXPECT_EQ(c.get<std::string>("/email"), "alice@example.test");
  // The nested claims' spans are their own.
  EXPECT_EQ(c.json().source_span().first, 0u);

  // A minimal response: absent members are std::nullopt, never an error.
  const soidc::TokenResponse minimal =
      soidc::from_json<soidc::TokenResponse>(R"({"access_token":"x","token_type":"Bearer"})").value();
  EXPECT_EQ(minimal.expires_in(), std::nullopt);
  EXPECT_EQ(minimal.refresh_token(), std::nullopt);
  EXPECT_FALSE(minimal.id_token_claims().has_value());
  // A member of the wrong type is absent too.
  EXPECT_EQ(soidc::from_json<soidc::TokenResponse>(R"({"expires_in":"300"})")->expires_in(), std::nullopt);
  // Not JSON at all: an error, with the parser's reason.
  const soidc::Result<soidc::TokenResponse> bad = soidc::from_json<soidc::TokenResponse>("{\"a\":1,\"a\":2}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(bad.error().message().find("duplicate member name"), std::string::npos) << bad.error().message();
}

TEST(TypedResults, ClaimsAndTheOtherResults) {
  const soidc::Claims many = soidc::from_json<soidc::Claims>(
      R"({"aud":["a","b"],"scope":"api:read  api:write","exp":-1,"auth_time":1.7e9,"iat":1e30})").value();
  EXPECT_EQ(many.aud(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(many.scopes(), (std::vector<std::string>{"api:read", "api:write"}));
  EXPECT_TRUE(many.has_scope("api:write"));
  EXPECT_FALSE(many.has_scope("api"));
  EXPECT_EQ(many.exp(), soidc::TimePoint(std::chrono::seconds(-1)));
  EXPECT_EQ(many.auth_time(), soidc::TimePoint(std::chrono::seconds(1700000000)));
  EXPECT_EQ(many.iat(), std::nullopt);  // beyond what a time_point holds
  EXPECT_EQ(soidc::from_json<soidc::Claims>(R"({"aud":[1]})")->aud(), std::vector<std::string>{});

  const soidc::Introspection inactive = soidc::from_json<soidc::Introspection>(R"({"active":false})").value();
  EXPECT_FALSE(inactive.active());
  const soidc::Introspection active = soidc::from_json<soidc::Introspection>(
      R"({"active":true,"sub":"alice","username":"al","token_type":"access_token","client_id":"web"})").value();
  EXPECT_TRUE(active.active());
  EXPECT_EQ(active.sub(), "alice");
  EXPECT_EQ(active.username(), "al");
  EXPECT_EQ(active.token_type(), "access_token");
  EXPECT_EQ(active.client_id(), "web");

  const soidc::DeviceAuthorization device = soidc::from_json<soidc::DeviceAuthorization>(
      R"({"device_code":"dc","user_code":"UC-1","verification_uri":"https://op/device","expires_in":600,"interval":5})")
      .value();
  EXPECT_EQ(device.device_code(), "dc");
  EXPECT_EQ(device.user_code(), "UC-1");
  EXPECT_EQ(device.verification_uri(), "https://op/device");
  EXPECT_EQ(device.verification_uri_complete(), std::nullopt);
  EXPECT_EQ(device.expires_in(), std::chrono::seconds(600));
  EXPECT_EQ(device.interval(), std::chrono::seconds(5));

  const soidc::Jwks jwks = soidc::from_json<soidc::Jwks>(R"({"keys":[{"kid":"k1","kty":"RSA"},{"kty":"EC"}]})").value();
  EXPECT_EQ(jwks.size(), 2u);
  EXPECT_EQ(jwks.key_ids(), std::vector<std::string>{"k1"});
  EXPECT_EQ(soidc::Jwks().size(), 0u);
  EXPECT_EQ(soidc::Jwks().raw(), "null");
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

  // The typed metadata: unknown members are kept.
  const soidc::ProviderMetadata meta = pub.provider_config();
  EXPECT_EQ(meta.issuer(), "https://op.example.test");
  EXPECT_EQ(meta.authorization_endpoint(), "https://op.example.test/auth");
  EXPECT_EQ(meta.userinfo_endpoint(), std::nullopt);
  EXPECT_EQ(meta.get<bool>("/x_unknown_member/kept"), true);

  // The authorization URL is built without the network.
  const soidc::AuthStart typed = pub.auth_code_start(R"({"state":"s-2","nonce":"n-2"})");
  EXPECT_EQ(typed.state(), "s-2");
  EXPECT_EQ(typed.nonce(), "n-2");
  EXPECT_TRUE(typed.code_verifier().has_value());
  EXPECT_EQ(typed.redirect_uri(), "http://127.0.0.1:9/callback");
  EXPECT_EQ(typed.url().rfind("https://op.example.test/auth?", 0), 0u) << typed.url();
  const soidc::JsonValue options = soidc::JsonValue::parse(typed.result_options()).value();
  EXPECT_EQ(options.get<std::string>("/state"), "s-2");
  EXPECT_EQ(options.get<std::string>("/nonce"), "n-2");
  EXPECT_EQ(options.get<std::string>("/code_verifier"), typed.code_verifier());
  EXPECT_EQ(options.get<std::string>("/redirect_uri"), "http://127.0.0.1:9/callback");
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

  // No keys have been fetched from this (non-existent) provider: a cache_only
  // decode reports reason no_keys_cached, with the library's own error document.
  const soidc::Result<soidc::Claims> no_keys = pub.try_decode_access_token(
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.e30.c2ln", R"({"cache_only":true})");
  ASSERT_FALSE(no_keys.ok());
  EXPECT_EQ(no_keys.error().status(), SOIDC_ERR_VALIDATION) << no_keys.error().document();
  EXPECT_EQ(no_keys.error().reason(), soidc::reason::no_keys_cached) << no_keys.error().document();
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
  // The try_ forms report it without throwing.
  const soidc::Result<soidc::Client> created = soidc::Client::try_from_issuer_config(kMetadata, settings);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(), "client_secret contains a NUL byte");
  const soidc::Result<soidc::Claims> decoded =
      client.try_decode_access_token("x.y.z", std::string_view("{}\0", 3));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message(), "options_json contains a NUL byte");
}

}  // namespace

// Token exchange (RFC 8693): the constants, the wrapper's argument checks and the
// library's, without the network (the exchanges run against Keycloak in tests/keycloak.rs).
TEST(TokenExchange, ConstantsAndBadInput) {
  static_assert(soidc::token_type_access_token == "urn:ietf:params:oauth:token-type:access_token");
  static_assert(soidc::token_type_jwt == "urn:ietf:params:oauth:token-type:jwt");
  const soidc::Client empty;
  EXPECT_EQ(expect_error([&] { (void)soidc::token_exchange(empty, "t", soidc::token_type_jwt); }).status(),
            SOIDC_ERR_INVALID_ARGUMENT);
  const soidc::Client c = soidc::Client::from_issuer_config(kMetadata, {"web", "web-secret-0123456789abcdef"});
  const soidc::Error wrong_urn = expect_error(
      [&] { (void)soidc::token_exchange(c, "t", "urn:ietf:params:oauth:token-type:acess_token"); });
  EXPECT_EQ(wrong_urn.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(wrong_urn.message().find("RFC 8693"), std::string::npos) << wrong_urn.message();
  const soidc::Error nul = expect_error(
      [&] { (void)soidc::token_exchange(c, std::string_view("t\0x", 3), soidc::token_type_jwt); });
  EXPECT_EQ(nul.status(), SOIDC_ERR_INVALID_ARGUMENT);
  const soidc::Error unknown = expect_error(
      [&] { (void)soidc::token_exchange(c, "t", soidc::token_type_access_token, R"({"audiences":"x"})"); });
  EXPECT_EQ(unknown.status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(unknown.message().find("audiences"), std::string::npos) << unknown.message();
  // The try_ form returns the error instead.
  const soidc::Result<soidc::TokenExchangeResponse> empty_token =
      soidc::try_token_exchange(c, "", soidc::token_type_access_token);
  ASSERT_FALSE(empty_token);
  EXPECT_EQ(empty_token.error().status(), SOIDC_ERR_INVALID_ARGUMENT);
  EXPECT_NE(empty_token.error().message().find("subject_token is empty"), std::string::npos);
  // The typed response over a stored document.
  const soidc::TokenExchangeResponse r(soidc::Document::parse(
      R"({"access_token":"x","issued_token_type":"urn:ietf:params:oauth:token-type:id_token","token_type":"N_A","expires_in":60})").value());
  EXPECT_EQ(r.access_token(), "x");
  EXPECT_EQ(r.issued_token_type(), soidc::token_type_id_token);
  EXPECT_EQ(r.token_type(), "N_A");
  EXPECT_EQ(r.expires_in(), std::optional<std::chrono::seconds>(60));
  EXPECT_FALSE(r.scope());
}
