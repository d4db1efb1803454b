// soidc.hpp: the C++17 binding of soidc, an OpenID Connect relying-party client.
//
// Header-only. It wraps the C API of include/soidc.h one to one and adds no OIDC
// logic and no defaults of its own: every check and every default lives in the
// library, and every option is the library's `options_json`, passed through as is.
// Link with -lsoidc.
//
// What the binding adds
// - soidc::Client: a move-only RAII owner of one `soidc_client *`, with one method
//   per C function. Strings go in as std::string_view (nullable ones as
//   soidc::NullableString) and are copied into NUL-terminated buffers for the call;
//   results come out as std::string JSON documents. Every string the library hands
//   out is adopted at once and freed with soidc_string_free() on every path,
//   exceptions included.
// - soidc::Error: the one exception type, thrown by every failing call.
// - C++ callables (lambdas with captures) for the ACR validator and the log
//   callback, behind trampolines that never let an exception unwind into soidc.
// - soidc::json_string_member() and soidc::json_quote(): two small helpers for
//   callers without a JSON library (read a member of a result, build an option).
//
// Errors: why exceptions
// Every call may fail for reasons outside the caller's control (network, provider,
// a token that does not validate), and the C API returns a rich error document for
// each failure. Throwing soidc::Error keeps the successful path a plain
// `std::string` return, carries the status, the message and the whole document to
// the catch site in one object, and cannot be silently ignored the way a returned
// status can; C++17 has no std::expected, and a home-made result type would have
// to be checked at every call. The one expected non-success is
// SOIDC_ERR_PENDING from a single non-blocking device poll: catch soidc::Error and
// test status(), or poll with {"wait": true}.
//
// Thread safety (the C API's rules)
// - A `const soidc::Client &` may be used by any number of threads at once: every
//   const method is thread-safe, and the client's caches are synchronised inside
//   the library. Destroying, moving or assigning a Client must not race with other
//   calls on it. Share one client (for example through std::shared_ptr<const Client>)
//   rather than creating one per request: it holds the JWKS cache and connection pool.
// - soidc::Error objects are immutable and cheap to copy (shared state).
// - soidc::set_log_callback() may be called from any thread, but not from inside a
//   log callback.

#ifndef SOIDC_HPP
#define SOIDC_HPP

#include <soidc.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

/// The C++ binding of soidc. Everything public is documented where it is declared.
namespace soidc {

/// A soidc status code (`SOIDC_OK`, `SOIDC_ERR_VALIDATION`, ...), as in soidc.h.
using Status = soidc_status;

/// The library's version, "MAJOR.MINOR.PATCH" (soidc_version()). The string is
/// static. Compare with SOIDC_VERSION_STRING to detect a header/library mismatch.
[[nodiscard]] inline std::string_view version() noexcept {
  const char* v = soidc_version();
  return v != nullptr ? std::string_view(v) : std::string_view();
}

/// The lower-case name of a status code as used in error documents ("ok",
/// "validation", ...; "unknown" for any other value), from soidc_status_name().
/// The string is static.
[[nodiscard]] inline std::string_view status_name(Status status) noexcept {
  const char* name = soidc_status_name(status);
  return name != nullptr ? std::string_view(name) : std::string_view("unknown");
}

// ---------------------------------------------------------------------------
// Minimal JSON helpers (no JSON library needed for the common cases)
// ---------------------------------------------------------------------------

namespace detail {

inline void json_skip_ws(std::string_view s, std::size_t& i) noexcept {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
    ++i;
  }
}

inline void json_append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads four hex digits at s[i..i+4); false if they are not hex.
inline bool json_hex4(std::string_view s, std::size_t i, std::uint32_t& value) noexcept {
  if (i + 4 > s.size()) {
    return false;
  }
  value = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    value = value * 16 + digit;
  }
  return true;
}

// Parses the JSON string starting at s[i] == '"'; on success `i` is just past the
// closing quote and, if `out` is not null, the decoded text was appended to it.
inline bool json_parse_string(std::string_view s, std::size_t& i, std::string* out) {
  if (i >= s.size() || s[i] != '"') {
    return false;
  }
  ++i;
  while (i < s.size()) {
    const char c = s[i++];
    if (c == '"') {
      return true;
    }
    if (c != '\\') {
      if (out != nullptr) {
        *out += c;
      }
      continue;
    }
    if (i >= s.size()) {
      return false;
    }
    const char e = s[i++];
    char plain = 0;
    switch (e) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        std::uint32_t cp = 0;
        if (!json_hex4(s, i, cp)) {
          return false;
        }
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u' && json_hex4(s, i + 2, low) &&
              low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;  // a lone high surrogate
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;  // a lone low surrogate
        }
        if (out != nullptr) {
          json_append_utf8(*out, cp);
        }
        continue;
      }
      default:
        return false;
    }
    if (out != nullptr) {
      *out += plain;
    }
  }
  return false;
}

