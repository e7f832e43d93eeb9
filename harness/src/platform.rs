//! What kind of device a case runs on, and its connectivity: the one `Platform` and the one
//! `Network` every layer uses (profiles, flows, backends, the virtual farm, reports).
use std::fmt;

/// The platform a device runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Platform {
    #[serde(rename = "iOS")]
    Ios,
    Android,
}

impl Platform {
    /// Both platforms with their spelling in YAML and Appium's `platformName`.
    pub const ALL: [(&'static str, Platform); 2] = [("iOS", Platform::Ios), ("Android", Platform::Android)];

    /// Appium's spelling of `platformName`: `iOS` or `Android`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::Android => "Android",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a device reaches the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Online,
    Offline,
}

impl Network {
    pub const ALL: [(&'static str, Network); 2] = [("online", Network::Online), ("offline", Network::Offline)];
    pub fn name(self) -> &'static str {
        match self {
            Network::Online => "online",
            Network::Offline => "offline",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde() {
        for (name, p) in Platform::ALL {
            assert_eq!(p.name(), name);
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(name));
        }
        for (name, n) in Network::ALL {
            assert_eq!(n.to_string(), name);
            assert_eq!(serde_json::from_value::<Network>(serde_json::json!(name)).unwrap(), n);
        }
    }
}
