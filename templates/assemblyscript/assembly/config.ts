// The plugin configuration: JSON shaped like the protobuf message
//   message Config { string name = 1; string value = 2; }
//
//   - empty (or only whitespace): no extra header;
//   - {"name": "x-powered-by", "value": "wasm"}: add `x-powered-by: wasm` to every response;
//   - anything else is rejected with a message saying what is wrong: not JSON, not an object,
//     an unknown field (a typo would otherwise be silently ignored), a field given twice, a
//     value that is not a string (null counts as empty, as in proto3), a "value" without a
//     "name", or a header the proxy would refuse.
//
// A few lines of hand-written parsing, so the filter needs no JSON package.

export class Config {
  name: string = "";
  value: string = "";
}

// Fills `config` from `text`. Returns "" when the configuration is valid, else what is wrong.
export function parseConfig(text: string, config: Config): string {
  const parser = new Parser(text);
  let problem = parser.parse(config);
  if (problem.length == 0) {
    problem = validate(config);
  }
  return problem;
}

function validate(config: Config): string {
  if (config.name.length == 0) {
    return config.value.length == 0 ? "" : "\"value\" is set but \"name\" is empty";
  }
  for (let i = 0; i < config.name.length; i++) {
    if (!isTokenChar(<i32>config.name.charCodeAt(i))) {
      return quote(config.name) + " is not a valid header name";
    }
  }
  for (let i = 0; i < config.value.length; i++) {
    const c = <i32>config.value.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) {
      return "the value of header " + quote(config.name) + " contains a line break or NUL";
    }
  }
  return "";
}

// RFC 9110 token characters: proxies refuse anything else in a header name.
function isTokenChar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
    return true;
  }
  return c < 0x80 && "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) >= 0;
}

function quote(s: string): string {
  return "\"" + s + "\"";
}

const QUOTE: i32 = 0x22; // "
const BACKSLASH: i32 = 0x5c;

class Parser {
  text: string;
  pos: i32 = 0;
  token: string = ""; // the last string read by readString()
  error: string = ""; // why readString() failed

  constructor(text: string) {
    this.text = text;
  }

  fail(message: string): string {
    // Report positions in UTF-8 bytes, as the proxy sees the configuration.
    const at = String.UTF8.byteLength(this.text.substring(0, this.pos));
    return message + " (at byte " + at.toString() + ")";
  }

  parse(config: Config): string {
    this.skipSpace();
    if (this.atEnd()) {
      return ""; // empty configuration
    }
    if (!this.eat(0x7b)) {
      return this.fail("expected a JSON object like {\"name\": \"x-header\", \"value\": \"v\"}");
    }
    let seenName = false;
    let seenValue = false;
    this.skipSpace();
    if (!this.eat(0x7d)) {
      while (true) {
        this.skipSpace();
        const keyAt = this.pos;
        if (!this.readString()) {
          return this.fail(this.error);
        }
        const key = this.token;
        this.skipSpace();
        if (!this.eat(0x3a)) {
          return this.fail("expected ':'");
        }
        this.skipSpace();
        let value = "";
        if (!this.eatWord("null")) {
          if (this.peek() != QUOTE) {
            return this.fail("field " + quote(key) + " must be a string");
          }
          if (!this.readString()) {
            return this.fail(this.error);
          }
          value = this.token;
        }
        if (key == "name") {
          if (seenName) {
            this.pos = keyAt;
            return this.fail("field \"name\" given twice");
          }
          seenName = true;
          config.name = value;
        } else if (key == "value") {
          if (seenValue) {
            this.pos = keyAt;
            return this.fail("field \"value\" given twice");
          }
          seenValue = true;
          config.value = value;
        } else {
          this.pos = keyAt;
          return this.fail("unknown field " + quote(key) + " (expected \"name\" or \"value\")");
        }
        this.skipSpace();
        if (this.eat(0x7d)) {
          break;
        }
        if (!this.eat(0x2c)) {
          return this.fail("expected ',' or '}'");
        }
      }
    }
    this.skipSpace();
    return this.atEnd() ? "" : this.fail("unexpected text after the JSON object");
  }