// Skips one JSON value starting at s[i]. Nested objects and arrays are skipped by
// bracket counting (string-aware); the document is trusted to be well-formed.
inline bool json_skip_value(std::string_view s, std::size_t& i) {
  if (i >= s.size()) {
    return false;
  }
  if (s[i] == '"') {
    return json_parse_string(s, i, nullptr);
  }
  if (s[i] == '{' || s[i] == '[') {
    std::size_t depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        if (!json_parse_string(s, i, nullptr)) {
          return false;
        }
        continue;
      }
      ++i;
      if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          return true;
        }
      }
    }
    return false;
  }
  const std::size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
         s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
    ++i;
  }
  return i > start;
}

}  // namespace detail

/// Returns the string value of the top-level member `key` of the JSON object `json`
/// (escapes decoded, `\uXXXX` included), or std::nullopt when the member is absent,
/// is not a string, or `json` is not an object.
///
/// Meant for reading a few members of the documents soidc returns (an
/// "access_token", an "id_token", an error document's "error") without a JSON
/// library. For nested or non-string members, use a JSON library such as
/// nlohmann/json on the document.
[[nodiscard]] inline std::optional<std::string> json_string_member(std::string_view json,
                                                                   std::string_view key) {
  std::size_t i = 0;
  detail::json_skip_ws(json, i);
  if (i >= json.size() || json[i] != '{') {
    return std::nullopt;
  }
  ++i;
  std::string name;
  for (;;) {
    detail::json_skip_ws(json, i);
    if (i >= json.size() || json[i] == '}') {
      return std::nullopt;
    }
    name.clear();
    if (!detail::json_parse_string(json, i, &name)) {
      return std::nullopt;
    }
    detail::json_skip_ws(json, i);
    if (i >= json.size() || json[i] != ':') {
      return std::nullopt;
    }
    ++i;
    detail::json_skip_ws(json, i);
    if (name == key && i < json.size() && json[i] == '"') {
      std::string value;
      if (!detail::json_parse_string(json, i, &value)) {
        return std::nullopt;
      }
      return value;
    }
    if (!detail::json_skip_value(json, i)) {
      return std::nullopt;
    }
    detail::json_skip_ws(json, i);
    if (i < json.size() && json[i] == ',') {
      ++i;
    }
  }
}

/// Returns `text` as a quoted JSON string literal (quotes, backslashes and control
/// characters escaped; UTF-8 passed through), for building an `options_json` from
/// values such as a state or nonce: `"{\"nonce\":" + soidc::json_quote(nonce) + "}"`.
[[nodiscard]] inline std::string json_quote(std::string_view text) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0x0F];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The one exception type of the binding, thrown by every call that does not
/// return `SOIDC_OK` (see the header comment for why exceptions).
///
/// It carries the status code, the message (the error document's "message"
/// member) and the whole error document, which for `SOIDC_ERR_PROVIDER` and
/// `SOIDC_ERR_AUTHENTICATION_FAILED` also holds the provider's `error`,
/// `error_description`, `error_uri` and `http_status` (read them with
/// string_member() or a JSON library). `what()` is "<status name>: <message>".
/// Errors raised by the binding itself (an empty client, a NUL byte inside a
/// string argument: `SOIDC_ERR_INVALID_ARGUMENT`) carry a document of the same
/// shape, so callers handle both alike. Copying is cheap and never throws (the state is shared).
class Error : public std::runtime_error {
 public:
  /// Makes an error from a status and its error document (as returned through
  /// `out_json`; may be empty). The message is taken from the document's
  /// "message" member, or is the document itself when it has none.
  Error(Status status, std::string document)
      : Error(status, std::make_shared<const State>(make_state(status, std::move(document)))) {}

  /// The status code (`SOIDC_ERR_VALIDATION`, ...).
  [[nodiscard]] Status status() const noexcept { return status_; }

  /// The status code's lower-case name ("validation", ...), as in the document.
  [[nodiscard]] std::string_view status_name() const noexcept {
    return soidc::status_name(status_);
  }

  /// The human-readable message (the error document's "message" member).
  [[nodiscard]] const std::string& message() const noexcept { return state_->message; }

  /// The whole error document, a JSON object such as
  /// {"status":"provider","message":"...","error":"invalid_grant",...}.
  [[nodiscard]] const std::string& document() const noexcept { return state_->document; }

