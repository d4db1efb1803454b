// soidc C++ example: discover a provider, get a token for the client itself (client
// credentials), then log in a user with the password grant and validate the ID token.
//
//   examples/cpp/run.sh <issuer>        (or: make && ./soidc-example <issuer>)
//
// The client and user are those of the test provider (tests/provider/README.md).
#include <soidc.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

namespace {

// A top-level string member of a result document, or "-" (use a JSON library for more).
std::string member(const std::string& json, const char* key) {
  return soidc::json_string_member(json, key).value_or("-");
}

std::string shorten(const std::string& token) {
  return token.size() > 16 ? token.substr(0, 16) + "..." : token;
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
    std::cout << "soidc " << soidc::version() << ": discovered "
              << member(client.provider_config(), "issuer") << "\n";

    // 2. Client credentials grant: a token for the service itself.
    const std::string service = client.client_credentials_grant("api:read");
    std::cout << "client credentials: " << member(service, "token_type") << " token "
              << shorten(member(service, "access_token")) << " for scope \""
              << member(service, "scope") << "\"\n";

    // 3. Password grant for alice (legacy: prefer the code or device flow with a browser).
    const std::string login =
        client.direct_access_grant("alice", "alice-password", "openid profile email");
    const std::string id_token = member(login, "id_token");

    // 4. Validate the ID token (signature, iss, aud, exp, ...) and read its claims.
    //    The grant already did this; a server receiving an ID token calls it itself.
    const std::string claims = client.decode_id_token(id_token);
    std::cout << "ID token of " << member(claims, "sub") << " (" << member(claims, "name")
              << ", " << member(claims, "email") << ") is valid\n"
              << "  claims: " << claims << "\n";
  } catch (const soidc::Error& e) {
    // status_name() is "network", "provider", "validation", ...; document() has the details.
    std::cerr << "soidc error (" << e.status_name() << "): " << e.message() << "\n";
    return 1;
  }
  return 0;
}
