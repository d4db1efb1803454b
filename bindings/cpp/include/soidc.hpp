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
//   soidc::NullableString) and are copied into NUL-terminated buffers for the call.
//   Every string the library hands out is adopted at once and freed with
//   soidc_string_free() on every path.
// - Typed results built on the library's JSON documents: soidc::TokenResponse,
//   soidc::Claims, soidc::Introspection, soidc::DeviceAuthorization,
//   soidc::AuthStart, soidc::ProviderMetadata, soidc::Jwks. Each keeps the document:
//   raw() is the JSON text, json() the parsed value, get<T>("/json/pointer") reads
//   any member. They convert implicitly to `const std::string&` (the raw JSON), so
//   code written when the methods returned std::string keeps compiling.
// - soidc::JsonValue: a small, strict RFC 8259 reader (nested values, numbers,
//   escapes, surrogate pairs, UTF-8 checked, duplicate member names refused, nesting
//   capped at 64) with RFC 6901 JSON pointers, and soidc::json_quote() for building
//   an options document from untrusted values.
// - Errors, two ways: every method throws soidc::Error, and every method has a
//   non-throwing twin `try_<method>` returning soidc::Result<T> (a value or a
//   soidc::Error; C++17 has no std::expected).
// - C++ callables (lambdas with captures) for the ACR validator and the log
//   callback, behind trampolines that never let an exception unwind into soidc.
//   A client's log callables (Client::set_log_callback, or the from_issuer_url
//   overload that installs one before the discovery) are kept until the client's
//   handle is freed, as soidc.h requires of per-client user_data.
//
// Errors: exceptions or results
// Every call may fail for reasons outside the caller's control (network, provider,
// a token that does not validate), and the C API returns a rich error document for
// each failure; soidc::Error carries the status, the message, the validation
// `reason` and the whole document. The throwing methods keep the successful path a
// plain return and cannot be ignored. The try_ forms suit code that handles
// failures where they happen, and code built with -fno-exceptions: the header
// compiles without exceptions, the try_ forms work unchanged, and a throwing method
// (or Result::value() on an error) calls std::abort() instead of throwing. The one
// expected non-success is SOIDC_ERR_PENDING from a single non-blocking device poll:
// test error().status() (or catch soidc::Error), or poll with {"wait": true}.
//
// Thread safety (the C API's rules)
// - A `const soidc::Client &` may be used by any number of threads at once: every
//   const method is thread-safe, and the client's caches are synchronised inside
//   the library. Destroying, moving or assigning a Client must not race with other
//   calls on it. Share one client (for example through std::shared_ptr<const Client>)
//   rather than creating one per request: it holds the JWKS cache and connection pool.
// - soidc::Error objects and the typed results are immutable after construction and
//   cheap to copy (shared state); distinct copies may be used by distinct threads.
// - soidc::set_log_callback() may be called from any thread, but not from inside a
//   log callback.

#ifndef SOIDC_HPP
#define SOIDC_HPP

#include <soidc.h>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <limits>
#include <locale>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

/// 1 when the translation unit is compiled with C++ exceptions, 0 with
/// -fno-exceptions (then a throwing method calls std::abort() instead of throwing).
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define SOIDC_HPP_EXCEPTIONS 1
#else
#define SOIDC_HPP_EXCEPTIONS 0
#endif

/// The C++ binding of soidc. Everything public is documented where it is declared.
namespace soidc {

/// A soidc status code (`SOIDC_OK`, `SOIDC_ERR_VALIDATION`, ...), as in soidc.h.
using Status = soidc_status;

/// A point in time (Unix seconds of `exp`, `iat`, ... converted to the system clock).
using TimePoint = std::chrono::system_clock::time_point;

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
// JSON
// ---------------------------------------------------------------------------

namespace detail {
class JsonParser;
}  // namespace detail

/// One parsed JSON value (RFC 8259), read-only. Made by JsonValue::parse(), and
/// held by every typed result (json()). Copies are deep; the typed results share
/// theirs instead.
///
/// Reading never fails: an accessor asked for a type the value does not have
/// returns std::nullopt (or nullptr, or an empty list), so a missing or mistyped
/// member is simply absent.
class JsonValue {
 public:
  /// The JSON types.
  enum class Type {
    /// `null` (also a default-constructed JsonValue).
    Null,
    /// `true` or `false`.
    Bool,
    /// A number (its text is kept, so integers are exact up to 64 bits).
    Number,
    /// A string (UTF-8).
    String,
    /// An array.
    Array,
    /// An object (member names are unique: duplicates are refused by parse()).
    Object,
  };

  /// The largest nesting of arrays and objects parse() accepts (as the library's own reader).
  static constexpr int max_depth = 64;

  /// `null`.
  JsonValue() = default;

  /// Parses a complete JSON text (one value, surrounded by optional whitespace).
  /// Strict RFC 8259: numbers by the grammar, strings valid UTF-8 without raw
  /// control characters, `\u` escapes with surrogates only in pairs, no duplicate
  /// member names in an object, nesting at most max_depth. Returns std::nullopt on
  /// any violation and, if `error` is not null, stores what and where in it.
  [[nodiscard]] static std::optional<JsonValue> parse(std::string_view text, std::string* error = nullptr);

  /// The type of this value.
  [[nodiscard]] Type type() const noexcept { return type_; }
  /// Whether this is `null`.
  [[nodiscard]] bool is_null() const noexcept { return type_ == Type::Null; }
  /// Whether this is `true` or `false`.
  [[nodiscard]] bool is_bool() const noexcept { return type_ == Type::Bool; }
  /// Whether this is a number.
  [[nodiscard]] bool is_number() const noexcept { return type_ == Type::Number; }
  /// Whether this is a string.
  [[nodiscard]] bool is_string() const noexcept { return type_ == Type::String; }
  /// Whether this is an array.
  [[nodiscard]] bool is_array() const noexcept { return type_ == Type::Array; }
  /// Whether this is an object.
  [[nodiscard]] bool is_object() const noexcept { return type_ == Type::Object; }

  /// The boolean, or std::nullopt if this is not a boolean.
  [[nodiscard]] std::optional<bool> as_bool() const noexcept {
    return type_ == Type::Bool ? std::optional<bool>(bool_) : std::nullopt;
  }
  /// The string, or nullptr if this is not a string. Valid as long as this value.
  [[nodiscard]] const std::string* as_string() const noexcept {
    return type_ == Type::String ? &text_ : nullptr;
  }
  /// The number as a 64-bit integer: exact for an integer literal in range, and
  /// for a number with a fraction or exponent whose value is a whole number that a
  /// double holds exactly (1e3, 5.0). std::nullopt otherwise (not a number, out of
  /// range, 1.5).
  [[nodiscard]] std::optional<std::int64_t> as_int64() const;
  /// The number as a double (the nearest), or std::nullopt if this is not a number.
  [[nodiscard]] std::optional<double> as_double() const;
  /// The number's text as written (e.g. "1.50e2"); empty if this is not a number.
  [[nodiscard]] std::string_view number_text() const noexcept {
    return type_ == Type::Number ? std::string_view(text_) : std::string_view();
  }

  /// The elements of an array (empty if this is not an array).
  [[nodiscard]] const std::vector<JsonValue>& elements() const noexcept {
    return type_ == Type::Array ? items_ : empty_items();
  }
  /// The member names of an object, in document order (empty if not an object).
  [[nodiscard]] const std::vector<std::string>& keys() const noexcept { return keys_; }
  /// The number of elements of an array or members of an object; 0 otherwise.
  [[nodiscard]] std::size_t size() const noexcept {
    return type_ == Type::Array || type_ == Type::Object ? items_.size() : 0;
  }
  /// The member `key` of an object, or nullptr if absent or this is not an object.
  [[nodiscard]] const JsonValue* find(std::string_view key) const noexcept;

  /// The value at an RFC 6901 JSON pointer ("" is this value; "/a/0/b~1c" is
  /// member "b/c" of element 0 of member "a"), or nullptr if there is none or the
  /// pointer is malformed. The result lives as long as this value.
  [[nodiscard]] const JsonValue* at(std::string_view pointer) const noexcept;

  /// The value at `pointer` (see at()) as a T, or std::nullopt if it is absent or
  /// of another type. T is one of: std::string, bool, std::int64_t (see
  /// as_int64()) or another integer type (when the value fits it), double,
  /// std::vector<std::string> (an array of strings only), JsonValue (a copy).
  template <class T>
  [[nodiscard]] std::optional<T> get(std::string_view pointer) const;

  /// Where this value was in the text it was parsed from: offset and length.
  [[nodiscard]] std::pair<std::size_t, std::size_t> source_span() const noexcept {
    return {begin_, end_ - begin_};
  }

 private:
  static const std::vector<JsonValue>& empty_items() noexcept {
    static const std::vector<JsonValue> empty;
    return empty;
  }

  Type type_ = Type::Null;
  bool bool_ = false;
  std::string text_;               // a string's value, or a number's text
  std::vector<JsonValue> items_;   // an array's elements, or an object's member values
  std::vector<std::string> keys_;  // an object's member names (parallel to items_)
  std::size_t begin_ = 0;
  std::size_t end_ = 0;

  friend class detail::JsonParser;
};

namespace detail {

template <class>
inline constexpr bool always_false = false;

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

// The strict RFC 8259 reader behind JsonValue::parse. It never throws on bad
// input (only std::bad_alloc can escape); the first violation is kept in error_.
class JsonParser {
 public:
  explicit JsonParser(std::string_view text) noexcept : s_(text) {}

  bool document(JsonValue& out) {
    if (!value(out, 0)) {
      return false;
    }
    skip_ws();
    if (i_ != s_.size()) {
      return fail("unexpected text after the JSON value");
    }
    return true;
  }

  const std::string& error() const noexcept { return error_; }

 private:
  bool fail(const char* what) {
    if (error_.empty()) {
      error_ = std::string(what) + " at offset " + std::to_string(i_);
    }
    return false;
  }

  void skip_ws() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  bool literal(std::string_view word) noexcept {
    if (s_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return true;
    }
    return false;
  }

  static bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

  bool hex4(std::uint32_t& value) {
    if (s_.size() - i_ < 4) {
      return fail("truncated \\u escape");
    }
    value = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      std::uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return fail("bad hex digit in a \\u escape");
      }
      value = value * 16 + d;
    }
    return true;
  }

