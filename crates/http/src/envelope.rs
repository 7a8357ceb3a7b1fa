//! Unwrapping an `?envelope=true` answer (`{"status": N, "content": ...}`)
//! as a stream.
//!
//! The content of a ready result is the whole result, often hundreds of
//! megabytes. Parsing the envelope into a `serde_json::Value` held the body
//! and its tree in memory many times over; here the body is read once from
//! its spool, the content is transcoded token by token into a second spool,
//! and nothing but the status is kept in memory. The one exception is content
//! that is a JSON string (a CSV result in an envelope): serde_json hands a
//! string over whole, so that case costs the text's size once.

use std::fmt;
use std::io::{self, BufReader, BufWriter, Write as _};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use costform_model::result_body::ResultBody;

use crate::error::MAX_ANSWER_BYTES;

/// What the body of a 200 turned out to be.
pub(crate) enum Unwrapped {
    /// The result itself; `parses` says whether it is one JSON value.
    NotEnvelope { parses: bool },
    /// An envelope with Atlas's real status and what it carried.
    Envelope { status: u64, content: Content },
}

/// The `content` of an envelope.
pub(crate) enum Content {
    /// No `content` key.
    Absent,
    /// A JSON string's text (a CSV result), unescaped.
    Text(ResultBody),
    /// Any other JSON value, compact.
    Json(ResultBody),
}

impl Content {
    /// The content as a JSON value, for an error envelope: those are small,
    /// and anything past [`MAX_ANSWER_BYTES`] is cut (and so reads as null).
    pub(crate) fn into_value(self) -> io::Result<serde_json::Value> {
        let limit = usize::try_from(MAX_ANSWER_BYTES).unwrap_or(usize::MAX);
        Ok(match self {
            Content::Absent => serde_json::Value::Null,
            Content::Text(mut text) => {
                serde_json::Value::String(String::from_utf8_lossy(&text.head(limit)?).into_owned())
            }
            Content::Json(mut json) => {
                serde_json::from_slice(&json.head(limit)?).unwrap_or(serde_json::Value::Null)
            }
        })
    }
}

/// Reads `body` once: an envelope's content moves to a spool of its own;
/// anything else is left for the caller as the result.
pub(crate) fn unwrap(body: &mut ResultBody) -> io::Result<Unwrapped> {
    if first_significant_byte(body)? != Some(b'{') {
        // Not an object, so not an envelope; CSV stops at its first byte.
        let parses = serde_json::from_reader::<_, IgnoredAny>(BufReader::new(body.reader()?));
        return Ok(Unwrapped::NotEnvelope {
            parses: parses.is_ok(),
        });
    }
    let mut content = ResultBody::new();
    let probe = {
        let mut reader = serde_json::Deserializer::from_reader(BufReader::new(body.reader()?));
        EnvelopeSeed {
            content: &mut content,
        }
        .deserialize(&mut reader)
        .and_then(|probe| reader.end().map(|()| probe))
    };
    let probe = match probe {
        Ok(probe) => probe,
        Err(error) if error.is_io() => return Err(error.into()),
        Err(_) => return Ok(Unwrapped::NotEnvelope { parses: false }),
    };
    let (Some(status), false) = (probe.status, probe.other_keys) else {
        return Ok(Unwrapped::NotEnvelope { parses: true });
    };
    let content = if !probe.has_content {
        Content::Absent
    } else if first_significant_byte(&mut content)? == Some(b'"') {
        let text: String = serde_json::from_reader(BufReader::new(content.reader()?))?;
        Content::Text(ResultBody::from_bytes(text.as_bytes()))
    } else {
        Content::Json(content)
    };
    Ok(Unwrapped::Envelope { status, content })
}

/// Whether `body` is UTF-8 text, read in chunks.
pub(crate) fn is_utf8(body: &mut ResultBody) -> bool {
    let Ok(reader) = body.reader() else {
        return false;
    };
    let mut buffer = vec![0; 64 * 1024];
    // Bytes of a character cut by the chunk boundary, carried over.
    let mut carried = 0;
    loop {
        let read = match reader.read(&mut buffer[carried..]) {
            Ok(0) => return carried == 0,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        };
        let filled = carried + read;
        match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => carried = 0,
            Err(error) if error.error_len().is_none() => {
                let valid = error.valid_up_to();
                buffer.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return false,
        }
    }
}

/// The first byte that is not JSON whitespace, if any.
fn first_significant_byte(body: &mut ResultBody) -> io::Result<Option<u8>> {
    let reader = body.reader()?;
    let mut byte = [0];
    loop {
        if reader.read(&mut byte)? == 0 {
            return Ok(None);
        }
        if !matches!(byte[0], b' ' | b'\t' | b'\n' | b'\r') {
            return Ok(Some(byte[0]));
        }
    }
}

