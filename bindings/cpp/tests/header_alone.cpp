// The binding's header must compile on its own: it is the first and only include of
// this translation unit. This file is also one of several translation units of the
// test program that include soidc.hpp, so a function defined in the header without
// `inline` fails the link with a multiple-definition error. CMake compiles it a
// second time as C++20 to catch forward-compatibility problems.
#include <soidc.hpp>

/// Used by binding_test.cpp: creates a client from provider metadata, in this
/// translation unit. No network access.
soidc::Client make_client_in_other_translation_unit(const std::string& metadata,
                                                    const soidc::ClientSettings& settings) {
  return soidc::Client::from_issuer_config(metadata, settings);
}

/// Used by binding_test.cpp: the version seen from this translation unit.
std::string_view version_from_other_translation_unit() { return soidc::version(); }
