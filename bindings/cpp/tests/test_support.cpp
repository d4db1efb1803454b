// Test-only helpers; see test_support.hpp.
#include "test_support.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace test {

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  Json document() {
    Json value = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) {
      fail("trailing characters");
    }
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("test JSON parser: " + what + " at offset " + std::to_string(i_) +
                             " in: " + std::string(s_.substr(0, 300)));
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }

  bool consume(std::string_view literal) {
    if (s_.substr(i_, literal.size()) == literal) {
      i_ += literal.size();
      return true;
    }
    return false;
  }

  static void append_utf8(std::string& out, unsigned cp) {
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

  unsigned hex4() {
    if (i_ + 4 > s_.size()) {
      fail("short \\u escape");
    }
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad \\u escape");
      }
    }
    return v;
  }

  std::string parse_string() {
    if (!consume("\"")) {
      fail("expected a string");
    }
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') {
        return out;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) {
        break;
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
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && consume("\\u")) {
            const unsigned low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail("bad escape");
      }
    }
    fail("unterminated string");
  }

  Json parse_value(int depth) {
    if (depth > 64) {
      fail("nesting too deep");
    }
    skip_ws();
    Json v;
    if (i_ >= s_.size()) {
      fail("unexpected end");
    }
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.type_ = Json::Type::Object;
      skip_ws();
      if (consume("}")) {
        return v;
      }
      for (;;) {
        skip_ws();
        std::string key = parse_string();
        skip_ws();
        if (!consume(":")) {
          fail("expected ':'");
        }
        v.object_[key] = parse_value(depth + 1);
        skip_ws();
        if (consume(",")) {
          continue;
        }
        if (consume("}")) {
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i_;
      v.type_ = Json::Type::Array;
      skip_ws();
      if (consume("]")) {
        return v;
      }
      for (;;) {
        v.array_.push_back(parse_value(depth + 1));
        skip_ws();
        if (consume(",")) {
          continue;
        }
        if (consume("]")) {
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type_ = Json::Type::String;
      v.string_ = parse_string();
      return v;
    }
    if (consume("true")) {
      v.type_ = Json::Type::Bool;
      v.bool_ = true;
      return v;
    }
    if (consume("false")) {
      v.type_ = Json::Type::Bool;
      return v;
    }
    if (consume("null")) {
      return v;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && std::strchr("+-0123456789.eE", s_[i_]) != nullptr) {
      ++i_;
    }
    if (i_ == start) {
      fail("unexpected character");
    }
    v.type_ = Json::Type::Number;
    v.number_ = std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr);
    return v;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

Json Json::parse(std::string_view text) { return JsonParser(text).document(); }

namespace {
[[noreturn]] void type_error(const char* expected) {
  throw std::runtime_error(std::string("test JSON: value is not ") + expected);
}
}  // namespace

const std::string& Json::str() const {
  if (type_ != Type::String) type_error("a string");
  return string_;
}
bool Json::boolean() const {
  if (type_ != Type::Bool) type_error("a boolean");
  return bool_;
}
double Json::number() const {
  if (type_ != Type::Number) type_error("a number");
  return number_;
}
const std::vector<Json>& Json::array() const {
  if (type_ != Type::Array) type_error("an array");
  return array_;
}
bool Json::has(const std::string& key) const {
  return type_ == Type::Object && object_.count(key) != 0;
}
const Json& Json::operator[](const std::string& key) const {
  if (type_ != Type::Object) type_error("an object");
  const auto it = object_.find(key);
  if (it == object_.end()) {
    throw std::runtime_error("test JSON: no member \"" + key + "\"");
  }
  return it->second;
}

// ---------------------------------------------------------------------------
// Processes and the provider
// ---------------------------------------------------------------------------

ProcessResult run_process(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  ProcessResult result;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

const std::string& issuer() {
  static const std::string value = [] {
    const char* v = std::getenv("SOIDC_TEST_ISSUER");
    if (v == nullptr || *v == '\0') {
      throw std::runtime_error(
          "SOIDC_TEST_ISSUER is not set: run the tests with bindings/cpp/tests/run.sh");
    }
    return std::string(v);
  }();
  return value;
}

std::string source_root() { return SOIDC_SOURCE_ROOT; }

std::string post_json(const std::string& path, const std::string& body) {
  const ProcessResult r = run_process({"curl", "-sS", "--fail-with-body", "-X", "POST", "-H",
                                       "content-type: application/json", "--data-binary", body,
                                       issuer() + path});
  if (r.exit_status != 0) {
    throw std::runtime_error("POST " + path + " failed (curl exit " +
                             std::to_string(r.exit_status) + "): " + r.out);
  }
  return r.out;
}

std::string browser(const std::string& url, const std::string& user, const std::string& password,
                    const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {"node", source_root() + "/tests/provider/browser.mjs"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(url);
  argv.push_back(user);
  argv.push_back(password);
  ProcessResult r = run_process(argv);
  if (r.exit_status != 0) {
    throw std::runtime_error("browser.mjs failed with exit status " + std::to_string(r.exit_status));
  }
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) {
    r.out.pop_back();
  }
  return r.out;
}

std::string query_param(const std::string& url, const std::string& name) {
  const std::size_t q = url.find('?');
  if (q == std::string::npos) {
    return "";
  }
  std::size_t pos = q + 1;
  const std::size_t end = url.find('#', pos) == std::string::npos ? url.size() : url.find('#', pos);
  while (pos < end) {
    std::size_t amp = url.find('&', pos);
    if (amp == std::string::npos || amp > end) {
      amp = end;
    }
    const std::string pair = url.substr(pos, amp - pos);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      const std::string raw = eq == std::string::npos ? "" : pair.substr(eq + 1);
      std::string out;
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '%' && k + 2 < raw.size()) {
          out += static_cast<char>(std::stoi(raw.substr(k + 1, 2), nullptr, 16));
          k += 2;
        } else if (raw[k] == '+') {
          out += ' ';
        } else {
          out += raw[k];
        }
      }
      return out;
    }
    pos = amp + 1;
  }
  return "";
}

}  // namespace test