  // One UTF-8 encoded character (first byte at s_[i_], >= 0x80), checked: no
  // overlong forms, no surrogates, nothing above U+10FFFF.
  bool utf8(std::string& out) {
    const auto b0 = static_cast<unsigned char>(s_[i_]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    } else {
      return fail("invalid UTF-8");
    }
    if (s_.size() - i_ < len) {
      return fail("truncated UTF-8");
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s_[i_ + k]);
      if ((b & 0xC0u) != 0x80u) {
        return fail("invalid UTF-8");
      }
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return fail("invalid UTF-8");
    }
    out.append(s_.data() + i_, len);
    i_ += len;
    return true;
  }

  bool string(std::string& out) {
    ++i_;  // the opening quote
    for (;;) {
      if (i_ >= s_.size()) {
        return fail("unterminated string");
      }
      const char c = s_[i_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (u < 0x20) {
        return fail("control character in a string");
      }
      if (u >= 0x80) {
        if (!utf8(out)) {
          return false;
        }
        continue;
      }
      ++i_;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) {
        return fail("unterminated string");
      }
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) {
            return false;
          }
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("lone low surrogate in a \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (!literal("\\u")) {
              return fail("high surrogate not followed by a low surrogate");
            }
            if (!hex4(low)) {
              return false;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
              return fail("high surrogate not followed by a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          json_append_utf8(out, cp);
          break;
        }
        default:
          return fail("unknown escape in a string");
      }
    }
  }

  bool number(std::string& out) {
    const std::size_t start = i_;
    if (s_[i_] == '-') {
      ++i_;
    }
    if (i_ >= s_.size() || !digit(s_[i_])) {
      return fail("bad number");
    }
    if (s_[i_] == '0') {
      ++i_;
      if (i_ < s_.size() && digit(s_[i_])) {
        return fail("number with a leading zero");
      }
    } else {
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) {
        return fail("bad number: no digit after '.'");
      }
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) {
        return fail("bad number: no digit in the exponent");
      }
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    out.assign(s_.data() + start, i_ - start);
    return true;
  }

  bool value(JsonValue& v, int depth) {
    skip_ws();
    if (i_ >= s_.size()) {
      return fail("unexpected end of the JSON text");
    }
    v.begin_ = i_;
    const char c = s_[i_];
    bool ok = true;
    if (c == '{' || c == '[') {
      if (depth >= JsonValue::max_depth) {
        return fail("nesting deeper than 64");
      }
      ok = c == '{' ? object(v, depth) : array(v, depth);
    } else if (c == '"') {
      v.type_ = JsonValue::Type::String;
      ok = string(v.text_);
    } else if (c == '-' || digit(c)) {
      v.type_ = JsonValue::Type::Number;
      ok = number(v.text_);
    } else if (literal("true")) {
      v.type_ = JsonValue::Type::Bool;
      v.bool_ = true;
    } else if (literal("false")) {
      v.type_ = JsonValue::Type::Bool;
    } else if (literal("null")) {
      v.type_ = JsonValue::Type::Null;
    } else {
      return fail("unexpected character");
    }
    v.end_ = i_;
    return ok;
  }

  bool object(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::Object;
    ++i_;
    skip_ws();
    if (literal("}")) {
      return true;
    }
    for (;;) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '"') {
        return fail("expected a member name");
      }
      std::string key;
      const std::size_t key_at = i_;
      if (!string(key)) {
        return false;
      }
      for (const std::string& seen : v.keys_) {
        if (seen == key) {
          i_ = key_at;
          return fail("duplicate member name");
        }
      }
      skip_ws();
      if (!literal(":")) {
        return fail("expected ':'");
      }
      v.keys_.push_back(std::move(key));
      v.items_.emplace_back();
      if (!value(v.items_.back(), depth + 1)) {
        return false;
      }
      skip_ws();
      if (literal(",")) {
        continue;
      }
      if (literal("}")) {
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(JsonValue& v, int depth) {
    v.type_ = JsonValue::Type::Array;
    ++i_;
    skip_ws();
    if (literal("]")) {
      return true;
    }
    for (;;) {
      v.items_.emplace_back();
      if (!value(v.items_.back(), depth + 1)) {
        return false;
      }
      skip_ws();
      if (literal(",")) {
        continue;
      }
      if (literal("]")) {
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::string error_;
};

}  // namespace detail

inline std::optional<JsonValue> JsonValue::parse(std::string_view text, std::string* error) {
  detail::JsonParser parser(text);
  JsonValue value;
  if (!parser.document(value)) {
    if (error != nullptr) {
      *error = parser.error();
    }
    return std::nullopt;
  }
  return value;
}

inline std::optional<std::int64_t> JsonValue::as_int64() const {
  if (type_ != Type::Number) {
    return std::nullopt;
  }
  if (text_.find_first_of(".eE") == std::string::npos) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), n);
    if (ec != std::errc() || end != text_.data() + text_.size()) {
      return std::nullopt;  // out of range
    }
    return n;
  }
  const std::optional<double> d = as_double();
  // Whole numbers a double holds exactly (|d| <= 2^53) convert without loss.
  if (!d || *d != *d || *d < -9007199254740992.0 || *d > 9007199254740992.0 ||
      static_cast<double>(static_cast<std::int64_t>(*d)) != *d) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*d);
}

inline std::optional<double> JsonValue::as_double() const {
  if (type_ != Type::Number) {
    return std::nullopt;
  }
  // The classic locale: the decimal point is '.', whatever the program's locale is.
  std::istringstream in(text_);
  in.imbue(std::locale::classic());
  double d = 0;
  in >> d;
  if (in.fail()) {
    // Out of double's range: the nearest is infinity.
    return text_[0] == '-' ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
  }
  return d;
}

inline const JsonValue* JsonValue::find(std::string_view key) const noexcept {
  if (type_ != Type::Object) {
    return nullptr;
  }
  for (std::size_t k = 0; k < keys_.size(); ++k) {
    if (keys_[k] == key) {
      return &items_[k];
    }
  }
  return nullptr;
}