/// What one pass over a top-level object found.
struct Probe {
    status: Option<u64>,
    has_content: bool,
    other_keys: bool,
}

/// Reads a top-level object, sending `content` to its spool.
struct EnvelopeSeed<'a> {
    content: &'a mut ResultBody,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = Probe;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Probe, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = Probe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
        let mut probe = Probe {
            status: None,
            has_content: false,
            other_keys: false,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "status" if probe.status.is_none() => {
                    probe.status = map.next_value::<Status>()?.0;
                    probe.other_keys |= probe.status.is_none();
                }
                "content" if !probe.has_content => {
                    map.next_value_seed(ContentSeed {
                        content: &mut *self.content,
                    })?;
                    probe.has_content = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    probe.other_keys = true;
                }
            }
        }
        Ok(probe)
    }
}

/// Transcodes one JSON value into a spool, token by token. Numbers pass
/// through `f64`, as they did when the envelope was parsed into a `Value`:
/// an amount keeps its shortest exact decimal form (`51.19`), not trailing
/// zeros (`1.50` becomes `1.5`).
struct ContentSeed<'a> {
    content: &'a mut ResultBody,
}

impl<'de> DeserializeSeed<'de> for ContentSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let mut writer = BufWriter::new(&mut *self.content);
        let mut serializer = serde_json::Serializer::new(&mut writer);
        serde_transcode::transcode(deserializer, &mut serializer).map_err(de::Error::custom)?;
        writer.flush().map_err(de::Error::custom)
    }
}

/// An envelope's `status`: a non-negative integer, or `None` for anything
/// else (which is then no envelope), read without keeping a large value.
struct Status(Option<u64>);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StatusVisitor)
    }
}

struct StatusVisitor;

impl<'de> Visitor<'de> for StatusVisitor {
    type Value = Status;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E>(self, value: u64) -> Result<Status, E> {
        Ok(Status(Some(value)))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_str<E>(self, _: &str) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_unit<E>(self) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Status, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Status(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Status, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Status(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unwrapped(text: &str) -> Unwrapped {
        unwrap(&mut ResultBody::from_bytes(text.as_bytes())).unwrap()
    }

    fn read(mut body: ResultBody) -> String {
        String::from_utf8(body.head(usize::MAX).unwrap()).unwrap()
    }

    #[test]
    fn json_content_is_moved_out_compact() {
        let Unwrapped::Envelope { status, content } = unwrapped(
            r#" {"status": 200, "content": {"usageDetails": [ {"usageAmount": 51.19} ]}}"#,
        ) else {
            panic!("not an envelope")
        };
        assert_eq!(status, 200);
        let Content::Json(json) = content else {
            panic!("not json")
        };
        assert_eq!(read(json), r#"{"usageDetails":[{"usageAmount":51.19}]}"#);
    }

    #[test]
    fn string_content_is_unescaped_text() {
        let Unwrapped::Envelope { content, .. } =
            unwrapped(r#"{"content": "a,b\n\"1\",\u00e9", "status": 200}"#)
        else {
            panic!("not an envelope")
        };
        let Content::Text(text) = content else {
            panic!("not text")
        };
        assert_eq!(read(text), "a,b\n\"1\",é");
    }

    #[test]
    fn a_result_with_other_keys_is_not_an_envelope() {
        for text in [
            r#"{"usageDetails": []}"#,
            r#"{"status": 200, "usageDetails": []}"#,
            r#"{"status": "done", "content": {}}"#,
            "[1, 2]",
        ] {
            assert!(
                matches!(unwrapped(text), Unwrapped::NotEnvelope { parses: true }),
                "{text}"
            );
        }
        for text in ["Service,Usage Amount\n", "{\"status\": 200, ", "<html>"] {
            assert!(
                matches!(unwrapped(text), Unwrapped::NotEnvelope { parses: false }),
                "{text}"
            );
        }
    }

    #[test]
    fn utf8_is_checked_across_chunk_boundaries() {
        let mut text = "x".repeat(64 * 1024 - 1);
        text.push('é');
        text.push_str(&"é".repeat(70_000));
        assert!(is_utf8(&mut ResultBody::from_bytes(text.as_bytes())));
        let mut broken = text.into_bytes();
        broken.push(0xff);
        assert!(!is_utf8(&mut ResultBody::from_bytes(&broken)));
        let mut cut = "é".repeat(10).into_bytes();
        cut.pop();
        assert!(!is_utf8(&mut ResultBody::from_bytes(&cut)));
    }
}