  /// A top-level string member of the error document, e.g. "error" (the OAuth
  /// error code for provider errors) or "error_description"; nullopt if absent.
  [[nodiscard]] std::optional<std::string> string_member(std::string_view key) const {
    return json_string_member(state_->document, key);
  }

 private:
  struct State {
    std::string message;
    std::string document;
  };

  Error(Status status, std::shared_ptr<const State> state)
      : std::runtime_error(std::string(soidc::status_name(status)) + ": " + state->message),
        status_(status),
        state_(std::move(state)) {}

  static State make_state(Status status, std::string document) {
    State st;
    if (auto m = json_string_member(document, "message")) {
      st.message = std::move(*m);
    } else if (!document.empty()) {
      st.message = document;
    } else {
      st.message = "soidc call failed with status " + std::to_string(status) + " and no error document";
    }
    st.document = std::move(document);
    return st;
  }

  Status status_;
  std::shared_ptr<const State> state_;
};

namespace detail {

// An Error raised by the binding itself, with a document shaped like the library's.
inline Error binding_error(Status status, const std::string& message) {
  return Error(status, std::string("{\"status\":") + json_quote(soidc::status_name(status)) +
                           ",\"message\":" + json_quote(message) + "}");
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Argument and result plumbing
// ---------------------------------------------------------------------------

/// A string argument that may be NULL (the C API's "nullable" parameters).
///
/// Converts implicitly from `nullptr`, `std::nullopt`, a `const char *` (NULL
/// maps to NULL), `std::string_view`, `std::string`, `std::optional<std::string>`
/// and `std::optional<std::string_view>` (implicitly, so that call sites stay
/// plain). It only views the text: use it for parameters, never store it.
class NullableString {
 public:
  /// NULL.
  NullableString() noexcept = default;
  /// NULL.
  NullableString(std::nullptr_t) noexcept {}
  /// NULL.
  NullableString(std::nullopt_t) noexcept {}
  /// NULL when `s` is NULL, otherwise the NUL-terminated text at `s`.
  NullableString(const char* s) noexcept
      : present_(s != nullptr), view_(s != nullptr ? std::string_view(s) : std::string_view()) {}
  /// The text `s`.
  NullableString(std::string_view s) noexcept : present_(true), view_(s) {}
  /// The text `s`.
  NullableString(const std::string& s) noexcept : present_(true), view_(s) {}
  /// NULL when `s` is empty, otherwise its text.
  NullableString(const std::optional<std::string>& s) noexcept
      : present_(s.has_value()), view_(s ? std::string_view(*s) : std::string_view()) {}
  /// NULL when `s` is empty, otherwise its text.
  NullableString(const std::optional<std::string_view>& s) noexcept
      : present_(s.has_value()), view_(s ? *s : std::string_view()) {}

  /// Whether a string (possibly empty) was given, i.e. the argument is not NULL.
  [[nodiscard]] bool has_value() const noexcept { return present_; }
  /// The text; empty when has_value() is false.
  [[nodiscard]] std::string_view view() const noexcept { return view_; }

 private:
  bool present_ = false;
  std::string_view view_;
};

namespace detail {

// A NUL-terminated copy of one argument for the duration of a C call (NULL when absent).
class CString {
 public:
  CString(std::string_view text, bool present, const char* what) {
    if (present) {
      if (text.find('\0') != std::string_view::npos) {
        // Never echo the text itself: it may be a secret.
        throw binding_error(SOIDC_ERR_INVALID_ARGUMENT,
                            std::string(what) + " contains a NUL byte");
      }
      copy_.emplace(text);
    }
  }
  const char* get() const noexcept { return copy_ ? copy_->c_str() : nullptr; }

 private:
  std::optional<std::string> copy_;
};

inline CString required(std::string_view text, const char* what) { return CString(text, true, what); }

inline CString nullable(NullableString text, const char* what) {
  return CString(text.view(), text.has_value(), what);
}

/// Frees a string handed out by soidc.
struct StringFree {
  void operator()(char* s) const noexcept { soidc_string_free(s); }
};

/// Owns a string handed out by soidc; adopted the moment the C call returns.
using UniqueString = std::unique_ptr<char, StringFree>;

// Runs `call(char **out)` (one C function), adopts its output string at once and
// returns it on SOIDC_OK or throws Error with it otherwise.
template <class Call>
std::string call_for_document(Call&& call) {
  char* raw = nullptr;
  const Status status = std::forward<Call>(call)(&raw);
  const UniqueString document(raw);  // freed on every path below, exceptions included
  if (status != SOIDC_OK) {
    throw Error(status, document ? std::string(document.get()) : std::string());
  }
  if (!document) {
    throw binding_error(SOIDC_ERR_INTERNAL, "soidc returned SOIDC_OK but no document");
  }
  return std::string(document.get());
}

// Adapts a C++ ACR validator to soidc_acr_validator; `user_data` is the validator.
// An exception is caught here and rejects the token: it never unwinds through soidc.
inline int acr_trampoline(const char* acr, void* user_data) noexcept {
  try {
    const auto& validate =
        *static_cast<const std::function<bool(std::optional<std::string_view>)>*>(user_data);
    std::optional<std::string_view> value;
    if (acr != nullptr) {
      value = std::string_view(acr);
    }
    return validate(value) ? 0 : 1;
  } catch (...) {
    return 1;
  }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/// The kind of a client (soidc_client_get_type()).
enum class ClientType : soidc_client_type {
  /// Not a client (only for a NULL handle; Client::get_type() throws instead).
  Invalid = SOIDC_CLIENT_INVALID,
  /// A public client: no client secret (a native app, a CLI).
  Public = SOIDC_CLIENT_PUBLIC,
  /// A confidential client: it holds a client secret or a private key.
  Confidential = SOIDC_CLIENT_CONFIDENTIAL,
};

enum class LogLevel : int;

/// The client registration and options for Client::from_issuer_url() and
/// Client::from_issuer_config(). Every absent member is passed to the library as
/// NULL, so the library's defaults apply; the binding adds none.
///
///     soidc::Client::from_issuer_url(issuer, {"my-client", "my-secret"});
struct ClientSettings {
  /// The client id (required, not empty).
  std::string client_id;
  /// The client secret; absent makes a public client.
  std::optional<std::string> client_secret{};
  /// The default redirect URI of the authorization code flow.
  std::optional<std::string> redirect_uri{};
  /// The default scope; absent means the library's default ("openid").
  std::optional<std::string> scope{};
  /// The client options as one JSON object (`timeout_ms`, `leeway_s`, `auth_method`,
  /// `ca_file`, ...; see soidc_client_from_issuer_url in soidc.h).
  std::optional<std::string> options_json{};
};

/// A C++ ACR validator for Client::decode_id_token(): called with the ID token's
/// `acr`, or with std::nullopt when the token has none; return true to accept.
/// Any callable fits, lambdas with captures included. An exception thrown by it
/// rejects the token (`SOIDC_ERR_VALIDATION`); it never unwinds through soidc.
using AcrValidator = std::function<bool(std::optional<std::string_view> acr)>;

/// An OpenID Connect client for one provider and one client registration: a
/// move-only owner of a `soidc_client *`, freed with soidc_client_free() when the
/// Client is destroyed.
///
/// Each method is its C function without the `soidc_` prefix (and without
/// `client_` for soidc_client_get_type, soidc_client_provider_config and
/// soidc_client_provider_keys); options are that function's `options_json`,
/// passed through unchanged, and results are the library's JSON documents. Every method throws soidc::Error when the C function
/// does not return `SOIDC_OK`.
///
/// A default-constructed or moved-from Client is empty: operator bool is false and
/// every other method throws soidc::Error with `SOIDC_ERR_INVALID_ARGUMENT`.
///
/// Thread safety: the const methods may be called on one Client from many
/// threads at once; destruction, move and assignment must not race with them.
class Client {
 public:
  /// Creates a client by discovery (soidc_client_from_issuer_url): fetches
  /// `<issuer_url>/.well-known/openid-configuration`, whose `issuer` must equal
  /// `issuer_url` exactly. Throws soidc::Error (INVALID_ARGUMENT, NETWORK, HTTP,
  /// PROTOCOL).
  [[nodiscard]] static Client from_issuer_url(std::string_view issuer_url,
                                              const ClientSettings& settings);

  /// Creates a client from a provider metadata document the caller already has
  /// (soidc_client_from_issuer_config); no network access. Throws soidc::Error.
  [[nodiscard]] static Client from_issuer_config(std::string_view provider_metadata_json,
                                                 const ClientSettings& settings);

  /// An empty client (see the class comment); assign a real one to it later.
  Client() noexcept = default;
  /// Takes over `other`'s handle; `other` becomes empty.
  Client(Client&& other) noexcept = default;
  /// Frees this client's handle (if any) and takes over `other`'s; `other` becomes empty.
  Client& operator=(Client&& other) noexcept = default;
  /// Not copyable: share a `const Client&` (or a std::shared_ptr<const Client>) instead;
  /// one client holds the key cache and connection pool for all its users.
  Client(const Client&) = delete;
  /// Not copyable (see the copy constructor).
  Client& operator=(const Client&) = delete;
  /// Frees the handle (soidc_client_free).
  ~Client() = default;

  /// Whether this Client holds a handle (false after a move or default construction).
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  /// The C handle, still owned by this Client (nullptr when empty), for passing to
  /// C code. Valid while this Client lives and is not moved from.
  [[nodiscard]] const soidc_client* native_handle() const noexcept { return handle_.get(); }

  /// Public or confidential (soidc_client_get_type). No network access.
  [[nodiscard]] ClientType get_type() const;

  /// Gives this client its own log callback (soidc_client_set_log_callback): messages
  /// produced while a thread works on this client go to `callback` instead of the
  /// process-wide one; an empty callback returns to the process-wide one. Any callable
  /// `void(soidc::LogLevel, std::string_view)`; an exception inside it is caught and
  /// the message dropped. The callable is kept alive until this Client is destroyed,
  /// even after it is replaced, so a delivery running on another thread stays valid.
  template <class F>
  void set_log_callback(F&& callback, LogLevel max_level);

  /// The provider metadata document, as discovered or given
  /// (soidc_client_provider_config). No network access.
  [[nodiscard]] std::string provider_config() const;

  /// The provider's JWKS as cached, fetched first if stale
  /// (soidc_client_provider_keys). Options: `timeout_ms`, `force_refresh`, `cache_only`.
  [[nodiscard]] std::string provider_keys(NullableString options_json = nullptr) const;

  /// Builds the authorization URL (soidc_auth_code_start). Returns
  /// {"url","state","nonce","code_verifier","redirect_uri"}; keep state, nonce and
  /// code_verifier for auth_code_handle_result(). No network access.
  [[nodiscard]] std::string auth_code_start(NullableString options_json = nullptr) const;

  /// Handles the redirect back from the provider (soidc_auth_code_handle_result):
  /// checks error, state and iss, exchanges the code and validates the ID token.
  /// Options: `state`, `nonce`, `code_verifier`, `redirect_uri`, `max_age`, ...
  /// Returns the token response plus `id_token_claims`.
  std::string auth_code_handle_result(std::string_view current_url,
                                      NullableString options_json = nullptr) const;

  /// Exchanges an authorization code at the token endpoint (soidc_auth_code_exchange).
  /// Options: `redirect_uri`, `code_verifier`, `nonce`, `max_age`, `timeout_ms`.
  std::string auth_code_exchange(std::string_view code,
                                 NullableString options_json = nullptr) const;

  /// Client credentials grant (soidc_client_credentials_grant). `scope` null: the
  /// client's scope. Options: `resource`, `extra_params`, `timeout_ms`.
  std::string client_credentials_grant(NullableString scope = nullptr,
                                       NullableString options_json = nullptr) const;

  /// Resource owner password ("direct access") grant (soidc_direct_access_grant).
  /// `scope` null: the client's scope. Options: `nonce`, `resource`, `extra_params`,
  /// `timeout_ms`. The password never appears in errors.
  std::string direct_access_grant(std::string_view username, std::string_view password,
                                  NullableString scope = nullptr,
                                  NullableString options_json = nullptr) const;

  /// Refresh token grant (soidc_exchange_refresh_token). Options: `scope`,
  /// `id_token` (the original, for the continuity checks), `resource`, ...
  std::string exchange_refresh_token(std::string_view refresh_token,
                                     NullableString options_json = nullptr) const;

  /// Starts a device authorization (soidc_device_authorization_start). `scope`
  /// null: the client's scope. Returns the provider's response (`device_code`,
  /// `user_code`, `verification_uri`, `interval`, ...).
  std::string device_authorization_start(NullableString scope = nullptr,
                                         NullableString options_json = nullptr) const;

  /// Polls for a device authorization's result (soidc_device_authorization_poll).
  /// Options: `wait` (block until done), `interval`, `expires_in`, `nonce`,
  /// `timeout_ms`. While the user has not finished, a single poll throws
  /// soidc::Error with status `SOIDC_ERR_PENDING`.
  std::string device_authorization_poll(std::string_view device_code,
                                        NullableString options_json = nullptr) const;

  /// Fetches the UserInfo claims for an access token (soidc_fetch_userinfo).
  /// Options: `expected_sub`, `timeout_ms`.
  std::string fetch_userinfo(std::string_view access_token,
                             NullableString options_json = nullptr) const;

  /// Token introspection, RFC 7662 (soidc_introspect_token). `token_type_hint`
  /// nullable. Returns the provider's response; `active` is always a boolean.
  std::string introspect_token(std::string_view token, NullableString token_type_hint = nullptr,
                               NullableString options_json = nullptr) const;

  /// Token revocation, RFC 7009 (soidc_revoke_token). `token_type_hint` nullable.
  /// Returns "{}".
  std::string revoke_token(std::string_view token, NullableString token_type_hint = nullptr,
                           NullableString options_json = nullptr) const;

  /// Builds the RP-initiated logout URL (soidc_initiate_logout) and returns it (a
  /// URL, not JSON). `request_json`: `id_token_hint`, `post_logout_redirect_uri`,
  /// `state`, ... No network access.
  [[nodiscard]] std::string initiate_logout(NullableString request_json = nullptr) const;

  /// Decodes and validates an ID token (soidc_decode_id_token) and returns its
  /// claims. Options: `nonce`, `extra_trusted_audiences`, `min_iat`,
  /// `min_auth_time`, `max_age`, `expect_self_azp`, `access_token`, `code`, ...
  /// `validate_acr` (may be empty: no acr check) is called synchronously, at most
  /// once, on this thread; see AcrValidator.
  [[nodiscard]] std::string decode_id_token(std::string_view raw_token,
                                            NullableString options_json = nullptr,
                                            const AcrValidator& validate_acr = nullptr) const;

  /// Decodes and validates an RFC 9068 JWT access token (soidc_decode_access_token)
  /// and returns its claims. Options: `audience`, `required_scopes`, `cache_only`, ...
  [[nodiscard]] std::string decode_access_token(std::string_view raw_token,
                                                NullableString options_json = nullptr) const;

  /// Decodes and validates a back-channel logout token (soidc_decode_logout_token)
  /// and returns its claims. Options: `extra_trusted_audiences`, `min_iat`, ...
  [[nodiscard]] std::string decode_logout_token(std::string_view raw_token,
                                                NullableString options_json = nullptr) const;

 private:
  struct Free {
    void operator()(soidc_client* client) const noexcept { soidc_client_free(client); }
  };

  explicit Client(soidc_client* handle) noexcept : handle_(handle) {}

  // The handle, or an Error naming the method when this Client is empty.
  const soidc_client* checked(const char* method) const {
    if (!handle_) {
      throw detail::binding_error(
          SOIDC_ERR_INVALID_ARGUMENT,
          std::string("soidc::Client::") + method + " called on an empty (moved-from or default-constructed) client");
    }
    return handle_.get();
  }

  template <class Create>
  static Client create(std::string_view first, const char* first_name,
                       const ClientSettings& settings, Create&& create_fn);

  // Every log callable ever installed on this client (see set_log_callback); declared
  // before handle_ so that the handle is freed first.
  std::vector<std::shared_ptr<void>> log_callbacks_;
  std::unique_ptr<soidc_client, Free> handle_;
};

template <class Create>
inline Client Client::create(std::string_view first, const char* first_name,
                             const ClientSettings& settings, Create&& create_fn) {
  const auto a = detail::required(first, first_name);
  const auto redirect = detail::nullable(settings.redirect_uri, "redirect_uri");
  const auto id = detail::required(settings.client_id, "client_id");
  const auto secret = detail::nullable(settings.client_secret, "client_secret");
  const auto scope = detail::nullable(settings.scope, "scope");
  const auto options = detail::nullable(settings.options_json, "options_json");
  soidc_client* raw = nullptr;
  char* error = nullptr;
  const Status status = create_fn(a.get(), redirect.get(), id.get(), secret.get(), scope.get(),
                                  options.get(), &raw, &error);
  Client client(raw);  // adopted at once; holds nullptr on failure
  const detail::UniqueString document(error);
  if (status != SOIDC_OK) {
    throw Error(status, document ? std::string(document.get()) : std::string());
  }
  if (!client) {
    throw detail::binding_error(SOIDC_ERR_INTERNAL, "soidc returned SOIDC_OK but no client");
  }
  return client;
}

inline Client Client::from_issuer_url(std::string_view issuer_url, const ClientSettings& settings) {
  return create(issuer_url, "issuer_url", settings, &soidc_client_from_issuer_url);
}

inline Client Client::from_issuer_config(std::string_view provider_metadata_json,
                                         const ClientSettings& settings) {
  return create(provider_metadata_json, "provider_metadata_json", settings,
                &soidc_client_from_issuer_config);
}

inline ClientType Client::get_type() const {
  return static_cast<ClientType>(soidc_client_get_type(checked("get_type")));
}

inline std::string Client::provider_config() const {
  const soidc_client* c = checked("provider_config");
  return detail::call_for_document([&](char** out) { return soidc_client_provider_config(c, out); });
}

inline std::string Client::provider_keys(NullableString options_json) const {
  const soidc_client* c = checked("provider_keys");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_client_provider_keys(c, o.get(), out); });
}

inline std::string Client::auth_code_start(NullableString options_json) const {
  const soidc_client* c = checked("auth_code_start");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document([&](char** out) { return soidc_auth_code_start(c, o.get(), out); });
}

inline std::string Client::auth_code_handle_result(std::string_view current_url,
                                                   NullableString options_json) const {
  const soidc_client* c = checked("auth_code_handle_result");
  const auto u = detail::required(current_url, "current_url");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_auth_code_handle_result(c, u.get(), o.get(), out); });
}