inline const JsonValue* JsonValue::at(std::string_view pointer) const noexcept {
  const JsonValue* v = this;
  if (pointer.empty()) {
    return v;
  }
  if (pointer[0] != '/') {
    return nullptr;
  }
  std::size_t pos = 1;
  for (;;) {
    const std::size_t slash = pointer.find('/', pos);
    const std::string_view raw =
        pointer.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (v->type_ == Type::Object) {
      // Unescape ~1 -> '/' and ~0 -> '~' while comparing with each member name.
      const JsonValue* next = nullptr;
      for (std::size_t k = 0; k < v->keys_.size() && next == nullptr; ++k) {
        const std::string& name = v->keys_[k];
        std::size_t r = 0;
        std::size_t n = 0;
        bool match = true;
        while (r < raw.size() && match) {
          char c = raw[r++];
          if (c == '~') {
            if (r >= raw.size() || (raw[r] != '0' && raw[r] != '1')) {
              return nullptr;  // malformed escape
            }
            c = raw[r++] == '0' ? '~' : '/';
          }
          match = n < name.size() && name[n++] == c;
        }
        if (match && n == name.size()) {
          next = &v->items_[k];
        }
      }
      v = next;
    } else if (v->type_ == Type::Array) {
      // An index: "0" or digits without a leading zero, within the array.
      if (raw.empty() || (raw.size() > 1 && raw[0] == '0') || raw.size() > 18) {
        return nullptr;
      }
      std::size_t index = 0;
      for (const char c : raw) {
        if (c < '0' || c > '9') {
          return nullptr;
        }
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      v = index < v->items_.size() ? &v->items_[index] : nullptr;
    } else {
      return nullptr;
    }
    if (v == nullptr || slash == std::string_view::npos) {
      return v;
    }
    pos = slash + 1;
  }
}

template <class T>
inline std::optional<T> JsonValue::get(std::string_view pointer) const {
  const JsonValue* v = at(pointer);
  if (v == nullptr) {
    return std::nullopt;
  }
  if constexpr (std::is_same_v<T, std::string>) {
    const std::string* s = v->as_string();
    return s != nullptr ? std::optional<std::string>(*s) : std::nullopt;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v->as_bool();
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return v->as_int64();
  } else if constexpr (std::is_integral_v<T>) {
    // Other integer types: the int64 value if it fits T.
    const std::optional<std::int64_t> n = v->as_int64();
    if (!n) {
      return std::nullopt;
    }
    if constexpr (std::is_signed_v<T>) {
      if (*n < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          *n > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
        return std::nullopt;
      }
    } else {
      if (*n < 0 || static_cast<std::uint64_t>(*n) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
        return std::nullopt;
      }
    }
    return static_cast<T>(*n);
  } else if constexpr (std::is_same_v<T, double>) {
    return v->as_double();
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!v->is_array()) {
      return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(v->items_.size());
    for (const JsonValue& item : v->items_) {
      if (!item.is_string()) {
        return std::nullopt;
      }
      out.push_back(item.text_);
    }
    return out;
  } else if constexpr (std::is_same_v<T, JsonValue>) {
    return *v;
  } else {
    static_assert(detail::always_false<T>,
                  "JsonValue::get<T>: T is one of std::string, bool, an integer type, double, "
                  "std::vector<std::string>, JsonValue");
    return std::nullopt;
  }
}

/// Returns the string value of the top-level member `key` of the JSON object `json`
/// (escapes decoded), or std::nullopt when the member is absent or not a string,
/// or `json` is not a valid JSON object (strictly parsed, see JsonValue::parse).
/// Kept for callers of earlier versions; the typed results and JsonValue read
/// nested and non-string members too.
[[nodiscard]] inline std::optional<std::string> json_string_member(std::string_view json,
                                                                   std::string_view key) {
  const std::optional<JsonValue> doc = JsonValue::parse(json);
  if (!doc) {
    return std::nullopt;
  }
  const JsonValue* member = doc->find(key);
  if (member == nullptr || !member->is_string()) {
    return std::nullopt;
  }
  return *member->as_string();
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

/// The `reason` values of error documents (Error::reason()): why a token did not
/// validate, or (`timeout`) why a call failed. New reasons may be added by later
/// library versions.
namespace reason {
/// A cache_only decode found no keys cached yet. Not the token's fault: the token
/// was not checked (a server answers 503 and retries, not 401).
inline constexpr std::string_view no_keys_cached = "no_keys_cached";
/// No key of the provider's key set has the token's `kid`.
inline constexpr std::string_view unknown_kid = "unknown_kid";
/// The signature does not verify, or the algorithm or key does not fit.
inline constexpr std::string_view signature = "signature";
/// `exp` has passed (beyond the leeway).
inline constexpr std::string_view expired = "expired";
/// `iss` is not the provider's issuer.
inline constexpr std::string_view issuer = "issuer";
/// `aud` does not contain the expected audience.
inline constexpr std::string_view audience = "audience";
/// An access token lacks a required scope (error "insufficient_scope", HTTP 403).
inline constexpr std::string_view scope = "scope";
/// An ID token's `nonce` is missing or different, or present although none was
/// expected (pass `"ignore_nonce": true` where the nonce is no longer at hand).
inline constexpr std::string_view nonce = "nonce";
/// `sub` is empty or longer than 255 bytes (OpenID Connect Core §2).
inline constexpr std::string_view sub = "sub";
/// `acr` is not in `acr_values_allowed`, or the ACR validator refused it.
inline constexpr std::string_view acr = "acr";
/// A logout token without `exp` (accepted only with `"allow_missing_exp": true`).
inline constexpr std::string_view exp = "exp";
/// A logout token without `exp` whose `jti` this client already accepted.
inline constexpr std::string_view replay = "replay";
/// Not a validation failure: the call's time budget (`timeout_ms`, or
/// `create_timeout_ms` for a creation) ran out (`SOIDC_ERR_NETWORK`).
inline constexpr std::string_view timeout = "timeout";
/// Not a validation failure: a client with DPoP on got a token response whose
/// `token_type` is not `DPoP`, a token the provider did not bind to the client's key
/// (`SOIDC_ERR_PROTOCOL`, RFC 9449 §5).
inline constexpr std::string_view dpop_not_bound = "dpop_not_bound";
}  // namespace reason

/// The error of every failing call: thrown by the throwing methods, held by the
/// soidc::Result of the try_ methods.
///
/// It carries the status code, the message (the error document's "message"
/// member), the validation `reason` and the whole error document, which for
/// `SOIDC_ERR_PROVIDER` and `SOIDC_ERR_AUTHENTICATION_FAILED` also holds the
/// provider's `error`, `error_description`, `error_uri` and `http_status` (read
/// them with string_member() or get<T>()). `what()` is "<status name>: <message>".
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

  /// Why a token did not validate: the error document's "reason" member (one of
  /// the soidc::reason values, e.g. "expired"), or std::nullopt when it has none.
  /// Compare with `e.reason() == soidc::reason::no_keys_cached`.
  [[nodiscard]] const std::optional<std::string>& reason() const noexcept { return state_->reason; }

  /// The whole error document, a JSON object such as
  /// {"status":"provider","message":"...","error":"invalid_grant",...}.
  [[nodiscard]] const std::string& document() const noexcept { return state_->document; }

  /// The parsed error document (null if the document is empty or not JSON).
  [[nodiscard]] const JsonValue& json() const noexcept { return state_->json; }

  /// A member of the error document at an RFC 6901 pointer, as a T (see
  /// JsonValue::get), e.g. `get<std::int64_t>("/http_status")`.
  template <class T>
  [[nodiscard]] std::optional<T> get(std::string_view pointer) const {
    return state_->json.get<T>(pointer);
  }

  /// A top-level string member of the error document, e.g. "error" (the OAuth
  /// error code for provider errors) or "error_description"; nullopt if absent.
  [[nodiscard]] std::optional<std::string> string_member(std::string_view key) const {
    const JsonValue* member = state_->json.find(key);
    if (member == nullptr || !member->is_string()) {
      return std::nullopt;
    }
    return *member->as_string();
  }

 private:
  struct State {
    std::string message;
    std::string document;
    std::optional<std::string> reason;
    JsonValue json;
  };

  Error(Status status, std::shared_ptr<const State> state)
      : std::runtime_error(std::string(soidc::status_name(status)) + ": " + state->message),
        status_(status),
        state_(std::move(state)) {}

  static State make_state(Status status, std::string document) {
    State st;
    if (std::optional<JsonValue> parsed = JsonValue::parse(document)) {
      st.json = std::move(*parsed);
    }
    if (std::optional<std::string> m = st.json.get<std::string>("/message")) {
      st.message = std::move(*m);
    } else if (!document.empty()) {
      st.message = document;
    } else {
      st.message = "soidc call failed with status " + std::to_string(status) + " and no error document";
    }
    st.reason = st.json.get<std::string>("/reason");
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

// Throws `error`, or aborts when the translation unit has no exceptions.
[[noreturn]] inline void raise(const Error& error) {
#if SOIDC_HPP_EXCEPTIONS
  throw error;
#else
  (void)error;
  std::abort();
#endif
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------

/// The outcome of a try_ method: a T, or the soidc::Error the throwing form would
/// throw. C++17 has no std::expected; this is the small subset that is needed.
///
///     soidc::Result<soidc::Claims> claims = client.try_decode_access_token(token, options);
///     if (!claims) {
///       if (claims.error().reason() == soidc::reason::no_keys_cached) { /* 503 */ }
///       return;
///     }
///     std::cout << claims->sub().value_or("-");
template <class T>
class [[nodiscard]] Result {
 public:
  /// A success holding `value`.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  /// A failure holding `error`.
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  /// Whether this holds a value.
  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  /// Whether this holds a value.
  explicit operator bool() const noexcept { return ok(); }

  /// The value; throws error() if there is none (aborts without exceptions).
  [[nodiscard]] T& value() & {
    check();
    return *std::get_if<0>(&v_);
  }
  /// The value; throws error() if there is none (aborts without exceptions).
  [[nodiscard]] const T& value() const& {
    check();
    return *std::get_if<0>(&v_);
  }
  /// The value, moved out; throws error() if there is none (aborts without exceptions).
  [[nodiscard]] T&& value() && {
    check();
    return std::move(*std::get_if<0>(&v_));
  }
  /// The value, or `fallback` converted to T when this holds an error.
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return ok() ? *std::get_if<0>(&v_) : static_cast<T>(std::forward<U>(fallback));
  }
  /// The value (moved out), or `fallback` converted to T when this holds an error.
  template <class U>
  [[nodiscard]] T value_or(U&& fallback) && {
    return ok() ? std::move(*std::get_if<0>(&v_)) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The value; the precondition is ok() (aborts otherwise).
  [[nodiscard]] T& operator*() & { return *checked_ptr(); }
  /// The value; the precondition is ok() (aborts otherwise).
  [[nodiscard]] const T& operator*() const& { return *checked_ptr(); }
  /// The value's members; the precondition is ok() (aborts otherwise).
  T* operator->() { return checked_ptr(); }
  /// The value's members; the precondition is ok() (aborts otherwise).
  const T* operator->() const { return checked_ptr(); }

  /// The error; the precondition is !ok() (aborts otherwise).
  [[nodiscard]] const Error& error() const& {
    const Error* e = std::get_if<1>(&v_);
    if (e == nullptr) {
      std::abort();
    }
    return *e;
  }

 private:
  void check() const {
    if (const Error* e = std::get_if<1>(&v_)) {
      detail::raise(*e);
    }
  }
  T* checked_ptr() {
    T* p = std::get_if<0>(&v_);
    if (p == nullptr) {
      std::abort();
    }
    return p;
  }
  const T* checked_ptr() const {
    const T* p = std::get_if<0>(&v_);
    if (p == nullptr) {
      std::abort();
    }
    return p;
  }

  std::variant<T, Error> v_;
};

/// The outcome of a try_ method that returns nothing: success, or a soidc::Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  /// A success.
  Result() = default;
  /// A failure holding `error`.
  Result(Error error) : error_(std::move(error)) {}

  /// Whether the call succeeded.
  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  /// Whether the call succeeded.
  explicit operator bool() const noexcept { return ok(); }
  /// Does nothing on success; throws error() otherwise (aborts without exceptions).
  void value() const {
    if (error_) {
      detail::raise(*error_);
    }
  }
  /// The error; the precondition is !ok() (aborts otherwise).
  [[nodiscard]] const Error& error() const& {
    if (!error_) {
      std::abort();
    }
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

// ---------------------------------------------------------------------------
// Typed results
// ---------------------------------------------------------------------------

/// A JSON document returned by the library, parsed once and kept with its text.
/// The base of every typed result; cheap to copy (the state is shared).
class Document {
 public:
  /// Parses `json` into a Document; a text that is not valid JSON (see
  /// JsonValue::parse) is an error with `SOIDC_ERR_INVALID_ARGUMENT`. Use it to
  /// rebuild a typed result from JSON stored earlier, e.g.
  /// `soidc::TokenResponse(soidc::Document::parse(stored).value())`.
  [[nodiscard]] static Result<Document> parse(std::string json) {
    std::string problem;
    std::optional<JsonValue> value = JsonValue::parse(json, &problem);
    if (!value) {
      return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT, "not a valid JSON document: " + problem);
    }
    return Document(std::make_shared<const State>(State{std::move(json), std::move(*value)}));
  }

  /// An empty document (`null`, raw() "null").
  Document() : state_(empty_state()) {}

  /// The JSON text as the library returned it.
  [[nodiscard]] const std::string& raw() const noexcept { return state_->raw; }
  /// The same text, for code written when results were std::string.
  operator const std::string&() const noexcept { return state_->raw; }
  /// The parsed document.
  [[nodiscard]] const JsonValue& json() const noexcept { return state_->json; }
  /// The member at an RFC 6901 pointer as a T (see JsonValue::get), e.g.
  /// `get<std::string>("/address/country")`, `get<std::int64_t>("/exp")`.
  template <class T>
  [[nodiscard]] std::optional<T> get(std::string_view pointer) const {
    return state_->json.get<T>(pointer);
  }

 protected:
  /// The shared, immutable state of a document.
  struct State {
    /// The JSON text.
    std::string raw;
    /// The parsed text.
    JsonValue json;
  };

  /// A document with the given state.
  explicit Document(std::shared_ptr<const State> state) noexcept : state_(std::move(state)) {}

  /// A top-level string member, or std::nullopt.
  std::optional<std::string> string_at(std::string_view key) const {
    const JsonValue* v = state_->json.find(key);
    return v != nullptr && v->is_string() ? std::optional<std::string>(*v->as_string()) : std::nullopt;
  }
  /// A top-level string member by reference ("" when absent or not a string).
  const std::string& string_or_empty(std::string_view key) const noexcept {
    static const std::string empty;
    const JsonValue* v = state_->json.find(key);
    return v != nullptr && v->is_string() ? *v->as_string() : empty;
  }
  /// A top-level member holding seconds (a number; whole), or std::nullopt.
  std::optional<std::chrono::seconds> seconds_at(std::string_view key) const {
    const JsonValue* v = state_->json.find(key);
    const std::optional<std::int64_t> n = v != nullptr ? v->as_int64() : std::nullopt;
    return n ? std::optional<std::chrono::seconds>(std::chrono::seconds(*n)) : std::nullopt;
  }
  /// A top-level member holding Unix seconds, as a TimePoint (std::nullopt when
  /// absent, not a whole number, or outside what TimePoint can hold).
  std::optional<TimePoint> time_at(std::string_view key) const {
    const JsonValue* v = state_->json.find(key);
    const std::optional<std::int64_t> n = v != nullptr ? v->as_int64() : std::nullopt;
    constexpr std::int64_t limit =
        std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max()).count() - 1;
    if (!n || *n > limit || *n < -limit) {
      return std::nullopt;
    }
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(*n)));
  }
  /// The member `key` (an object) as its own Document, or std::nullopt.
  std::optional<Document> sub_document(std::string_view key) const {
    const JsonValue* v = state_->json.find(key);
    if (v == nullptr || !v->is_object()) {
      return std::nullopt;
    }
    const auto [offset, length] = v->source_span();
    std::string text = state_->raw.substr(offset, length);
    // Parsed again on its own, so that its source spans are those of its own text.
    std::optional<JsonValue> value = JsonValue::parse(text);
    if (!value) {
      return std::nullopt;  // cannot happen: a valid document's member is valid
    }
    return Document(std::make_shared<const State>(State{std::move(text), std::move(*value)}));
  }

 private:
  static std::shared_ptr<const State> empty_state() {
    static const std::shared_ptr<const State> empty = std::make_shared<const State>(State{"null", JsonValue()});
    return empty;
  }

  std::shared_ptr<const State> state_;
};

/// The claims of a token (decode_id_token, decode_access_token,
/// decode_logout_token, TokenResponse::id_token_claims) or of the UserInfo
/// endpoint (fetch_userinfo): typed accessors for the registered claims, get<T>()
/// for any other. An accessor returns std::nullopt (or an empty list) when the
/// claim is absent or of another type.
class Claims : public Document {
 public:
  /// An empty claim set.
  Claims() = default;
  /// The claims of `document` (a JSON object).
  explicit Claims(Document document) : Document(std::move(document)) {}

  /// `sub`: the subject.
  [[nodiscard]] std::optional<std::string> sub() const { return string_at("sub"); }
  /// `iss`: the issuer.
  [[nodiscard]] std::optional<std::string> iss() const { return string_at("iss"); }
  /// `aud` as a list, whether the token has one string or an array (empty when absent).
  [[nodiscard]] std::vector<std::string> aud() const {
    if (std::optional<std::string> one = string_at("aud")) {
      return {std::move(*one)};
    }
    return get<std::vector<std::string>>("/aud").value_or(std::vector<std::string>());
  }
  /// `exp`: the expiry.
  [[nodiscard]] std::optional<TimePoint> exp() const { return time_at("exp"); }
  /// `iat`: when the token was issued.
  [[nodiscard]] std::optional<TimePoint> iat() const { return time_at("iat"); }
  /// `nbf`: not valid before.
  [[nodiscard]] std::optional<TimePoint> nbf() const { return time_at("nbf"); }
  /// `auth_time`: when the user authenticated.
  [[nodiscard]] std::optional<TimePoint> auth_time() const { return time_at("auth_time"); }
  /// `nonce` (ID tokens).
  [[nodiscard]] std::optional<std::string> nonce() const { return string_at("nonce"); }
  /// `acr`: the authentication context class.
  [[nodiscard]] std::optional<std::string> acr() const { return string_at("acr"); }
  /// `azp`: the authorized party.
  [[nodiscard]] std::optional<std::string> azp() const { return string_at("azp"); }
  /// `sid`: the session id (logout tokens, ID tokens).
  [[nodiscard]] std::optional<std::string> sid() const { return string_at("sid"); }
  /// `jti`: the token's id.
  [[nodiscard]] std::optional<std::string> jti() const { return string_at("jti"); }
  /// `client_id` (access tokens, introspection).
  [[nodiscard]] std::optional<std::string> client_id() const { return string_at("client_id"); }
  /// `scope`, the space-separated string (access tokens, introspection).
  [[nodiscard]] std::optional<std::string> scope() const { return string_at("scope"); }
  /// `scope` split at spaces (empty when absent).
  [[nodiscard]] std::vector<std::string> scopes() const {
    std::vector<std::string> out;
    const std::string& s = string_or_empty("scope");
    std::size_t pos = 0;
    while (pos < s.size()) {
      const std::size_t space = s.find(' ', pos);
      const std::size_t end = space == std::string::npos ? s.size() : space;
      if (end > pos) {
        out.push_back(s.substr(pos, end - pos));
      }
      pos = end + 1;
    }
    return out;
  }
  /// Whether `scope` contains `wanted` as one of its space-separated values.
  [[nodiscard]] bool has_scope(std::string_view wanted) const {
    for (const std::string& s : scopes()) {
      if (s == wanted) {
        return true;
      }
    }
    return false;
  }
};

/// A token endpoint response (the grants, the code and device flows), with the
/// validated ID token's claims when there is an ID token.
class TokenResponse : public Document {
 public:
  /// An empty response.
  TokenResponse() = default;
  /// The response in `document` (the library's token response JSON).
  explicit TokenResponse(Document document) : Document(std::move(document)) {
    if (std::optional<Document> claims = sub_document("id_token_claims")) {
      id_token_claims_ = Claims(std::move(*claims));
    }
  }

  /// `access_token` (the library refuses a response without one).
  [[nodiscard]] const std::string& access_token() const noexcept { return string_or_empty("access_token"); }
  /// `token_type`, e.g. "Bearer".
  [[nodiscard]] const std::string& token_type() const noexcept { return string_or_empty("token_type"); }
  /// `expires_in`: the access token's lifetime from when it was issued.
  [[nodiscard]] std::optional<std::chrono::seconds> expires_in() const { return seconds_at("expires_in"); }
  /// `refresh_token`.
  [[nodiscard]] std::optional<std::string> refresh_token() const { return string_at("refresh_token"); }
  /// `id_token`, the raw JWT.
  [[nodiscard]] std::optional<std::string> id_token() const { return string_at("id_token"); }
  /// `scope` as granted (when the provider says).
  [[nodiscard]] std::optional<std::string> scope() const { return string_at("scope"); }
  /// The claims of the ID token, validated by the library (`id_token_claims`).
  [[nodiscard]] const std::optional<Claims>& id_token_claims() const noexcept { return id_token_claims_; }

 private:
  std::optional<Claims> id_token_claims_;
};

/// A token introspection response (RFC 7662): `active` and, for an active token,
/// its claims.
class Introspection : public Claims {
 public:
  /// An empty response (inactive).
  Introspection() = default;
  /// The response in `document`.
  explicit Introspection(Document document) : Claims(std::move(document)) {}

  /// `active` (the library guarantees a boolean; false when absent).
  [[nodiscard]] bool active() const { return get<bool>("/active").value_or(false); }
  /// `token_type`.
  [[nodiscard]] std::optional<std::string> token_type() const { return string_at("token_type"); }
  /// `username`.
  [[nodiscard]] std::optional<std::string> username() const { return string_at("username"); }
};

/// A device authorization response (RFC 8628 §3.2).
class DeviceAuthorization : public Document {
 public:
  /// An empty response.
  DeviceAuthorization() = default;
  /// The response in `document`.
  explicit DeviceAuthorization(Document document) : Document(std::move(document)) {}

  /// `device_code`, for device_authorization_poll().
  [[nodiscard]] const std::string& device_code() const noexcept { return string_or_empty("device_code"); }
  /// `user_code`, to show to the user.
  [[nodiscard]] const std::string& user_code() const noexcept { return string_or_empty("user_code"); }
  /// `verification_uri`, where the user enters the code.
  [[nodiscard]] const std::string& verification_uri() const noexcept {
    return string_or_empty("verification_uri");
  }
  /// `verification_uri_complete` (with the code in it), when given.
  [[nodiscard]] std::optional<std::string> verification_uri_complete() const {
    return string_at("verification_uri_complete");
  }
  /// `expires_in`: how long the codes are valid.
  [[nodiscard]] std::optional<std::chrono::seconds> expires_in() const { return seconds_at("expires_in"); }
  /// `interval`: the minimum time between polls, when given.
  [[nodiscard]] std::optional<std::chrono::seconds> interval() const { return seconds_at("interval"); }
  /// The PKCE `code_verifier` to pass to device_authorization_poll() (present when the
  /// start sent a code challenge: by default for a public client at a provider that
  /// advertises S256).
  [[nodiscard]] std::optional<std::string> code_verifier() const { return string_at("code_verifier"); }
};

/// The start of an authorization code flow (auth_code_start): send the browser to
/// url(), keep state, nonce and code_verifier for auth_code_handle_result().
class AuthStart : public Document {
 public:
  /// An empty start.
  AuthStart() = default;
  /// The start in `document`.
  explicit AuthStart(Document document) : Document(std::move(document)) {}

  /// The authorization URL.
  [[nodiscard]] const std::string& url() const noexcept { return string_or_empty("url"); }
  /// `state` (absent when switched off).
  [[nodiscard]] std::optional<std::string> state() const { return string_at("state"); }
  /// `nonce` (absent when switched off).
  [[nodiscard]] std::optional<std::string> nonce() const { return string_at("nonce"); }
  /// The PKCE `code_verifier` (absent when switched off).
  [[nodiscard]] std::optional<std::string> code_verifier() const { return string_at("code_verifier"); }
  /// The `redirect_uri` used.
  [[nodiscard]] std::optional<std::string> redirect_uri() const { return string_at("redirect_uri"); }
  /// The options document for auth_code_handle_result() that checks the redirect
  /// against this start: its state, nonce, code_verifier and redirect_uri.
  [[nodiscard]] std::string result_options() const {
    std::string out = "{";
    for (const char* key : {"state", "nonce", "code_verifier", "redirect_uri"}) {
      if (std::optional<std::string> v = string_at(key)) {
        out += out.size() > 1 ? "," : "";
        out += json_quote(key) + ":" + json_quote(*v);
      }
    }
    return out + "}";
  }
};

/// The provider metadata (provider_config): as discovered or given, unknown
/// members kept (read them with get<T>()).
class ProviderMetadata : public Document {
 public:
  /// Empty metadata.
  ProviderMetadata() = default;
  /// The metadata in `document`.
  explicit ProviderMetadata(Document document) : Document(std::move(document)) {}

  /// `issuer`.
  [[nodiscard]] const std::string& issuer() const noexcept { return string_or_empty("issuer"); }
  /// `authorization_endpoint`.
  [[nodiscard]] std::optional<std::string> authorization_endpoint() const {
    return string_at("authorization_endpoint");
  }
  /// `token_endpoint`.
  [[nodiscard]] std::optional<std::string> token_endpoint() const { return string_at("token_endpoint"); }
  /// `jwks_uri`.
  [[nodiscard]] std::optional<std::string> jwks_uri() const { return string_at("jwks_uri"); }
  /// `userinfo_endpoint`.
  [[nodiscard]] std::optional<std::string> userinfo_endpoint() const {
    return string_at("userinfo_endpoint");
  }
  /// `end_session_endpoint` (RP-initiated logout).
  [[nodiscard]] std::optional<std::string> end_session_endpoint() const {
    return string_at("end_session_endpoint");
  }
  /// `introspection_endpoint`.
  [[nodiscard]] std::optional<std::string> introspection_endpoint() const {
    return string_at("introspection_endpoint");
  }
  /// `revocation_endpoint`.
  [[nodiscard]] std::optional<std::string> revocation_endpoint() const {
    return string_at("revocation_endpoint");
  }
  /// `device_authorization_endpoint`.
  [[nodiscard]] std::optional<std::string> device_authorization_endpoint() const {
    return string_at("device_authorization_endpoint");
  }
};

/// The provider's key set (provider_keys), a JWKS: {"keys": [...]}.
class Jwks : public Document {
 public:
  /// An empty key set.
  Jwks() = default;
  /// The key set in `document`.
  explicit Jwks(Document document) : Document(std::move(document)) {}

  /// The number of keys.
  [[nodiscard]] std::size_t size() const noexcept {
    const JsonValue* keys = json().find("keys");
    return keys != nullptr ? keys->elements().size() : 0;
  }
  /// The keys (JWK objects); empty when there are none.
  [[nodiscard]] const std::vector<JsonValue>& keys() const noexcept {
    static const std::vector<JsonValue> none;
    const JsonValue* keys = json().find("keys");
    return keys != nullptr ? keys->elements() : none;
  }
  /// The `kid` of each key that has one, in order.
  [[nodiscard]] std::vector<std::string> key_ids() const {
    std::vector<std::string> out;
    for (const JsonValue& key : keys()) {
      if (std::optional<std::string> kid = key.get<std::string>("/kid")) {
        out.push_back(std::move(*kid));
      }
    }
    return out;
  }
};

/// Parses `json` as a T (one of the typed results); a text that is not valid JSON
/// is an error with `SOIDC_ERR_INVALID_ARGUMENT`.
template <class T>
[[nodiscard]] inline Result<T> from_json(std::string json) {
  static_assert(std::is_base_of_v<Document, T>, "from_json<T>: T is a typed result (Claims, TokenResponse, ...)");
  Result<Document> doc = Document::parse(std::move(json));
  if (!doc) {
    return doc.error();
  }
  return T(std::move(doc).value());
}

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
  /// NULL when `s` is disengaged (std::nullopt), otherwise its text; an engaged
  /// optional holding "" is passed as an empty string, not as NULL.
  NullableString(const std::optional<std::string>& s) noexcept
      : present_(s.has_value()), view_(s ? std::string_view(*s) : std::string_view()) {}
  /// NULL when `s` is disengaged (std::nullopt), otherwise its text; an engaged
  /// optional holding "" is passed as an empty string, not as NULL.
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

// A NUL-terminated copy of one argument for the duration of a C call (NULL when
// absent). A text with a NUL byte inside is not copied; the call refuses it.
class CString {
 public:
  CString(std::string_view text, bool present, const char* what) : what_(what) {
    if (present) {
      if (text.find('\0') != std::string_view::npos) {
        has_nul_ = true;
      } else {
        copy_.emplace(text);
      }
    }
  }
  const char* get() const noexcept { return copy_ ? copy_->c_str() : nullptr; }
  bool has_nul() const noexcept { return has_nul_; }
  const char* what() const noexcept { return what_; }

 private:
  std::optional<std::string> copy_;
  const char* what_;
  bool has_nul_ = false;
};

inline CString required(std::string_view text, const char* what) { return CString(text, true, what); }

inline CString nullable(NullableString text, const char* what) {
  return CString(text.view(), text.has_value(), what);
}

// The error for the first argument holding a NUL byte (never echoing the text:
// it may be a secret), or std::nullopt.
inline std::optional<Error> nul_error(std::initializer_list<const CString*> args) {
  for (const CString* arg : args) {
    if (arg->has_nul()) {
      return binding_error(SOIDC_ERR_INVALID_ARGUMENT, std::string(arg->what()) + " contains a NUL byte");
    }
  }
  return std::nullopt;
}

/// Frees a string handed out by soidc.
struct StringFree {
  void operator()(char* s) const noexcept { soidc_string_free(s); }
};

/// Owns a string handed out by soidc; adopted the moment the C call returns.
using UniqueString = std::unique_ptr<char, StringFree>;

// Runs `call(char **out)` (one C function), adopts its output string at once and
// returns it on SOIDC_OK, or the Error made from it otherwise.
template <class Call>
Result<std::string> call_for_document(Call&& call) {
  char* raw = nullptr;
  const Status status = std::forward<Call>(call)(&raw);
  const UniqueString document(raw);  // freed on every path below
  if (status != SOIDC_OK) {
    return Error(status, document ? std::string(document.get()) : std::string());
  }
  if (!document) {
    return binding_error(SOIDC_ERR_INTERNAL, "soidc returned SOIDC_OK but no document");
  }
  return std::string(document.get());
}

// Turns a successful call's document into the method's result type T.
template <class T>
Result<T> to_result(std::string document) {
  if constexpr (std::is_same_v<T, std::string>) {
    return document;
  } else if constexpr (std::is_void_v<T>) {
    (void)document;
    return Result<void>();
  } else {
    Result<Document> doc = Document::parse(std::move(document));
    if (!doc) {
      return binding_error(SOIDC_ERR_INTERNAL, "the library returned " + doc.error().message());
    }
    return T(std::move(doc).value());
  }
}

// Adapts a C++ ACR validator to soidc_acr_validator; `user_data` is the validator.
// An exception is caught here and rejects the token: it never unwinds through soidc.
inline int acr_trampoline(const char* acr, void* user_data) noexcept {
#if SOIDC_HPP_EXCEPTIONS
  try {
#endif
    const auto& validate =
        *static_cast<const std::function<bool(std::optional<std::string_view>)>*>(user_data);
    std::optional<std::string_view> value;
    if (acr != nullptr) {
      value = std::string_view(acr);
    }
    return validate(value) ? 0 : 1;
#if SOIDC_HPP_EXCEPTIONS
  } catch (...) {
    return 1;
  }
#endif
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------

/// The kind of a client (soidc_client_get_type()).
enum class ClientType : soidc_client_type {
  /// Not a client (only for a NULL handle; Client::get_type() fails instead).
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
  /// The client options as one JSON object (`timeout_ms`, `create_timeout_ms`,
  /// `leeway_s`, `auth_method`, `ca_file`, `client_secret_file`, `private_key_file`,
  /// ...; see soidc_client_from_issuer_url in soidc.h), passed through unchanged.
  /// With `client_secret_file`, leave client_secret absent.
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
/// passed through unchanged. Results are typed (TokenResponse, Claims, ...), each
/// keeping the library's JSON document (raw(), json(), get<T>()).
///
/// Every method comes in two forms: `name(...)` returns the result and throws
/// soidc::Error when the C function does not return `SOIDC_OK`; `try_name(...)`
/// takes the same arguments and returns a soidc::Result<T> holding the result or
/// that Error, and never throws it.
///
/// A default-constructed or moved-from Client is empty: operator bool is false and
/// every other method fails with `SOIDC_ERR_INVALID_ARGUMENT`.
///
/// Thread safety: the const methods may be called on one Client from many
/// threads at once; destruction, move and assignment must not race with them.
class Client {
 public:
  /// Creates a client by discovery (soidc_client_from_issuer_url): fetches
  /// `<issuer_url>/.well-known/openid-configuration`, whose `issuer` must equal
  /// `issuer_url` exactly. The whole creation is bounded by the option
  /// `create_timeout_ms` (default `timeout_ms`). Fails with INVALID_ARGUMENT, NETWORK
  /// (reason::timeout when that bound ran out), HTTP, PROTOCOL.
  [[nodiscard]] static Client from_issuer_url(std::string_view issuer_url,
                                              const ClientSettings& settings) {
    return try_from_issuer_url(issuer_url, settings).value();
  }
  /// from_issuer_url() without exceptions.
  [[nodiscard]] static Result<Client> try_from_issuer_url(std::string_view issuer_url,
                                                          const ClientSettings& settings);

  /// from_issuer_url() with this client's own log callback installed before the
  /// discovery starts (soidc_client_from_issuer_url_with_log), so that it also
  /// receives the messages of the creation itself (the discovery exchange, "client
  /// ready"), then everything set_log_callback() would. `log_callback` is any callable
  /// `void(soidc::LogLevel, std::string_view)` (an empty one: plain from_issuer_url());
  /// an exception inside it is caught and the message dropped. The binding keeps it
  /// alive until the Client is destroyed, or, when the creation fails, until this call
  /// returns.
  template <class F>
  [[nodiscard]] static Client from_issuer_url(std::string_view issuer_url, const ClientSettings& settings,
                                              F&& log_callback, LogLevel max_level) {
    return try_from_issuer_url(issuer_url, settings, std::forward<F>(log_callback), max_level).value();
  }
  /// from_issuer_url() with a log callback, without exceptions.
  template <class F>
  [[nodiscard]] static Result<Client> try_from_issuer_url(std::string_view issuer_url,
                                                          const ClientSettings& settings, F&& log_callback,
                                                          LogLevel max_level);

  /// Creates a client from a provider metadata document the caller already has
  /// (soidc_client_from_issuer_config); no network access.
  [[nodiscard]] static Client from_issuer_config(std::string_view provider_metadata_json,
                                                 const ClientSettings& settings) {
    return try_from_issuer_config(provider_metadata_json, settings).value();
  }
  /// from_issuer_config() without exceptions.
  [[nodiscard]] static Result<Client> try_from_issuer_config(std::string_view provider_metadata_json,
                                                             const ClientSettings& settings);

  /// An empty client (see the class comment); assign a real one to it later.
  Client() noexcept = default;
  /// Takes over `other`'s handle; `other` becomes empty.
  Client(Client&& other) noexcept = default;
  /// Frees this client's handle (if any) and takes over `other`'s; `other` becomes
  /// empty. The log callables of the old handle are released only after
  /// soidc_client_free() has returned.
  Client& operator=(Client&& other) noexcept {
    if (this != &other) {
      handle_ = std::move(other.handle_);                 // frees the old handle first,
      log_callbacks_ = std::move(other.log_callbacks_);  // then its callables
    }
    return *this;
  }
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
  [[nodiscard]] ClientType get_type() const { return try_get_type().value(); }
  /// get_type() without exceptions.
  [[nodiscard]] Result<ClientType> try_get_type() const;

  /// Gives this client its own log callback (soidc_client_set_log_callback): messages
  /// produced while a thread works on this client go to `callback` instead of the
  /// process-wide one; an empty callback returns to the process-wide one. Any callable
  /// `void(soidc::LogLevel, std::string_view)`; an exception inside it is caught and
  /// the message dropped. Every callable installed is kept alive until this Client is
  /// destroyed, even after it is replaced, so that a delivery running on another
  /// thread stays valid: installing callbacks over and over grows that list (one
  /// std::function each), so install one per client, not one per request.
  template <class F>
  void set_log_callback(F&& callback, LogLevel max_level) {
    try_set_log_callback(std::forward<F>(callback), max_level).value();
  }
  /// set_log_callback() without exceptions.
  template <class F>
  Result<void> try_set_log_callback(F&& callback, LogLevel max_level);

  /// The provider metadata, as discovered or given (soidc_client_provider_config).
  /// No network access.
  [[nodiscard]] ProviderMetadata provider_config() const { return try_provider_config().value(); }
  /// provider_config() without exceptions.
  [[nodiscard]] Result<ProviderMetadata> try_provider_config() const;

  /// The provider's JWKS as cached, fetched first if stale
  /// (soidc_client_provider_keys). Options: `timeout_ms`, `force_refresh`, `cache_only`.
  [[nodiscard]] Jwks provider_keys(NullableString options_json = nullptr) const {
    return try_provider_keys(options_json).value();
  }
  /// provider_keys() without exceptions.
  [[nodiscard]] Result<Jwks> try_provider_keys(NullableString options_json = nullptr) const;

  /// Creates a client from a document of export_state() (soidc_client_from_state), without
  /// network access. `issuer` is the issuer the state must belong to (passed to soidc as the
  /// client option `issuer`, added to `settings.options_json`). A state that is larger than
  /// 1 MiB, malformed, for another issuer, of another version, tampered or stale is refused
  /// whole with `SOIDC_ERR_INVALID_ARGUMENT`.
  [[nodiscard]] static Client from_state(std::string_view state_json, std::string_view issuer,
                                         const ClientSettings& settings) {
    return try_from_state(state_json, issuer, settings).value();
  }
  /// from_state() without exceptions.
  [[nodiscard]] static Result<Client> try_from_state(std::string_view state_json, std::string_view issuer,
                                                     const ClientSettings& settings);

  /// The provider state as one versioned JSON document (soidc_client_export_state): the
  /// discovery document, the cached JWKS and their fetch and expiry times; no secret.
  /// No network access.
  [[nodiscard]] Document export_state() const { return try_export_state().value(); }
  /// export_state() without exceptions.
  [[nodiscard]] Result<Document> try_export_state() const;

  /// Builds the authorization URL (soidc_auth_code_start); keep state, nonce and
  /// code_verifier for auth_code_handle_result() (AuthStart::result_options()).
  /// No network access.
  [[nodiscard]] AuthStart auth_code_start(NullableString options_json = nullptr) const {
    return try_auth_code_start(options_json).value();
  }
  /// auth_code_start() without exceptions.
  [[nodiscard]] Result<AuthStart> try_auth_code_start(NullableString options_json = nullptr) const;

  /// Handles the redirect back from the provider (soidc_auth_code_handle_result):
  /// checks error, state and iss, exchanges the code and validates the ID token.
  /// Options: `state`, `nonce`, `code_verifier`, `redirect_uri`, `max_age`,
  /// `acr_values_allowed` (array: the ID token's `acr` must be one of them), ...
  [[nodiscard]] TokenResponse auth_code_handle_result(std::string_view current_url,
                                                      NullableString options_json = nullptr) const {
    return try_auth_code_handle_result(current_url, options_json).value();
  }
  /// auth_code_handle_result() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_auth_code_handle_result(std::string_view current_url,
                                                                  NullableString options_json = nullptr) const;

  /// Handles a `form_post` or `form_post.jwt` response (soidc_auth_code_handle_form_post):
  /// `content_type` and `body` exactly as the host's HTTP server received the POST to the
  /// redirect URI. `state_json`: AuthStart::result_options() (it may add `response_mode`);
  /// options: `max_age`, `acr_values_allowed`, `require_id_token`, `timeout_ms`. The checks
  /// are those of auth_code_handle_result(), a JWT response (JARM) verified first.
  [[nodiscard]] TokenResponse auth_code_handle_form_post(std::string_view content_type, std::string_view body,
                                                         NullableString state_json = nullptr,
                                                         NullableString options_json = nullptr) const {
    return try_auth_code_handle_form_post(content_type, body, state_json, options_json).value();
  }
  /// auth_code_handle_form_post() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_auth_code_handle_form_post(std::string_view content_type,
                                                                     std::string_view body,
                                                                     NullableString state_json = nullptr,
                                                                     NullableString options_json = nullptr) const;

  /// Exchanges an authorization code at the token endpoint (soidc_auth_code_exchange).
  /// Options: `redirect_uri`, `code_verifier`, `nonce`, `max_age`, `timeout_ms`.
  [[nodiscard]] TokenResponse auth_code_exchange(std::string_view code,
                                                 NullableString options_json = nullptr) const {
    return try_auth_code_exchange(code, options_json).value();
  }
  /// auth_code_exchange() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_auth_code_exchange(std::string_view code,
                                                             NullableString options_json = nullptr) const;

  /// Client credentials grant (soidc_client_credentials_grant). `scope` null: the
  /// client's scope. Options: `resource`, `extra_params`, `timeout_ms`.
  [[nodiscard]] TokenResponse client_credentials_grant(NullableString scope = nullptr,
                                                       NullableString options_json = nullptr) const {
    return try_client_credentials_grant(scope, options_json).value();
  }
  /// client_credentials_grant() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_client_credentials_grant(NullableString scope = nullptr,
                                                                   NullableString options_json = nullptr) const;

  /// Resource owner password ("direct access") grant (soidc_direct_access_grant).
  /// `scope` null: the client's scope. Options: `nonce`, `resource`, `extra_params`,
  /// `timeout_ms`. The password never appears in errors.
  [[nodiscard]] TokenResponse direct_access_grant(std::string_view username, std::string_view password,
                                                  NullableString scope = nullptr,
                                                  NullableString options_json = nullptr) const {
    return try_direct_access_grant(username, password, scope, options_json).value();
  }
  /// direct_access_grant() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_direct_access_grant(std::string_view username,
                                                              std::string_view password,
                                                              NullableString scope = nullptr,
                                                              NullableString options_json = nullptr) const;

  /// Refresh token grant (soidc_exchange_refresh_token). Options: `scope`,
  /// `id_token` (the original, for the continuity checks), `resource`, ...
  [[nodiscard]] TokenResponse exchange_refresh_token(std::string_view refresh_token,
                                                     NullableString options_json = nullptr) const {
    return try_exchange_refresh_token(refresh_token, options_json).value();
  }
  /// exchange_refresh_token() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_exchange_refresh_token(std::string_view refresh_token,
                                                                 NullableString options_json = nullptr) const;

  /// Starts a device authorization (soidc_device_authorization_start). `scope`
  /// null: the client's scope.
  [[nodiscard]] DeviceAuthorization device_authorization_start(NullableString scope = nullptr,
                                                               NullableString options_json = nullptr) const {
    return try_device_authorization_start(scope, options_json).value();
  }
  /// device_authorization_start() without exceptions.
  [[nodiscard]] Result<DeviceAuthorization> try_device_authorization_start(
      NullableString scope = nullptr, NullableString options_json = nullptr) const;

  /// Polls for a device authorization's result (soidc_device_authorization_poll).
  /// Options: `wait` (block until done), `interval`, `expires_in`, `nonce`,
  /// `timeout_ms`. While the user has not finished, a single poll fails with
  /// status `SOIDC_ERR_PENDING`.
  [[nodiscard]] TokenResponse device_authorization_poll(std::string_view device_code,
                                                        NullableString options_json = nullptr) const {
    return try_device_authorization_poll(device_code, options_json).value();
  }
  /// device_authorization_poll() without exceptions.
  [[nodiscard]] Result<TokenResponse> try_device_authorization_poll(std::string_view device_code,
                                                                    NullableString options_json = nullptr) const;

  /// Fetches the UserInfo claims for an access token (soidc_fetch_userinfo).
  /// Options: `expected_sub`, `timeout_ms`.
  [[nodiscard]] Claims fetch_userinfo(std::string_view access_token,
                                      NullableString options_json = nullptr) const {
    return try_fetch_userinfo(access_token, options_json).value();
  }
  /// fetch_userinfo() without exceptions.
  [[nodiscard]] Result<Claims> try_fetch_userinfo(std::string_view access_token,
                                                  NullableString options_json = nullptr) const;

  /// Token introspection, RFC 7662 (soidc_introspect_token). `token_type_hint`
  /// nullable.
  [[nodiscard]] Introspection introspect_token(std::string_view token, NullableString token_type_hint = nullptr,
                                               NullableString options_json = nullptr) const {
    return try_introspect_token(token, token_type_hint, options_json).value();
  }
  /// introspect_token() without exceptions.
  [[nodiscard]] Result<Introspection> try_introspect_token(std::string_view token,
                                                           NullableString token_type_hint = nullptr,
                                                           NullableString options_json = nullptr) const;

  /// Token revocation, RFC 7009 (soidc_revoke_token). `token_type_hint` nullable.
  /// Returns nothing: success is the absence of an error.
  void revoke_token(std::string_view token, NullableString token_type_hint = nullptr,
                    NullableString options_json = nullptr) const {
    try_revoke_token(token, token_type_hint, options_json).value();
  }
  /// revoke_token() without exceptions.
  [[nodiscard]] Result<void> try_revoke_token(std::string_view token, NullableString token_type_hint = nullptr,
                                              NullableString options_json = nullptr) const;

  /// Builds the RP-initiated logout URL (soidc_initiate_logout) and returns it (a
  /// URL, not JSON). `request_json`: `id_token_hint`, `post_logout_redirect_uri`,
  /// `state`, ... No network access.
  [[nodiscard]] std::string initiate_logout(NullableString request_json = nullptr) const {
    return try_initiate_logout(request_json).value();
  }
  /// initiate_logout() without exceptions.
  [[nodiscard]] Result<std::string> try_initiate_logout(NullableString request_json = nullptr) const;

  /// Decodes and validates an ID token (soidc_decode_id_token) and returns its
  /// claims. Options: `nonce` (without it a token carrying a nonce is refused,
  /// reason::nonce), `ignore_nonce` (true: skip the nonce check, only where the nonce
  /// is no longer at hand), `extra_trusted_audiences`, `min_iat` (seconds, fractions
  /// allowed), `min_auth_time`, `max_age`, `expect_self_azp`, `acr_values_allowed`
  /// (array: the token's `acr` must be one of them, reason::acr), `access_token`,
  /// `code`, `cache_only`, `timeout_ms`.
  /// `validate_acr` (may be empty: no acr check) is called synchronously, at most
  /// once, on this thread, after `acr_values_allowed` passed; see AcrValidator.
  [[nodiscard]] Claims decode_id_token(std::string_view raw_token, NullableString options_json = nullptr,
                                       const AcrValidator& validate_acr = nullptr) const {
    return try_decode_id_token(raw_token, options_json, validate_acr).value();
  }
  /// decode_id_token() without exceptions.
  [[nodiscard]] Result<Claims> try_decode_id_token(std::string_view raw_token,
                                                   NullableString options_json = nullptr,
                                                   const AcrValidator& validate_acr = nullptr) const;

  /// Decodes and validates an RFC 9068 JWT access token (soidc_decode_access_token)
  /// and returns its claims. Options: `audience` (a string, or an array: `aud` must
  /// contain one of them; default the client id), `required_scopes`, `cache_only`,
  /// `timeout_ms`, `client_cert_pem` (the request's TLS client certificate, PEM or DER
  /// base64: a token with `cnf["x5t#S256"]` needs the certificate of that thumbprint,
  /// RFC 8705 §3; else reason `cnf_x5t`).
  [[nodiscard]] Claims decode_access_token(std::string_view raw_token,
                                           NullableString options_json = nullptr) const {
    return try_decode_access_token(raw_token, options_json).value();
  }
  /// decode_access_token() without exceptions.
  [[nodiscard]] Result<Claims> try_decode_access_token(std::string_view raw_token,
                                                       NullableString options_json = nullptr) const;

  /// Decodes and validates a back-channel logout token (soidc_decode_logout_token)
  /// and returns its claims. Options: `extra_trusted_audiences`, `min_iat`,
  /// `cache_only`, `timeout_ms`, `allow_missing_exp` (true: accept a token without
  /// `exp`, refused by default with reason::exp; such a token must then be at most
  /// `max_age_s` old and its `jti` new to this client, else reason::replay) and
  /// `max_age_s` (1 to 600, default 120; only with `allow_missing_exp`).
  [[nodiscard]] Claims decode_logout_token(std::string_view raw_token,
                                           NullableString options_json = nullptr) const {
    return try_decode_logout_token(raw_token, options_json).value();
  }
  /// decode_logout_token() without exceptions.
  [[nodiscard]] Result<Claims> try_decode_logout_token(std::string_view raw_token,
                                                       NullableString options_json = nullptr) const;

 private:
  struct Free {
    void operator()(soidc_client* client) const noexcept { soidc_client_free(client); }
  };

  explicit Client(soidc_client* handle) noexcept : handle_(handle) {}

  // The error of a method called on an empty Client.
  static Error empty_error(const char* method) {
    return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT,
                                 std::string("soidc::Client::") + method +
                                     " called on an empty (moved-from or default-constructed) client");
  }

  // One method: the empty-client and NUL checks, the C call `fn(handle, &out)`,
  // and the conversion of its document to T.
  template <class T, class Call>
  Result<T> call(const char* method, std::initializer_list<const detail::CString*> args, Call&& fn) const {
    if (!handle_) {
      return empty_error(method);
    }
    if (std::optional<Error> nul = detail::nul_error(args)) {
      return std::move(*nul);
    }
    const soidc_client* c = handle_.get();
    Result<std::string> document = detail::call_for_document([&](char** out) { return fn(c, out); });
    if (!document) {
      return document.error();
    }
    return detail::to_result<T>(std::move(document).value());
  }

  // Creates the client with `create_fn`. `log_callback` (may be null) is what the
  // creation's log callback points to: kept by the new client, or released after
  // create_fn has returned when the creation fails.
  template <class Create>
  static Result<Client> create(std::string_view first, const char* first_name,
                               const ClientSettings& settings, Create&& create_fn,
                               std::shared_ptr<void> log_callback = nullptr);

  // Every log callable ever installed on this client (see set_log_callback); declared
  // before handle_ so that the handle is freed first.
  std::vector<std::shared_ptr<void>> log_callbacks_;
  std::unique_ptr<soidc_client, Free> handle_;
};

