// A C++ program that uses the installed soidc.hpp: discovery and client credentials.
#include <soidc.hpp>
#include <cstdlib>
#include <iostream>

int main() {
    const char *issuer = std::getenv("SOIDC_TEST_ISSUER");
    if (!issuer) return 2;
    try {
        auto client = soidc::Client::from_issuer_url(
            issuer, {"conf-basic", "conf-basic-secret-0123456789abcdef"});
        std::string tokens = client.client_credentials_grant("api:read");
        bool ok = tokens.find("\"access_token\"") != std::string::npos;
        std::cout << (ok ? "ok" : "FAIL") << ": C++ client credentials through soidc.hpp\n";
        return ok ? 0 : 1;
    } catch (const soidc::Error &e) {
        std::cerr << "FAIL: " << e.what() << "\n";
        return 1;
    }
}