inline std::string Client::auth_code_exchange(std::string_view code, NullableString options_json) const {
  const soidc_client* c = checked("auth_code_exchange");
  const auto k = detail::required(code, "code");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_auth_code_exchange(c, k.get(), o.get(), out); });
}

inline std::string Client::client_credentials_grant(NullableString scope,
                                                    NullableString options_json) const {
  const soidc_client* c = checked("client_credentials_grant");
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_client_credentials_grant(c, s.get(), o.get(), out); });
}

inline std::string Client::direct_access_grant(std::string_view username, std::string_view password,
                                               NullableString scope,
                                               NullableString options_json) const {
  const soidc_client* c = checked("direct_access_grant");
  const auto u = detail::required(username, "username");
  const auto p = detail::required(password, "password");
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document([&](char** out) {
    return soidc_direct_access_grant(c, u.get(), p.get(), s.get(), o.get(), out);
  });
}

inline std::string Client::exchange_refresh_token(std::string_view refresh_token,
                                                  NullableString options_json) const {
  const soidc_client* c = checked("exchange_refresh_token");
  const auto t = detail::required(refresh_token, "refresh_token");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_exchange_refresh_token(c, t.get(), o.get(), out); });
}

inline std::string Client::device_authorization_start(NullableString scope,
                                                      NullableString options_json) const {
  const soidc_client* c = checked("device_authorization_start");
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_device_authorization_start(c, s.get(), o.get(), out); });
}

