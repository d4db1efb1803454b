// soidc.h compiles as C++17 with -pedantic, and its extern "C" guards work: this
// file calls into the library and links. Run by tests/c/run.sh (check "header-c++17").
#include "soidc.h"

#include <cstdio>
#include <cstring>

int main() {
    const char *version = soidc_version();
    if (std::strcmp(version, SOIDC_VERSION_STRING) != 0) {
        std::fprintf(stderr, "soidc_version() = %s, header says %s\n", version, SOIDC_VERSION_STRING);
        return 1;
    }
    if (std::strcmp(soidc_status_name(SOIDC_ERR_VALIDATION), "validation") != 0) {
        std::fprintf(stderr, "soidc_status_name(SOIDC_ERR_VALIDATION) is wrong\n");
        return 1;
    }
    soidc_client *client = nullptr;
    soidc_client_free(client);
    std::printf("C++: soidc %s linked\n", version);
    return 0;
}
