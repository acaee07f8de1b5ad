//! The plugin configuration: JSON shaped like the protobuf message
//! `message Config { string name = 1; string value = 2; }`.
//!
//! * empty (or only whitespace): no extra header;
//! * `{"name": "x-powered-by", "value": "wasm"}`: add `x-powered-by: wasm` to every response;
//! * anything else is rejected with a message saying what is wrong: not JSON, not an object,
//!   an unknown field (a typo would otherwise be silently ignored), a non-string value, a
//!   `value` without a `name`, or a header the proxy would refuse.
//!
//! A few lines of hand-written parsing, because filters build offline without crates.io.

/// The header to add to responses; an empty name means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub name: String,
    pub value: String,
}

impl Config {
    /// Parses the plugin configuration bytes the host passes to `on_configure`.
    pub fn parse(bytes: &[u8]) -> Result<Config, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {}", e))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let mut parser = Parser { text, pos: 0 };
        let config = parser.config()?;
        parser.skip_whitespace();
        if parser.pos < text.len() {
            return Err(parser.error("unexpected text after the JSON object"));
        }
        config.validate()?;
        Ok(config)
    }

    /// `(name, value)` when a header is configured.
    pub fn header(&self) -> Option<(&str, &str)> {
        if self.name.is_empty() {
            None
        } else {
            Some((&self.name, &self.value))
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            if !self.value.is_empty() {
                return Err("\"value\" is set but \"name\" is empty".to_string());
            }
            return Ok(());
        }
        // RFC 9110 token characters; proxies refuse anything else as a header name.
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if !self.name.chars().all(token) {
            return Err(format!("{:?} is not a valid header name", self.name));
        }
        if self
            .value
            .chars()
            .any(|c| c == '\r' || c == '\n' || c == '\0')
        {
            return Err(format!(
                "the value of header {:?} contains a line break or NUL",
                self.name
            ));
        }
        Ok(())
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: &str) -> String {
        format!("{} (at byte {})", message, self.pos)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek() {
            if !matches!(c, ' ' | '\t' | '\n' | '\r') {
                break;
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), String> {
        self.skip_whitespace();
        if self.peek() == Some(wanted) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", wanted)))
        }
    }

    fn config(&mut self) -> Result<Config, String> {
        self.skip_whitespace();
        if self.peek() != Some('{') {
            return Err(self
                .error("expected a JSON object like {\"name\": \"x-header\", \"value\": \"v\"}"));
        }
        self.pos += 1;
        let mut config = Config::default();
        let (mut seen_name, mut seen_value) = (false, false);
        self.skip_whitespace();
        if self.peek() == Some('}') {
            self.pos += 1;
            return Ok(config);
        }
        loop {
            self.skip_whitespace();
            let key_at = self.pos;
            let key = self.string()?;
            self.expect(':')?;
            let value = self.string_or_null(&key)?;
            let (slot, seen) = match key.as_str() {
                "name" => (&mut config.name, &mut seen_name),
                "value" => (&mut config.value, &mut seen_value),
                _ => {
                    self.pos = key_at;
                    return Err(self.error(&format!(
                        "unknown field {:?} (expected \"name\" or \"value\")",
                        key
                    )));
                }
            };
            if *seen {
                self.pos = key_at;
                return Err(self.error(&format!("field {:?} given twice", key)));
            }
            *seen = true;
            *slot = value;
            self.skip_whitespace();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(config);
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// A string value; JSON `null` means the proto3 default, the empty string.
    fn string_or_null(&mut self, key: &str) -> Result<String, String> {
        self.skip_whitespace();
        if self.text[self.pos..].starts_with("null") {
            self.pos += 4;
            return Ok(String::new());
        }
        if self.peek() != Some('"') {
            return Err(self.error(&format!("field {:?} must be a string", key)));
        }
        self.string()
    }

    fn string(&mut self) -> Result<String, String> {
        if self.peek() != Some('"') {
            return Err(self.error("expected a string"));
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.error("unterminated string"))?;
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape()?),
                c if (c as u32) < 0x20 => return Err(self.error("control character in a string")),
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("unterminated string"))?;
        self.pos += c.len_utf8();
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let high = self.hex4()?;
                if (0xd800..0xdc00).contains(&high) {
                    if !self.text[self.pos..].starts_with("\\u") {
                        return Err(self.error("unpaired surrogate in \\u escape"));
                    }
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&low) {
                        return Err(self.error("unpaired surrogate in \\u escape"));
                    }
                    let code = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                    char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?
                } else {
                    char::from_u32(high)
                        .ok_or_else(|| self.error("unpaired surrogate in \\u escape"))?
                }
            }
            _ => return Err(self.error("invalid escape in a string")),
        })
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape"));
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    fn header(json: &str) -> Option<(String, String)> {
        let config = Config::parse(json.as_bytes()).unwrap();
        config.header().map(|(n, v)| (n.to_string(), v.to_string()))
    }

    #[test]
    fn empty_configuration_adds_nothing() {
        assert_eq!(header(""), None);
        assert_eq!(header("  \n"), None);
        assert_eq!(header("{}"), None);
        assert_eq!(header(r#"{"name": null, "value": null}"#), None);
    }

    #[test]
    fn name_and_value() {
        let expected = Some(("x-powered-by".to_string(), "wasm".to_string()));
        assert_eq!(
            header(r#"{"name":"x-powered-by","value":"wasm"}"#),
            expected
        );
        assert_eq!(
            header("\u{feff} { \"value\" : \"wasm\" ,\n\t\"name\" : \"x-powered-by\" } \n"),
            expected
        );
        assert_eq!(
            header(r#"{"name": "x-empty"}"#),
            Some(("x-empty".to_string(), String::new()))
        );
    }

    #[test]
    fn escapes() {
        let config =
            Config::parse(br#"{"name": "x", "value": "a\"b\\c\/d\te \u00e9 \ud83d\ude00"}"#)
                .unwrap();
        assert_eq!(config.value, "a\"b\\c/d\te \u{e9} \u{1f600}");
    }

    #[test]
    fn rejects_invalid_configurations() {
        for bad in [
            "not json",
            "[]",
            "\"x\"",
            "{",
            r#"{"name": "x""#,
            r#"{"name": "x",}"#,
            r#"{"name": "x"} trailing"#,
            r#"{"name": 1}"#,
            r#"{"name": ["x"]}"#,
            r#"{"nmae": "x"}"#,
            r#"{"name": "x", "name": "y"}"#,
            r#"{"value": "orphan"}"#,
            r#"{"name": "bad name"}"#,
            r#"{"name": "x", "value": "a\r\nb"}"#,
            r#"{"name": "x", "value": "\ud800"}"#,
            r#"{"name": "x", "value": "\q"}"#,
            "{\"name\": \"x\", \"value\": \"raw\ttab\"}",
        ] {
            assert!(Config::parse(bad.as_bytes()).is_err(), "accepted {:?}", bad);
        }
        assert!(Config::parse(&[b'{', 0xff, b'}']).is_err());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let error = Config::parse(br#"{"nmae": "x"}"#).unwrap_err();
        assert!(error.contains("unknown field \"nmae\""), "{}", error);
        let error = Config::parse(b"not json").unwrap_err();
        assert!(error.contains("expected a JSON object"), "{}", error);
    }
}