inline std::string Client::device_authorization_poll(std::string_view device_code,
                                                     NullableString options_json) const {
  const soidc_client* c = checked("device_authorization_poll");
  const auto d = detail::required(device_code, "device_code");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_device_authorization_poll(c, d.get(), o.get(), out); });
}

inline std::string Client::fetch_userinfo(std::string_view access_token,
                                          NullableString options_json) const {
  const soidc_client* c = checked("fetch_userinfo");
  const auto t = detail::required(access_token, "access_token");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_fetch_userinfo(c, t.get(), o.get(), out); });
}

inline std::string Client::introspect_token(std::string_view token, NullableString token_type_hint,
                                            NullableString options_json) const {
  const soidc_client* c = checked("introspect_token");
  const auto t = detail::required(token, "token");
  const auto h = detail::nullable(token_type_hint, "token_type_hint");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_introspect_token(c, t.get(), h.get(), o.get(), out); });
}

inline std::string Client::revoke_token(std::string_view token, NullableString token_type_hint,
                                        NullableString options_json) const {
  const soidc_client* c = checked("revoke_token");
  const auto t = detail::required(token, "token");
  const auto h = detail::nullable(token_type_hint, "token_type_hint");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_revoke_token(c, t.get(), h.get(), o.get(), out); });
}

