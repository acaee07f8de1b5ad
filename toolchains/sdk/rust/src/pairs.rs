//! The ABI's header-map ("pairs") wire format, used for header maps, trailers, gRPC metadata,
//! local-reply headers and HTTP call headers.
//!
//! Layout, all integers little-endian u32: `N`, then N × (`key_len`, `value_len`), then for
//! each pair the key bytes, a 0x00, the value bytes, a 0x00. Decoding is strict (lengths must
//! fit, terminators must be 0x00, no trailing bytes) because a malformed map means a broken
//! host, and guessing would hand the filter wrong headers.

use crate::types::{Bytes, Status};

/// Serializes `pairs` into one buffer. An empty list is the 4-byte count 0, as upstream sends.
pub(crate) fn serialize<V: AsRef<[u8]>>(pairs: &[(&str, V)]) -> Bytes {
    let mut size = 4;
    for (key, value) in pairs {
        size += 8 + key.len() + 1 + value.as_ref().len() + 1;
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (key, value) in pairs {
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.as_ref().len() as u32).to_le_bytes());
    }
    for (key, value) in pairs {
        out.extend_from_slice(key.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_ref());
        out.push(0);
    }
    out
}

fn read_u32(buf: &[u8], at: usize) -> Option<usize> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
}

/// A decoded (key, value) pair, borrowed from the serialized buffer.
pub(crate) type Pair<'a> = (&'a [u8], &'a [u8]);

/// Decodes a serialized map into (key, value) byte slices borrowed from `buf`.
///
/// An empty buffer, or a single 0x00 byte (which the spec also allows), is an empty map.
pub(crate) fn deserialize(buf: &[u8]) -> Result<Vec<Pair<'_>>, Status> {
    if buf.is_empty() || buf == [0] {
        return Ok(Vec::new());
    }
    let count = read_u32(buf, 0).ok_or(Status::SerializationFailure)?;
    // Every pair needs 8 bytes of sizes and 2 terminators: reject absurd counts before allocating.
    if count > (buf.len() - 4) / 10 {
        return Err(Status::SerializationFailure);
    }
    let mut pos = 4 + count * 8;
    let mut pairs = Vec::with_capacity(count);
    for index in 0..count {
        let key_len = read_u32(buf, 4 + index * 8).ok_or(Status::SerializationFailure)?;
        let value_len = read_u32(buf, 8 + index * 8).ok_or(Status::SerializationFailure)?;
        let key = take_terminated(buf, &mut pos, key_len)?;
        let value = take_terminated(buf, &mut pos, value_len)?;
        pairs.push((key, value));
    }
    if pos != buf.len() {
        return Err(Status::SerializationFailure);
    }
    Ok(pairs)
}

fn take_terminated<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], Status> {
    let end = pos.checked_add(len).ok_or(Status::SerializationFailure)?;
    let field = buf.get(*pos..end).ok_or(Status::SerializationFailure)?;
    if buf.get(end) != Some(&0) {
        return Err(Status::SerializationFailure);
    }
    *pos = end + 1;
    Ok(field)
}

/// Text form of a header name or value. Header bytes outside UTF-8 (obs-text) become U+FFFD
/// rather than aborting the VM; the `_bytes` accessors give the exact bytes.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Joins property path segments with 0x00 and no trailing terminator (`request\0path`).
pub(crate) fn property_path(path: &[&str]) -> Bytes {
    let mut out = Vec::new();
    for (index, segment) in path.iter().enumerate() {
        if index > 0 {
            out.push(0);
        }
        out.extend_from_slice(segment.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_the_spec_example() {
        let bytes = serialize(&[("a", "1"), ("b", "22")]);
        let expected: &[u8] = &[
            2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, b'a', 0, b'1', 0, b'b', 0, b'2', b'2', 0,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn serializes_a_single_pair_with_exact_size() {
        let bytes = serialize(&[(":method", "GET")]);
        let mut expected = vec![1, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0];
        expected.extend_from_slice(b":method\0GET\0");
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), 24);
    }

    #[test]
    fn serializes_an_empty_list_as_a_zero_count() {
        let empty: [(&str, &str); 0] = [];
        assert_eq!(serialize(&empty), vec![0, 0, 0, 0]);
    }

    #[test]
    fn serializes_binary_values() {
        let value: &[u8] = &[0xff, 0x00, 0x7f];
        let bytes = serialize(&[("bin", value)]);
        assert_eq!(deserialize(&bytes).unwrap(), vec![(&b"bin"[..], value)]);
    }

    #[test]
    fn round_trips_empty_keys_and_values_and_order() {
        let pairs = [
            ("", ""),
            ("x", ""),
            ("", "y"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ];
        let bytes = serialize(&pairs);
        let decoded = deserialize(&bytes).unwrap();
        let expected: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn decodes_empty_forms() {
        assert!(deserialize(&[]).unwrap().is_empty());
        assert!(deserialize(&[0]).unwrap().is_empty());
        assert!(deserialize(&[0, 0, 0, 0]).unwrap().is_empty());
    }

    #[test]
    fn rejects_malformed_maps() {
        let good = serialize(&[("k", "v")]);
        // truncated anywhere
        for cut in 1..good.len() {
            assert_eq!(
                deserialize(&good[..cut]),
                Err(Status::SerializationFailure),
                "cut at {}",
                cut
            );
        }
        // trailing garbage
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(deserialize(&trailing), Err(Status::SerializationFailure));
        // a terminator that is not 0x00
        let mut bad_nul = good.clone();
        let last = bad_nul.len() - 1;
        bad_nul[last] = b'!';
        assert_eq!(deserialize(&bad_nul), Err(Status::SerializationFailure));
        // a count far larger than the buffer could hold
        let mut huge = good;
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(deserialize(&huge), Err(Status::SerializationFailure));
        // a length that overflows
        let mut overflow = serialize(&[("k", "v")]);
        overflow[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(deserialize(&overflow), Err(Status::SerializationFailure));
    }

    #[test]
    fn text_replaces_invalid_utf8() {
        assert_eq!(text(b"ok"), "ok");
        assert_eq!(text(&[b'a', 0xff]), "a\u{fffd}");
    }

    #[test]
    fn property_paths_join_with_nul() {
        assert_eq!(property_path(&["request", "path"]), b"request\0path".to_vec());
        assert_eq!(property_path(&["plugin_root_id"]), b"plugin_root_id".to_vec());
        assert!(property_path(&[]).is_empty());
    }
}
