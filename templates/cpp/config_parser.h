// The plugin configuration: JSON shaped like filter.proto's message
//   message Config { string name = 1; string value = 2; }
//
//   - empty (or only whitespace): no extra header;
//   - {"name": "x-powered-by", "value": "wasm"}: add `x-powered-by: wasm` to every response;
//   - anything else is rejected with a message saying what is wrong: not UTF-8, not JSON, not an
//     object, an unknown field (a typo would otherwise be silently ignored), a field given twice,
//     a value that is not a string (null counts as empty, as in proto3), a "value" without a
//     "name", or a header the proxy would refuse.
//
// A few lines of hand-written parsing: wasm filters build offline, without a protobuf runtime.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct Config {
  std::string name;
  std::string value;
};

namespace config_parser {

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::string parse(Config *config) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      pos_ = 3; // a UTF-8 byte order mark
    }
    skipSpace();
    if (pos_ == text_.size()) {
      return ""; // empty configuration
    }
    if (!eat('{')) {
      return fail("expected a JSON object like {\"name\": \"x-header\", \"value\": \"v\"}");
    }
    bool seen_name = false, seen_value = false;
    skipSpace();
    if (!eat('}')) {
      while (true) {
        skipSpace();
        size_t key_at = pos_;
        std::string key, value;
        if (!readString(&key)) {
          return fail(error_);
        }
        skipSpace();
        if (!eat(':')) {
          return fail("expected ':'");
        }
        skipSpace();
        if (text_.substr(pos_, 4) == "null") {
          pos_ += 4;
        } else if (pos_ < text_.size() && text_[pos_] == '"') {
          if (!readString(&value)) {
            return fail(error_);
          }
        } else {
          return fail("field \"" + key + "\" must be a string");
        }
        bool *seen = key == "name" ? &seen_name : key == "value" ? &seen_value : nullptr;
        if (seen == nullptr || *seen) {
          pos_ = key_at;
          return fail(seen == nullptr ? "unknown field \"" + key + "\" (expected \"name\" or \"value\")"
                                      : "field \"" + key + "\" given twice");
        }
        *seen = true;
        (key == "name" ? config->name : config->value) = value;
        skipSpace();
        if (eat('}')) {
          break;
        }
        if (!eat(',')) {
          return fail("expected ',' or '}'");
        }
      }
    }
    skipSpace();
    return pos_ == text_.size() ? validate(*config) : fail("unexpected text after the JSON object");
  }

private:
  static std::string validate(const Config &config) {
    if (config.name.empty()) {
      return config.value.empty() ? "" : "\"value\" is set but \"name\" is empty";
    }
    for (char c : config.name) { // RFC 9110 token characters: proxies refuse anything else
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
        return "\"" + config.name + "\" is not a valid header name";
      }
    }
    if (config.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return "the value of header \"" + config.name + "\" contains a line break or NUL";
    }
    return "";
  }

  std::string fail(const std::string &message) const {
    return message + " (at byte " + std::to_string(pos_) + ")";
  }

  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      pos_++;
      return true;
    }
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() && std::string_view(" \t\n\r").find(text_[pos_]) != std::string_view::npos) {
      pos_++;
    }
  }

  // Reads a JSON string with its escapes; on failure says why in error_.
  bool readString(std::string *out) {
    if (!eat('"')) {
      error_ = "expected a string";
      return false;
    }
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        pos_++;
        return true;
      }
      if (c < 0x20) {
        error_ = "control character in a string";
        return false;
      }
      if (c >= 0x80) {
        if (!copyUtf8(out)) {
          error_ = "not UTF-8 text";
          return false;
        }
        continue;
      }
      pos_++;
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
      } else if (!readEscape(out)) {
        return false;
      }
    }
    error_ = "unterminated string";
    return false;
  }

  bool readEscape(std::string *out) {
    char e = pos_ < text_.size() ? text_[pos_++] : '\0';
    static const std::string_view plain = "\"\\/bfnrt", meant = "\"\\/\b\f\n\r\t";
    if (e != '\0' && plain.find(e) != std::string_view::npos) {
      out->push_back(meant[plain.find(e)]);
      return true;
    }
    if (e != 'u') {
      error_ = "invalid escape in a string";
      return false;
    }
    uint32_t code = 0, low = 0;
    if (!hex4(&code)) {
      return false;
    }
    if (code >= 0xD800 && code < 0xDC00) { // a high surrogate: the low half must follow
      bool paired = text_.substr(pos_, 2) == "\\u";
      if (paired) {
        pos_ += 2;
        paired = hex4(&low) && low >= 0xDC00 && low < 0xE000;
      }
      if (!paired) {
        error_ = "unpaired surrogate in \\u escape";
        return false;
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else if (code >= 0xDC00 && code < 0xE000) {
      error_ = "unpaired surrogate in \\u escape";
      return false;
    }
    appendUtf8(code, out);
    return true;
  }

  bool hex4(uint32_t *code) {
    if (text_.size() - pos_ < 4) {
      error_ = "short \\u escape";
      return false;
    }
    for (int i = 0; i < 4; i++) {
      char h = text_[pos_ + i];
      int digit = h >= '0' && h <= '9'   ? h - '0'
                  : h >= 'a' && h <= 'f' ? h - 'a' + 10
                  : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                         : -1;
      if (digit < 0) {
        error_ = "invalid \\u escape";
        return false;
      }
      *code = *code * 16 + static_cast<uint32_t>(digit);
    }
    pos_ += 4;
    return true;
  }

  // Copies one multi-byte UTF-8 sequence (RFC 3629: shortest form, no surrogates, <= U+10FFFF).
  bool copyUtf8(std::string *out) {
    unsigned char lead = static_cast<unsigned char>(text_[pos_]);
    size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (lead < 0xC2 || lead > 0xF4 || text_.size() - pos_ < length) {
      return false;
    }
    uint32_t code = lead & (0x7F >> length);
    for (size_t i = 1; i < length; i++) {
      unsigned char next = static_cast<unsigned char>(text_[pos_ + i]);
      if ((next & 0xC0) != 0x80) {
        return false;
      }
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code < 0xE000))) || (length == 4 && code < 0x10000) ||
        code > 0x10FFFF) {
      return false;
    }
    out->append(text_.substr(pos_, length));
    pos_ += length;
    return true;
  }

  static void appendUtf8(uint32_t code, std::string *out) {
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
      return;
    }
    static const unsigned char lead[] = {0, 0xC0, 0xE0, 0xF0};
    int extra = code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
    out->push_back(static_cast<char>(lead[extra] | (code >> (6 * extra))));
    for (int shift = 6 * (extra - 1); shift >= 0; shift -= 6) {
      out->push_back(static_cast<char>(0x80 | ((code >> shift) & 0x3F)));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace config_parser

// Fills `config` from the configuration `text`. Returns "" when it is valid, else what is wrong.
inline std::string parseConfig(std::string_view text, Config *config) {
  return config_parser::Parser(text).parse(config);
}