inline std::string Client::initiate_logout(NullableString request_json) const {
  const soidc_client* c = checked("initiate_logout");
  const auto r = detail::nullable(request_json, "request_json");
  return detail::call_for_document([&](char** out) { return soidc_initiate_logout(c, r.get(), out); });
}

inline std::string Client::decode_id_token(std::string_view raw_token, NullableString options_json,
                                           const AcrValidator& validate_acr) const {
  const soidc_client* c = checked("decode_id_token");
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  // The C API takes a mutable user_data pointer; the trampoline only reads through it.
  void* user_data = validate_acr ? const_cast<AcrValidator*>(&validate_acr) : nullptr;
  const soidc_acr_validator callback = validate_acr ? &detail::acr_trampoline : nullptr;
  return detail::call_for_document([&](char** out) {
    return soidc_decode_id_token(c, t.get(), o.get(), callback, user_data, out);
  });
}

inline std::string Client::decode_access_token(std::string_view raw_token,
                                               NullableString options_json) const {
  const soidc_client* c = checked("decode_access_token");
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_decode_access_token(c, t.get(), o.get(), out); });
}

inline std::string Client::decode_logout_token(std::string_view raw_token,
                                               NullableString options_json) const {
  const soidc_client* c = checked("decode_logout_token");
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  return detail::call_for_document(
      [&](char** out) { return soidc_decode_logout_token(c, t.get(), o.get(), out); });
}

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

