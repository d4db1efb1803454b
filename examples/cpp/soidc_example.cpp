// soidc C++ example: discover a provider, get a token for the client itself (client
// credentials), log in a user with the password grant and validate the ID token,
// then show the non-throwing form on a token that fails validation.
//
//   examples/cpp/run.sh <issuer>        (or: make && ./soidc-example <issuer>)
//
// The client and user are those of the test provider (tests/provider/README.md).
#include <soidc.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

std::string shorten(const std::string& token) {
  return token.size() > 16 ? token.substr(0, 16) + "..." : token;
}

// Seconds from now until `t` (negative when `t` has passed).
long long seconds_until(soidc::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t - std::chrono::system_clock::now()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_issuer = std::getenv("SOIDC_TEST_ISSUER");
  const std::string issuer = argc > 1 ? argv[1] : (env_issuer != nullptr ? env_issuer : "");
  if (issuer.empty()) {
    std::cerr << "usage: " << argv[0] << " <issuer URL>  (or set SOIDC_TEST_ISSUER)\n";
    return 2;
  }

  try {
    // 1. Discovery: fetches <issuer>/.well-known/openid-configuration once. Share the
    //    client (a const soidc::Client& is thread-safe): it caches the provider's keys.
    soidc::ClientSettings settings;
    settings.client_id = "conf-basic";
    settings.client_secret = "conf-basic-secret-0123456789abcdef";
    const soidc::Client client = soidc::Client::from_issuer_url(issuer, settings);
    std::cout << "soidc " << soidc::version() << ": discovered " << client.provider_config().issuer() << "\n";

    // 2. Client credentials grant: a token for the service itself, to call the API
    //    https://api.soidc.test. The result is typed (soidc::TokenResponse); raw() is
    //    the library's JSON document.
    const soidc::TokenResponse service =
        client.client_credentials_grant("api:read", R"({"resource": "https://api.soidc.test"})");
    std::cout << "client credentials: " << service.token_type() << " token " << shorten(service.access_token())
              << " for scope \"" << service.scope().value_or("-") << "\", expires in "
              << (service.expires_in() ? std::to_string(service.expires_in()->count()) + " s" : "?") << "\n";

    // 3. Password grant for alice (legacy: prefer the code or device flow with a browser).
    const soidc::TokenResponse login = client.direct_access_grant("alice", "alice-password", "openid profile email");

    // 4. Validate the ID token (signature, iss, aud, exp, ...) and read its claims.
    //    The grant already did this (login.id_token_claims()); a server receiving an ID
    //    token calls decode_id_token itself.
    const soidc::Claims claims = client.decode_id_token(login.id_token().value_or(""));
    std::cout << "ID token of " << claims.sub().value_or("-") << " ("
              << claims.get<std::string>("/name").value_or("-") << ", "
              << claims.get<std::string>("/email").value_or("-") << ") is valid for another "
              << (claims.exp() ? seconds_until(*claims.exp()) : 0) << " s\n"
              << "  claims: " << claims.raw() << "\n";

    // 5. The non-throwing form: a soidc::Result holds the claims or the error. The API
    //    accepts the access token; this client (the default audience: its client id)
    //    does not, because the token is not meant for it.
    const soidc::Result<soidc::Claims> api =
        client.try_decode_access_token(service.access_token(), R"({"audience": "https://api.soidc.test"})");
    if (api) {
      std::cout << "access token valid for the API, client " << api->client_id().value_or("-") << "\n";
    }
    const soidc::Result<soidc::Claims> wrong = client.try_decode_access_token(service.access_token());
    if (!wrong) {
      std::cout << "access token refused for this client: " << wrong.error().status_name() << ", reason "
                << wrong.error().reason().value_or("-") << "\n";
    }
  } catch (const soidc::Error& e) {
    // status_name() is "network", "provider", "validation", ...; document() has the details.
    std::cerr << "soidc error (" << e.status_name() << "): " << e.message() << "\n";
    return 1;
  }
  return 0;
}
