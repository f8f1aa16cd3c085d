//! The server functions' answer encoding: JSON, read in the browser with `serde_json::from_str`.
//!
//! Leptos' own `Json` output reads answers with `serde_json::from_slice`, while hydration data and island
//! props are read with `from_str`; every answer type's deserializer was then compiled into the WebAssembly
//! twice, once per reader. One reader for both halves the JSON-reading code in the bundle.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON on the wire, decoded from text.
pub struct JsonText;

/// The output encoding every server function names (`#[server(output = TextJson)]`).
pub type TextJson = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}