/// Log levels (SOIDC_LOG_*): a message is delivered when its level is at most the
/// installed maximum.
enum class LogLevel : int {
  /// Errors.
  Error = SOIDC_LOG_ERROR,
  /// Warnings (a JWKS refresh failed and old keys stay in use, ...).
  Warn = SOIDC_LOG_WARN,
  /// Information (keys fetched, a token rejected and why, ...).
  Info = SOIDC_LOG_INFO,
  /// Debugging (each HTTP exchange: host, status, size).
  Debug = SOIDC_LOG_DEBUG,
  /// Tracing.
  Trace = SOIDC_LOG_TRACE,
};

/// A C++ log callback: the level and the message (valid only during the call;
/// it never contains secrets). It may be called from any thread that calls into
/// soidc, concurrently, so it must be thread-safe.
using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

namespace detail {

struct LogState {
  std::mutex setter;   // serialises set_log_callback()
  std::mutex current_mutex;  // guards `current` (held only to copy or swap it)
  std::shared_ptr<const LogCallback> current;
};

// Never destroyed: soidc may still log from other threads while the process exits.
inline LogState& log_state() {
  static LogState* const state = new LogState();
  return *state;
}

// Adapts soidc_log_callback to the installed LogCallback. The callable is kept
// alive (shared ownership) for the length of each delivery, so replacing it while
// another thread logs is safe. An exception is dropped here: it never unwinds
// through soidc.
inline void log_trampoline(int level, const char* message, void* /*user_data*/) noexcept {
  try {
    std::shared_ptr<const LogCallback> callback;
    {
      LogState& state = log_state();
      const std::lock_guard<std::mutex> lock(state.current_mutex);
      callback = state.current;
    }
    if (callback && *callback) {
      (*callback)(static_cast<LogLevel>(level),
                  message != nullptr ? std::string_view(message) : std::string_view());
    }
  } catch (...) {
    // A log callback must not fail the operation being logged.
  }
}

}  // namespace detail