  atEnd(): bool {
    return this.pos >= this.text.length;
  }

  peek(): i32 {
    return this.atEnd() ? -1 : <i32>this.text.charCodeAt(this.pos);
  }

  eat(c: i32): bool {
    if (this.peek() == c) {
      this.pos++;
      return true;
    }
    return false;
  }

  eatWord(word: string): bool {
    if (this.text.length - this.pos >= word.length && this.text.substr(this.pos, word.length) == word) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  skipSpace(): void {
    while (true) {
      const c = this.peek();
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) {
        return;
      }
      this.pos++;
    }
  }

  // Reads a JSON string (with its escapes) into this.token; on failure says why in this.error.
  readString(): bool {
    if (!this.eat(QUOTE)) {
      this.error = "expected a string";
      return false;
    }
    let out = "";
    let start = this.pos;
    while (true) {
      const c = this.peek();
      if (c < 0) {
        this.error = "unterminated string";
        return false;
      }
      if (c < 0x20) {
        this.error = "control character in a string";
        return false;
      }
      if (c >= 0xd800 && c < 0xe000) {
        // A raw surrogate must be a proper pair (the text came from UTF-8, so it always is).
        const low = this.pos + 1 < this.text.length ? <i32>this.text.charCodeAt(this.pos + 1) : 0;
        if (c >= 0xdc00 || low < 0xdc00 || low >= 0xe000) {
          this.error = "invalid UTF-16 in a string";
          return false;
        }
        this.pos += 2;
        continue;
      }
      if (c == QUOTE) {
        out += this.text.substring(start, this.pos);
        this.pos++;
        this.token = out;
        return true;
      }
      if (c != BACKSLASH) {
        this.pos++;
        continue;
      }
      out += this.text.substring(start, this.pos);
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e == QUOTE || e == BACKSLASH || e == 0x2f) {
        out += String.fromCharCode(e);
      } else if (e == 0x62) {
        out += "\b";
      } else if (e == 0x66) {
        out += "\f";
      } else if (e == 0x6e) {
        out += "\n";
      } else if (e == 0x72) {
        out += "\r";
      } else if (e == 0x74) {
        out += "\t";
      } else if (e == 0x75) {
        const unit = this.hex4();
        if (unit < 0) {
          this.error = "invalid \\u escape";
          return false;
        }
        if (unit >= 0xdc00 && unit < 0xe000) {
          this.error = "unpaired surrogate in \\u escape";
          return false;
        }
        out += String.fromCharCode(unit);
        if (unit >= 0xd800 && unit < 0xdc00) {
          // a high surrogate: the low half must follow as another \u escape
          if (!this.eatWord("\\u")) {
            this.error = "unpaired surrogate in \\u escape";
            return false;
          }
          const low = this.hex4();
          if (low < 0xdc00 || low >= 0xe000) {
            this.error = "unpaired surrogate in \\u escape";
            return false;
          }
          out += String.fromCharCode(low);
        }
      } else if (e < 0) {
        this.error = "unterminated string";
        return false;
      } else {
        this.error = "invalid escape in a string";
        return false;
      }
      start = this.pos;
    }
    return false;
  }

  hex4(): i32 {
    if (this.text.length - this.pos < 4) {
      return -1;
    }
    let unit = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.text.charCodeAt(this.pos + i);
      let digit = -1;
      if (c >= 0x30 && c <= 0x39) {
        digit = c - 0x30;
      } else if (c >= 0x61 && c <= 0x66) {
        digit = c - 0x61 + 10;
      } else if (c >= 0x41 && c <= 0x46) {
        digit = c - 0x41 + 10;
      }
      if (digit < 0) {
        return -1;
      }
      unit = unit * 16 + digit;
    }
    this.pos += 4;
    return unit;
  }
}