template <class Create>
inline Result<Client> Client::create(std::string_view first, const char* first_name,
                                     const ClientSettings& settings, Create&& create_fn,
                                     std::shared_ptr<void> log_callback) {
  const auto a = detail::required(first, first_name);
  const auto redirect = detail::nullable(settings.redirect_uri, "redirect_uri");
  const auto id = detail::required(settings.client_id, "client_id");
  const auto secret = detail::nullable(settings.client_secret, "client_secret");
  const auto scope = detail::nullable(settings.scope, "scope");
  const auto options = detail::nullable(settings.options_json, "options_json");
  if (std::optional<Error> nul = detail::nul_error({&a, &redirect, &id, &secret, &scope, &options})) {
    return std::move(*nul);
  }
  soidc_client* raw = nullptr;
  char* error = nullptr;
  const Status status = create_fn(a.get(), redirect.get(), id.get(), secret.get(), scope.get(),
                                  options.get(), &raw, &error);
  Client client(raw);  // adopted at once; holds nullptr on failure
  const detail::UniqueString document(error);
  if (status != SOIDC_OK) {
    return Error(status, document ? std::string(document.get()) : std::string());
  }
  if (!client) {
    return detail::binding_error(SOIDC_ERR_INTERNAL, "soidc returned SOIDC_OK but no client");
  }
  if (log_callback) {
    client.log_callbacks_.push_back(std::move(log_callback));
  }
  return client;
}