/// Installs a process-wide log callback (soidc_set_log_callback) receiving
/// messages up to `max_level`; an empty `callback` (nullptr) turns logging off.
///
/// The binding copies `callback` into static storage (guarded by a mutex) and keeps
/// it until the next call replaces it; a delivery already running on another
/// thread finishes with the previous callable, which stays alive until then.
/// Anything the callable refers to (captured by reference or pointer) must
/// outlive its installation: keep it valid until set_log_callback(nullptr) (or a
/// replacement) has returned and concurrent soidc calls have finished. An
/// exception thrown by the callable is caught and the message dropped. Do not
/// call set_log_callback() from inside the callback.
inline void set_log_callback(LogCallback callback, LogLevel max_level = LogLevel::Info) {
  detail::LogState& state = detail::log_state();
  const std::lock_guard<std::mutex> serialise(state.setter);
  // The replaced callable is destroyed outside current_mutex (its destructor may be slow).
  std::shared_ptr<const LogCallback> previous;
  if (!callback) {
    soidc_set_log_callback(nullptr, 0, nullptr);
    const std::lock_guard<std::mutex> lock(state.current_mutex);
    previous = std::exchange(state.current, nullptr);
    return;
  }
  auto next = std::make_shared<const LogCallback>(std::move(callback));
  {
    const std::lock_guard<std::mutex> lock(state.current_mutex);
    previous = std::exchange(state.current, std::move(next));
  }
  soidc_set_log_callback(&detail::log_trampoline, static_cast<int>(max_level), nullptr);
}

namespace detail {

// Adapts soidc_log_callback to one client's LogCallback (passed as user_data).
inline void client_log_trampoline(int level, const char* message, void* user_data) noexcept {
  try {
    const auto* callback = static_cast<const LogCallback*>(user_data);
    if (callback != nullptr && *callback) {
      (*callback)(static_cast<LogLevel>(level),
                  message != nullptr ? std::string_view(message) : std::string_view());
    }
  } catch (...) {
    // A log callback must not fail the operation being logged.
  }
}

}  // namespace detail

template <class F>
inline void Client::set_log_callback(F&& callback, LogLevel max_level) {
  const soidc_client* c = checked("set_log_callback");
  LogCallback fn(std::forward<F>(callback));
  Status status = SOIDC_OK;
  if (!fn) {
    status = soidc_client_set_log_callback(c, nullptr, 0, nullptr);
  } else {
    auto owned = std::make_shared<LogCallback>(std::move(fn));
    log_callbacks_.push_back(owned);
    status = soidc_client_set_log_callback(c, &detail::client_log_trampoline,
                                           static_cast<int>(max_level), owned.get());
  }
  if (status != SOIDC_OK) {
    throw detail::binding_error(status, "soidc_client_set_log_callback failed");
  }
}

}  // namespace soidc

#endif  // SOIDC_HPP
