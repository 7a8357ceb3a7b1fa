//! [`JsonText`]: a `json` or `jsonb` value as the JSON text itself, both
//! ways. A state is megabytes: read, it is parsed once, straight into the
//! state, rather than through a `serde_json::Value`; written, it is
//! serialized once, straight from the state.

use std::error::Error;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

/// JSON text for a `json` or `jsonb` column or parameter.
#[derive(Debug)]
pub struct JsonText(pub Vec<u8>);

/// The version byte binary `jsonb` starts with, before the text.
const JSONB_VERSION: u8 = 1;

impl JsonText {
    /// `value` serialized.
    pub fn of<T: serde::Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_vec(value).map(Self)
    }
}

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            raw.strip_prefix(&[JSONB_VERSION])
                .ok_or("unknown jsonb version")?
        } else {
            raw
        };
        Ok(Self(text.to_vec()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}

impl ToSql for JsonText {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.extend_from_slice(&[JSONB_VERSION]);
        }
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }

    to_sql_checked!();
}
