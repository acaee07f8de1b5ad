// Parses the plugin configuration of filter.cc: JSON shaped like filter.proto's Config message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace config {

// Just enough JSON (RFC 8259) for the Config message: the whole document is validated, "name"
// and "value" must be strings when present, other members are ignored (as protobuf's JSON parser
// does with ignore_unknown_fields). Needs no protobuf runtime, which has no offline wasm build.
class ConfigParser {
public:
  explicit ConfigParser(std::string_view text) : text_(text) {}

  // Returns an empty string on success, else what is wrong.
  std::string parse(std::string *name, std::string *value) {
    skipSpace();
    if (pos_ == text_.size()) {
      return ""; // empty configuration
    }
    if (!expect('{')) {
      return "expected a JSON object";
    }
    skipSpace();
    if (!expect('}')) {
      do {
        std::string key, member;
        bool is_string = false;
        skipSpace();
        if (!parseString(&key)) {
          return error_.empty() ? "expected a member name" : error_;
        }
        skipSpace();
        if (!expect(':')) {
          return "expected ':' after \"" + key + "\"";
        }
        skipSpace();
        if (!parseValue(&member, &is_string, 0)) {
          return error_.empty() ? "invalid value for \"" + key + "\"" : error_;
        }
        if (key == "name" || key == "value") {
          if (!is_string) {
            return "\"" + key + "\" must be a string";
          }
          *(key == "name" ? name : value) = member;
        }
        skipSpace();
      } while (expect(','));
      if (!expect('}')) {
        return "expected ',' or '}'";
      }
    }
    skipSpace();
    return pos_ == text_.size() ? "" : "unexpected text after the JSON object";
  }

private:
  bool expect(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      pos_++;
      return true;
    }
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      pos_++;
    }
  }

  bool parseValue(std::string *out, bool *is_string, int depth) {
    if (depth > 32) {
      error_ = "JSON nested too deeply";
      return false;
    }
    if (pos_ >= text_.size()) {
      return false;
    }
    char c = text_[pos_];
    if (c == '"') {
      *is_string = true;
      return parseString(out);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      pos_++;
      skipSpace();
      if (expect(close)) {
        return true;
      }
      do {
        std::string ignored;
        bool ignored_is_string = false;
        skipSpace();
        if (c == '{') {
          if (!parseString(&ignored)) {
            return false;
          }
          skipSpace();
          if (!expect(':')) {
            return false;
          }
          skipSpace();
        }
        if (!parseValue(&ignored, &ignored_is_string, depth + 1)) {
          return false;
        }
        skipSpace();
      } while (expect(','));
      return expect(close);
    }
    for (std::string_view literal : {"true", "false", "null"}) {
      if (text_.substr(pos_, literal.size()) == literal) {
        pos_ += literal.size();
        return true;
      }
    }
    return parseNumber();
  }

  bool parseNumber() {
    size_t start = pos_;
    expect('-');
    if (!expect('0') && !digits()) {
      return false;
    }
    if (expect('.') && !digits()) {
      return false;
    }
    if (expect('e') || expect('E')) {
      if (!expect('+')) {
        expect('-');
      }
      if (!digits()) {
        return false;
      }
    }
    return pos_ > start;
  }

  bool digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      pos_++;
    }
    return pos_ > start;
  }

  bool parseString(std::string *out) {
    if (!expect('"')) {
      return false;
    }
    out->clear();
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') {
        return true;
      }
      if (c < 0x20) {
        error_ = "control character in a JSON string";
        return false;
      }
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= text_.size()) {
        return false;
      }
      char e = text_[pos_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out->push_back(e);
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(&cp)) {
          return false;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) { // a surrogate pair encodes one code point
          uint32_t low = 0;
          if (!expect('\\') || !expect('u') || !hex4(&low) || low < 0xDC00 || low > 0xDFFF) {
            error_ = "invalid \\u surrogate pair in a JSON string";
            return false;
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          error_ = "invalid \\u surrogate pair in a JSON string";
          return false;
        }
        appendUtf8(cp, out);
        break;
      }
      default:
        error_ = "invalid escape in a JSON string";
        return false;
      }
    }
    error_ = "unterminated JSON string";
    return false;
  }

  bool hex4(uint32_t *cp) {
    if (text_.size() - pos_ < 4) {
      return false;
    }
    for (int i = 0; i < 4; i++) {
      char h = text_[pos_++];
      uint32_t digit = h >= '0' && h <= '9'   ? h - '0'
                       : h >= 'a' && h <= 'f' ? h - 'a' + 10
                       : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                              : 16;
      if (digit == 16) {
        return false;
      }
      *cp = *cp * 16 + digit;
    }
    return true;
  }

  static void appendUtf8(uint32_t cp, std::string *out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace config