inline Result<Client> Client::try_from_issuer_url(std::string_view issuer_url, const ClientSettings& settings) {
  return create(issuer_url, "issuer_url", settings, &soidc_client_from_issuer_url);
}

inline Result<Client> Client::try_from_issuer_config(std::string_view provider_metadata_json,
                                                     const ClientSettings& settings) {
  return create(provider_metadata_json, "provider_metadata_json", settings,
                &soidc_client_from_issuer_config);
}

inline Result<ClientType> Client::try_get_type() const {
  if (!handle_) {
    return empty_error("get_type");
  }
  return static_cast<ClientType>(soidc_client_get_type(handle_.get()));
}

inline Result<ProviderMetadata> Client::try_provider_config() const {
  return call<ProviderMetadata>("provider_config", {}, [&](const soidc_client* c, char** out) {
    return soidc_client_provider_config(c, out);
  });
}

inline Result<Jwks> Client::try_provider_keys(NullableString options_json) const {
  const auto o = detail::nullable(options_json, "options_json");
  return call<Jwks>("provider_keys", {&o}, [&](const soidc_client* c, char** out) {
    return soidc_client_provider_keys(c, o.get(), out);
  });
}

inline Result<AuthStart> Client::try_auth_code_start(NullableString options_json) const {
  const auto o = detail::nullable(options_json, "options_json");
  return call<AuthStart>("auth_code_start", {&o}, [&](const soidc_client* c, char** out) {
    return soidc_auth_code_start(c, o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_auth_code_handle_result(std::string_view current_url,
                                                                 NullableString options_json) const {
  const auto u = detail::required(current_url, "current_url");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("auth_code_handle_result", {&u, &o}, [&](const soidc_client* c, char** out) {
    return soidc_auth_code_handle_result(c, u.get(), o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_auth_code_handle_form_post(std::string_view content_type,
                                                                    std::string_view body,
                                                                    NullableString state_json,
                                                                    NullableString options_json) const {
  const auto t = detail::required(content_type, "content_type");
  const auto b = detail::required(body, "body");
  const auto st = detail::nullable(state_json, "state_json");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("auth_code_handle_form_post", {&t, &b, &st, &o}, [&](const soidc_client* c, char** out) {
    return soidc_auth_code_handle_form_post(c, t.get(), b.get(), st.get(), o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_auth_code_exchange(std::string_view code,
                                                            NullableString options_json) const {
  const auto k = detail::required(code, "code");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("auth_code_exchange", {&k, &o}, [&](const soidc_client* c, char** out) {
    return soidc_auth_code_exchange(c, k.get(), o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_client_credentials_grant(NullableString scope,
                                                                  NullableString options_json) const {
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("client_credentials_grant", {&s, &o}, [&](const soidc_client* c, char** out) {
    return soidc_client_credentials_grant(c, s.get(), o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_direct_access_grant(std::string_view username,
                                                             std::string_view password, NullableString scope,
                                                             NullableString options_json) const {
  const auto u = detail::required(username, "username");
  const auto p = detail::required(password, "password");
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("direct_access_grant", {&u, &p, &s, &o}, [&](const soidc_client* c, char** out) {
    return soidc_direct_access_grant(c, u.get(), p.get(), s.get(), o.get(), out);
  });
}

inline Result<TokenResponse> Client::try_exchange_refresh_token(std::string_view refresh_token,
                                                                NullableString options_json) const {
  const auto t = detail::required(refresh_token, "refresh_token");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("exchange_refresh_token", {&t, &o}, [&](const soidc_client* c, char** out) {
    return soidc_exchange_refresh_token(c, t.get(), o.get(), out);
  });
}

inline Result<DeviceAuthorization> Client::try_device_authorization_start(NullableString scope,
                                                                          NullableString options_json) const {
  const auto s = detail::nullable(scope, "scope");
  const auto o = detail::nullable(options_json, "options_json");
  return call<DeviceAuthorization>("device_authorization_start", {&s, &o},
                                   [&](const soidc_client* c, char** out) {
                                     return soidc_device_authorization_start(c, s.get(), o.get(), out);
                                   });
}

inline Result<TokenResponse> Client::try_device_authorization_poll(std::string_view device_code,
                                                                   NullableString options_json) const {
  const auto d = detail::required(device_code, "device_code");
  const auto o = detail::nullable(options_json, "options_json");
  return call<TokenResponse>("device_authorization_poll", {&d, &o}, [&](const soidc_client* c, char** out) {
    return soidc_device_authorization_poll(c, d.get(), o.get(), out);
  });
}

inline Result<Claims> Client::try_fetch_userinfo(std::string_view access_token,
                                                 NullableString options_json) const {
  const auto t = detail::required(access_token, "access_token");
  const auto o = detail::nullable(options_json, "options_json");
  return call<Claims>("fetch_userinfo", {&t, &o}, [&](const soidc_client* c, char** out) {
    return soidc_fetch_userinfo(c, t.get(), o.get(), out);
  });
}

inline Result<Introspection> Client::try_introspect_token(std::string_view token, NullableString token_type_hint,
                                                          NullableString options_json) const {
  const auto t = detail::required(token, "token");
  const auto h = detail::nullable(token_type_hint, "token_type_hint");
  const auto o = detail::nullable(options_json, "options_json");
  return call<Introspection>("introspect_token", {&t, &h, &o}, [&](const soidc_client* c, char** out) {
    return soidc_introspect_token(c, t.get(), h.get(), o.get(), out);
  });
}

inline Result<void> Client::try_revoke_token(std::string_view token, NullableString token_type_hint,
                                             NullableString options_json) const {
  const auto t = detail::required(token, "token");
  const auto h = detail::nullable(token_type_hint, "token_type_hint");
  const auto o = detail::nullable(options_json, "options_json");
  return call<void>("revoke_token", {&t, &h, &o}, [&](const soidc_client* c, char** out) {
    return soidc_revoke_token(c, t.get(), h.get(), o.get(), out);
  });
}

inline Result<std::string> Client::try_initiate_logout(NullableString request_json) const {
  const auto r = detail::nullable(request_json, "request_json");
  return call<std::string>("initiate_logout", {&r}, [&](const soidc_client* c, char** out) {
    return soidc_initiate_logout(c, r.get(), out);
  });
}

inline Result<Claims> Client::try_decode_id_token(std::string_view raw_token, NullableString options_json,
                                                  const AcrValidator& validate_acr) const {
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  // The C API takes a mutable user_data pointer; the trampoline only reads through it.
  void* user_data = validate_acr ? const_cast<AcrValidator*>(&validate_acr) : nullptr;
  const soidc_acr_validator callback = validate_acr ? &detail::acr_trampoline : nullptr;
  return call<Claims>("decode_id_token", {&t, &o}, [&](const soidc_client* c, char** out) {
    return soidc_decode_id_token(c, t.get(), o.get(), callback, user_data, out);
  });
}

inline Result<Claims> Client::try_decode_access_token(std::string_view raw_token,
                                                      NullableString options_json) const {
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  return call<Claims>("decode_access_token", {&t, &o}, [&](const soidc_client* c, char** out) {
    return soidc_decode_access_token(c, t.get(), o.get(), out);
  });
}

inline Result<Claims> Client::try_decode_logout_token(std::string_view raw_token,
                                                      NullableString options_json) const {
  const auto t = detail::required(raw_token, "raw_token");
  const auto o = detail::nullable(options_json, "options_json");
  return call<Claims>("decode_logout_token", {&t, &o}, [&](const soidc_client* c, char** out) {
    return soidc_decode_logout_token(c, t.get(), o.get(), out);
  });
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
#if SOIDC_HPP_EXCEPTIONS
  try {
#endif
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
#if SOIDC_HPP_EXCEPTIONS
  } catch (...) {
    // A log callback must not fail the operation being logged.
  }
#endif
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
#if SOIDC_HPP_EXCEPTIONS
  try {
#endif
    const auto* callback = static_cast<const LogCallback*>(user_data);
    if (callback != nullptr && *callback) {
      (*callback)(static_cast<LogLevel>(level),
                  message != nullptr ? std::string_view(message) : std::string_view());
    }
#if SOIDC_HPP_EXCEPTIONS
  } catch (...) {
    // A log callback must not fail the operation being logged.
  }
#endif
}

}  // namespace detail

template <class F>
inline Result<Client> Client::try_from_issuer_url(std::string_view issuer_url, const ClientSettings& settings,
                                                  F&& log_callback, LogLevel max_level) {
  LogCallback fn(std::forward<F>(log_callback));
  if (!fn) {
    return try_from_issuer_url(issuer_url, settings);
  }
  auto owned = std::make_shared<LogCallback>(std::move(fn));
  LogCallback* user_data = owned.get();
  const int level = static_cast<int>(max_level);
  return create(
      issuer_url, "issuer_url", settings,
      [user_data, level](const char* issuer, const char* redirect_uri, const char* client_id,
                         const char* client_secret, const char* scope, const char* options,
                         soidc_client** out_client, char** out_json) {
        return soidc_client_from_issuer_url_with_log(issuer, redirect_uri, client_id, client_secret, scope,
                                                     options, &detail::client_log_trampoline, level,
                                                     user_data, out_client, out_json);
      },
      std::move(owned));
}

template <class F>
inline Result<void> Client::try_set_log_callback(F&& callback, LogLevel max_level) {
  if (!handle_) {
    return empty_error("set_log_callback");
  }
  const soidc_client* c = handle_.get();
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
    return detail::binding_error(status, "soidc_client_set_log_callback failed");
  }
  return Result<void>();
}

inline Result<Client> Client::try_from_state(std::string_view state_json, std::string_view issuer,
                                             const ClientSettings& settings) {
  // The option `issuer`, as a JSON string, first in the options object (a repeated key
  // would be refused by soidc, so an `issuer` already in options_json is an error).
  if (settings.options_json) {
    Result<Document> parsed = Document::parse(*settings.options_json);
    if (!parsed) {
      return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT, "options_json: " + parsed.error().message());
    }
    if (!parsed.value().json().is_object()) {
      return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT, "options_json: must be a JSON object");
    }
  }
  const std::string quoted = json_quote(issuer);
  ClientSettings with_issuer = settings;
  const std::string rest = settings.options_json ? *settings.options_json : std::string("{}");
  const std::size_t open = rest.find('{');
  std::string tail = rest.substr(open + 1);
  const bool empty = tail.find_first_not_of(" \t\r\n}") == std::string::npos;
  with_issuer.options_json = "{\"issuer\":" + quoted + (empty ? std::string("}") : "," + tail);
  return create(state_json, "state_json", with_issuer, &soidc_client_from_state);
}

inline Result<Document> Client::try_export_state() const {
  return call<Document>("export_state", {}, [&](const soidc_client* c, char** out) {
    return soidc_client_export_state(c, nullptr, out);
  });
}

/// Token type identifier of RFC 8693 §3 for token_exchange(): an access token
/// (SOIDC_TOKEN_TYPE_ACCESS_TOKEN).
inline constexpr std::string_view token_type_access_token = SOIDC_TOKEN_TYPE_ACCESS_TOKEN;
/// Token type identifier: a refresh token (SOIDC_TOKEN_TYPE_REFRESH_TOKEN).
inline constexpr std::string_view token_type_refresh_token = SOIDC_TOKEN_TYPE_REFRESH_TOKEN;
/// Token type identifier: an ID token (SOIDC_TOKEN_TYPE_ID_TOKEN).
inline constexpr std::string_view token_type_id_token = SOIDC_TOKEN_TYPE_ID_TOKEN;
/// Token type identifier: a SAML 1.1 assertion (SOIDC_TOKEN_TYPE_SAML1).
inline constexpr std::string_view token_type_saml1 = SOIDC_TOKEN_TYPE_SAML1;
/// Token type identifier: a SAML 2.0 assertion (SOIDC_TOKEN_TYPE_SAML2).
inline constexpr std::string_view token_type_saml2 = SOIDC_TOKEN_TYPE_SAML2;
/// Token type identifier: a JWT (SOIDC_TOKEN_TYPE_JWT).
inline constexpr std::string_view token_type_jwt = SOIDC_TOKEN_TYPE_JWT;

/// A token exchange response (RFC 8693 §2.2.1). The issued token is not validated by the
/// library: it is meant for the audience asked for; decode it if you consume it.
class TokenExchangeResponse : public Document {
 public:
  /// An empty response.
  TokenExchangeResponse() = default;
  /// The response in `document` (the library's token exchange response JSON).
  explicit TokenExchangeResponse(Document document) : Document(std::move(document)) {}

  /// `access_token`: the issued token, whatever its type.
  [[nodiscard]] const std::string& access_token() const noexcept { return string_or_empty("access_token"); }
  /// `issued_token_type`, e.g. token_type_access_token.
  [[nodiscard]] const std::string& issued_token_type() const noexcept {
    return string_or_empty("issued_token_type");
  }
  /// `token_type`: "Bearer", or "N_A" for a token that is not an access token.
  [[nodiscard]] const std::string& token_type() const noexcept { return string_or_empty("token_type"); }
  /// `expires_in`, when sent.
  [[nodiscard]] std::optional<std::chrono::seconds> expires_in() const { return seconds_at("expires_in"); }
  /// `scope`, when sent.
  [[nodiscard]] std::optional<std::string> scope() const { return string_at("scope"); }
  /// `refresh_token`, when sent.
  [[nodiscard]] std::optional<std::string> refresh_token() const { return string_at("refresh_token"); }
};

/// OAuth 2.0 Token Exchange, RFC 8693 (soidc_token_exchange), without exceptions: trades
/// `subject_token` of type `subject_token_type` at the token endpoint with `client`'s
/// authentication. Options: `actor_token` with `actor_token_type`, `requested_token_type`,
/// `audience`, `resource` (strings or arrays), `scope`, `timeout_ms`. Errors: e.g.
/// SOIDC_ERR_PROVIDER with the provider's error, SOIDC_ERR_INVALID_ARGUMENT for a bad token
/// type, a bad option, a NUL byte or an empty client.
[[nodiscard]] inline Result<TokenExchangeResponse> try_token_exchange(const Client& client,
                                                                     std::string_view subject_token,
                                                                     std::string_view subject_token_type,
                                                                     NullableString options_json = nullptr) {
  const soidc_client* c = client.native_handle();
  if (c == nullptr) {
    return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT,
                                 "soidc::token_exchange called on an empty (moved-from or default-constructed) client");
  }
  const auto t = detail::required(subject_token, "subject_token");
  const auto ty = detail::required(subject_token_type, "subject_token_type");
  const auto o = detail::nullable(options_json, "options_json");
  if (std::optional<Error> nul = detail::nul_error({&t, &ty, &o})) {
    return std::move(*nul);
  }
  Result<std::string> document = detail::call_for_document(
      [&](char** out) { return soidc_token_exchange(c, t.get(), ty.get(), o.get(), out); });
  if (!document) {
    return document.error();
  }
  return detail::to_result<TokenExchangeResponse>(std::move(document).value());
}

/// try_token_exchange(), raising its error (an exception, or the no-exceptions handler).
[[nodiscard]] inline TokenExchangeResponse token_exchange(const Client& client, std::string_view subject_token,
                                                          std::string_view subject_token_type,
                                                          NullableString options_json = nullptr) {
  return try_token_exchange(client, subject_token, subject_token_type, options_json).value();
}

/// The client's DPoP public key (RFC 9449) and its RFC 7638 thumbprint
/// (soidc_client_dpop_jwk): `{"jwk": {...}, "jkt": "..."}`.
class DpopKey : public Document {
 public:
  /// An empty document.
  DpopKey() = default;
  /// The document in `document` (the library's soidc_client_dpop_jwk JSON).
  explicit DpopKey(Document document) : Document(std::move(document)) {}

  /// `jkt`: the base64url SHA-256 thumbprint (a bound token's `cnf.jkt`).
  [[nodiscard]] const std::string& jkt() const noexcept { return string_or_empty("jkt"); }
  /// `jwk`: the public JWK (no private member), e.g. `jwk()->find("kty")`.
  [[nodiscard]] const JsonValue* jwk() const noexcept { return json().find("jwk"); }
};

/// The client's DPoP public key and thumbprint (soidc_client_dpop_jwk), without
/// exceptions. Errors: SOIDC_ERR_INVALID_ARGUMENT for a client created without the client
/// option `dpop` (or `dpop_key_pem` / `dpop_key_file`) or an empty client.
[[nodiscard]] inline Result<DpopKey> try_dpop_jwk(const Client& client) {
  const soidc_client* c = client.native_handle();
  if (c == nullptr) {
    return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT,
                                 "soidc::dpop_jwk called on an empty (moved-from or default-constructed) client");
  }
  Result<std::string> document =
      detail::call_for_document([&](char** out) { return soidc_client_dpop_jwk(c, out); });
  if (!document) {
    return document.error();
  }
  return detail::to_result<DpopKey>(std::move(document).value());
}

/// try_dpop_jwk(), raising its error (an exception, or the no-exceptions handler).
[[nodiscard]] inline DpopKey dpop_jwk(const Client& client) { return try_dpop_jwk(client).value(); }

/// A DPoP proof JWT (RFC 9449 §4.2) for a request the host sends itself
/// (soidc_dpop_proof), without exceptions: send it as the `DPoP` header, with the token as
/// `Authorization: DPoP <access_token>`. `access_token` nullptr for a request without a
/// token (no `ath`); options: `nonce` (the server's `DPoP-Nonce`; default: the nonce soidc
/// last received from the URL's origin). Returns the proof itself. Errors:
/// SOIDC_ERR_INVALID_ARGUMENT (a client without DPoP, a bad method or URL, a bad option, a
/// NUL byte, an empty client).
[[nodiscard]] inline Result<std::string> try_dpop_proof(const Client& client, std::string_view method,
                                                        std::string_view url,
                                                        NullableString access_token = nullptr,
                                                        NullableString options_json = nullptr) {
  const soidc_client* c = client.native_handle();
  if (c == nullptr) {
    return detail::binding_error(SOIDC_ERR_INVALID_ARGUMENT,
                                 "soidc::dpop_proof called on an empty (moved-from or default-constructed) client");
  }
  const auto m = detail::required(method, "method");
  const auto u = detail::required(url, "url");
  const auto t = detail::nullable(access_token, "access_token");
  const auto o = detail::nullable(options_json, "options_json");
  if (std::optional<Error> nul = detail::nul_error({&m, &u, &t, &o})) {
    return std::move(*nul);
  }
  Result<std::string> document = detail::call_for_document(
      [&](char** out) { return soidc_dpop_proof(c, m.get(), u.get(), t.get(), o.get(), out); });
  if (!document) {
    return document.error();
  }
  Result<Document> parsed = Document::parse(std::move(document).value());
  if (!parsed) {
    return parsed.error();
  }
  std::optional<std::string> proof = parsed.value().get<std::string>("/proof");
  if (!proof) {
    return detail::binding_error(SOIDC_ERR_INTERNAL, "soidc_dpop_proof: the document has no proof");
  }
  return std::move(*proof);
}

/// try_dpop_proof(), raising its error (an exception, or the no-exceptions handler).
[[nodiscard]] inline std::string dpop_proof(const Client& client, std::string_view method, std::string_view url,
                                            NullableString access_token = nullptr,
                                            NullableString options_json = nullptr) {
  return try_dpop_proof(client, method, url, access_token, options_json).value();
}

}  // namespace soidc

#endif  // SOIDC_HPP
