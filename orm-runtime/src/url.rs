//! The ORM's own options in a connection string, taken out before the rest goes to the
//! driver (tokio-postgres and mysql_async refuse keys they do not know).

use orm_core::{Error, Result};

/// Splits `url` (a `scheme://` URL or a libpq `key=value` string) into the string
/// without the options named in `own`, and those options in order (URL values
/// percent-decoded).
///
/// ```
/// let (rest, own) = orm_runtime::url::take_options("mysql://u@h/db?ssl-mode=REQUIRED", &["ssl-mode"])?;
/// assert_eq!(rest, "mysql://u@h/db");
/// assert_eq!(own, [("ssl-mode".to_owned(), "REQUIRED".to_owned())]);
/// # Ok::<(), orm_core::Error>(())
/// ```
pub fn take_options(url: &str, own: &[&str]) -> Result<(String, Vec<(String, String)>)> {
    let is_own = |pair: &&str| {
        let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
        own.contains(&key.trim())
    };
    let split = |pair: &str| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key.trim().to_owned(), value.trim().to_owned())
    };
    if url.contains("://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), Vec::new()));
        };
        let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        let (taken, rest): (Vec<&str>, Vec<&str>) = pairs.into_iter().partition(is_own);
        let taken = taken
            .into_iter()
            .map(|pair| {
                let (key, value) = split(pair);
                Ok((key, percent_decode(&value)?))
            })
            .collect::<Result<_>>()?;
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        return Ok((url, taken));
    }
    let (taken, rest): (Vec<&str>, Vec<&str>) = url.split_whitespace().partition(is_own);
    Ok((rest.join(" "), taken.into_iter().map(split).collect()))
}

fn percent_decode(value: &str) -> Result<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = value
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        Error::Config(format!("invalid percent-encoding in URL value {value:?}"))
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::Config(format!("URL value {value:?} is not UTF-8")))
}

/// A boolean option: `true`/`false`, `1`/`0`, `on`/`off`, `yes`/`no`.
///
/// ```
/// assert!(orm_runtime::url::flag("pooler", "on")?);
/// # Ok::<(), orm_core::Error>(())
/// ```
pub fn flag(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(Error::Config(format!(
            "invalid value {value:?} for {key}: expected true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_options_leave_the_url() {
        let (rest, own) = take_options(
            "postgres://u@h:1/db?pooler=true&application_name=a%20b&sslrootcert=%2Ftmp%2Fca.pem",
            &["pooler", "sslrootcert"],
        )
        .unwrap();
        assert_eq!(rest, "postgres://u@h:1/db?application_name=a%20b");
        assert_eq!(
            own,
            [
                ("pooler".to_owned(), "true".to_owned()),
                ("sslrootcert".to_owned(), "/tmp/ca.pem".to_owned())
            ]
        );
        let (rest, own) = take_options("postgres://u@h/db?pooler=1", &["pooler"]).unwrap();
        assert_eq!((rest.as_str(), own.len()), ("postgres://u@h/db", 1));
    }

    #[test]
    fn key_value_strings_too() {
        let (rest, own) = take_options("host=h dbname=d pooler=on", &["pooler"]).unwrap();
        assert_eq!(rest, "host=h dbname=d");
        assert_eq!(own, [("pooler".to_owned(), "on".to_owned())]);
    }

    #[test]
    fn bad_values_are_config_errors() {
        assert!(matches!(flag("pooler", "maybe"), Err(Error::Config(_))));
        assert!(matches!(
            take_options("postgres://h/d?pooler=%zz", &["pooler"]),
            Err(Error::Config(_))
        ));
    }
}
