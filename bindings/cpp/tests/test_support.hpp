// Test-only helpers for the soidc C++ binding tests: a small JSON reader (to assert
// on the documents the library returns), a subprocess runner (curl, browser.mjs)
// and access to the test provider started by tests/with-provider.sh.
#ifndef SOIDC_CPP_TEST_SUPPORT_HPP
#define SOIDC_CPP_TEST_SUPPORT_HPP

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace test {

/// A parsed JSON value. Accessors throw std::runtime_error on a type mismatch, so a
/// wrong document fails the test with a message instead of crashing.
class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  static Json parse(std::string_view text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_string() const { return type_ == Type::String; }
  bool is_object() const { return type_ == Type::Object; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }

  const std::string& str() const;
  bool boolean() const;
  double number() const;
  const std::vector<Json>& array() const;
  bool has(const std::string& key) const;
  /// The member `key` of an object; throws if this is not an object or has no such member.
  const Json& operator[](const std::string& key) const;

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json> object_;

  friend class JsonParser;
};

/// Output and exit status of a finished subprocess.
struct ProcessResult {
  int exit_status = -1;
  std::string out;
};

/// Runs argv[0] (searched in PATH) with the given arguments, stdin from /dev/null,
/// stdout captured, stderr inherited. No shell is involved.
ProcessResult run_process(const std::vector<std::string>& argv);

/// The issuer of the provider started by tests/with-provider.sh (SOIDC_TEST_ISSUER).
const std::string& issuer();

/// The repository root (compiled in by CMake).
std::string source_root();

/// POSTs a JSON body to <issuer><path> with curl and returns the response body.
std::string post_json(const std::string& path, const std::string& body);

/// Runs tests/provider/browser.mjs [extra args...] <url> <user> <password> and returns
/// its one stdout line (the redirect URL that leaves the provider).
std::string browser(const std::string& url, const std::string& user, const std::string& password,
                    const std::vector<std::string>& extra_args = {});

/// The query parameter `name` of `url`, percent-decoded ("" if absent).
std::string query_param(const std::string& url, const std::string& name);

}  // namespace test

#endif
