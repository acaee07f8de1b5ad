// The plugin configuration, shaped like filter.proto's
//   message Config { string name = 1; string value = 2; }
// in proto3's JSON mapping, e.g. {"name": "x-wasm-filter", "value": "on"}.
//
// A small parser written for exactly this shape, so the filter needs no JSON package:
//   - an empty (or all-blank) configuration is valid and configures nothing;
//   - otherwise it must be one JSON object whose members are "name" and "value", each a JSON
//     string or null (null, like a missing member, leaves the field empty);
//   - anything else (other members, other value types, trailing text) is invalid.

export class Config {
  name: string = "";
  value: string = "";
}

// Fills `config` from `text`; returns false when `text` is not a valid configuration.
export function parseConfig(text: string, config: Config): bool {
  const parser = new Parser(text);
  return parser.parse(config);
}

const QUOTE: i32 = 0x22; // "
const BACKSLASH: i32 = 0x5c;
const OPEN_BRACE: i32 = 0x7b;
const CLOSE_BRACE: i32 = 0x7d;
const COLON: i32 = 0x3a;
const COMMA: i32 = 0x2c;

class Parser {
  text: string;
  pos: i32 = 0;
  token: string = ""; // the last string read by readString()

  constructor(text: string) {
    this.text = text;
  }

  parse(config: Config): bool {
    this.skipSpace();
    if (this.atEnd()) {
      return true; // empty configuration
    }
    if (!this.eat(OPEN_BRACE)) {
      return false;
    }
    this.skipSpace();
    if (!this.eat(CLOSE_BRACE)) {
      while (true) {
        if (!this.readString()) {
          return false;
        }
        const key = this.token;
        this.skipSpace();
        if (!this.eat(COLON)) {
          return false;
        }
        this.skipSpace();
        let value = "";
        if (!this.eatWord("null")) {
          if (!this.readString()) {
            return false;
          }
          value = this.token;
        }
        if (key == "name") {
          config.name = value;
        } else if (key == "value") {
          config.value = value;
        } else {
          return false;
        }
        this.skipSpace();
        if (this.eat(CLOSE_BRACE)) {
          break;
        }
        if (!this.eat(COMMA)) {
          return false;
        }
        this.skipSpace();
      }
    }
    this.skipSpace();
    return this.atEnd();
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

  // Reads a JSON string (with its escapes) into this.token.
  readString(): bool {
    if (!this.eat(QUOTE)) {
      return false;
    }
    let out = "";
    let start = this.pos;
    while (true) {
      const c = this.peek();
      if (c < 0x20) {
        return false; // end of text, or a raw control character
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
          return false;
        }
        out += String.fromCharCode(unit); // surrogate pairs arrive as two \u escapes
      } else {
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
