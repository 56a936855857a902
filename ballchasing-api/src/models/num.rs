//! Lenient readers for the API's numbers and ids: a number may come as an integer, a float
//! or a numeric string (`23`, `23.0`, `"23"`), and `null` means absent. Anything else is
//! still an error, with its field path.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// A JSON number, numeric string, or null, read as `f64`.
struct Number;

impl<'de> Visitor<'de> for Number {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim() {
            "" => Ok(None),
            text => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Number)
    }
}

/// An optional number (integer, float or numeric string).
pub(crate) fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(Number)
}

/// An optional number that may also come as a flag: `true` reads 1, `false` 0.
pub(crate) fn opt_flag_or_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    struct FlagOrNumber;
    impl<'de> Visitor<'de> for FlagOrNumber {
        type Value = Option<f64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, a number or null")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(if v { 1.0 } else { 0.0 }))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Number.visit_i64(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Number.visit_u64(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Number.visit_f64(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Number.visit_str(v)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(FlagOrNumber)
        }
    }
    d.deserialize_any(FlagOrNumber)
}

/// An optional whole number that fits `T`: `3`, `3.0` and `"3"` all read as 3; `2.5` or a
/// negative count is an error.
fn opt_whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    match d.deserialize_any(Number)? {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && n.abs() < 1e30 => T::try_from(n as i128)
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{n} is out of range"))),
        Some(n) => Err(de::Error::custom(format!(
            "expected a whole number, got {n}"
        ))),
    }
}

/// An optional `u32` (see [`opt_whole`]).
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    opt_whole(d)
}

/// An optional `u64` (see [`opt_whole`]).
pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    opt_whole(d)
}

/// An optional `i64` (see [`opt_whole`]).
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    opt_whole(d)
}

/// An optional id: a string, or a number written as one (`76561198000000000`).
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Id;
    impl<'de> Visitor<'de> for Id {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id (string or number) or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Id)
        }
    }
    d.deserialize_any(Id)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "super::opt_u32")]
        u: Option<u32>,
        #[serde(default, deserialize_with = "super::opt_id")]
        id: Option<String>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn integers_floats_and_numeric_strings_all_read() {
        for json in [
            r#"{"f":23,"u":23,"id":"7"}"#,
            r#"{"f":23.0,"u":23.0,"id":7}"#,
            r#"{"f":"23","u":" 23 ","id":"7"}"#,
        ] {
            assert_eq!(
                t(json).unwrap(),
                T {
                    f: Some(23.0),
                    u: Some(23),
                    id: Some("7".into())
                },
                "{json}"
            );
        }
        assert_eq!(
            t(r#"{"f":null,"u":null,"id":null}"#).unwrap(),
            T {
                f: None,
                u: None,
                id: None
            }
        );
        assert_eq!(t("{}").unwrap().f, None);
    }

    #[test]
    fn values_that_are_not_numbers_are_errors() {
        for bad in [
            r#"{"f":"many"}"#,
            r#"{"f":[1]}"#,
            r#"{"u":2.5}"#,
            r#"{"u":-1}"#,
            r#"{"f":true}"#,
            r#"{"id":{}}"#,
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }
}
