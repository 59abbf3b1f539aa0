//! Parsing of the device flags' `key=value,...` arguments (`--disk`,
//! `--net`), each into a typed description the machine builds from.

use std::path::PathBuf;

/// A virtio-blk disk: `--disk path=FILE[,readonly=on][,serial=ID]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskArg {
    /// The backing file.
    pub path: PathBuf,
    /// Refuse guest writes.
    pub readonly: bool,
    /// The serial the guest reads with GET_ID (20 bytes at most).
    pub serial: Option<String>,
}

/// Where a virtio-net interface's frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetLink {
    /// Unix datagrams: this VM binds `socket` (an existing socket file is
    /// replaced) and sends to `peer`.
    Socket {
        /// This VM's socket path.
        socket: PathBuf,
        /// The peer VM's socket path.
        peer: PathBuf,
    },
    /// A host tap interface, created or attached by name.
    Tap(String),
}

/// A virtio-net interface: `--net socket=PATH,peer=PATH[,mac=..]` or
/// `--net tap=NAME[,mac=..]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetArg {
    /// The link.
    pub link: NetLink,
    /// The MAC address; None picks [`default_mac`] for the interface.
    pub mac: Option<[u8; 6]>,
}

/// The MAC address an interface gets without `mac=`: locally
/// administered, unicast, with the interface's index in the last byte.
pub fn default_mac(index: usize) -> [u8; 6] {
    [
        0x52,
        0x54,
        0x00,
        0x12,
        0x34,
        0x56u8.wrapping_add(index as u8),
    ]
}

/// Splits `key=value,key=value`; rejects empty keys and repeated keys.
fn pairs(text: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for item in text.split(',') {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not key=value"))?;
        if key.is_empty() {
            return Err(format!("'{item}' has no key"));
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!("'{key}' given twice"));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn on_off(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("{key}={value}: expected on or off")),
    }
}

fn non_empty_path(key: &str, value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err(format!("{key}= needs a path"));
    }
    Ok(PathBuf::from(value))
}

/// Parses a `--disk` argument.
pub fn parse_disk(text: &str) -> Result<DiskArg, String> {
    let mut disk = DiskArg {
        path: PathBuf::new(),
        readonly: false,
        serial: None,
    };
    for (key, value) in pairs(text)? {
        match key {
            "path" => disk.path = non_empty_path(key, value)?,
            "readonly" => disk.readonly = on_off(key, value)?,
            "serial" if value.len() <= 20 && value.is_ascii() => {
                disk.serial = Some(value.to_owned())
            }
            "serial" => return Err("serial= takes at most 20 ASCII characters".into()),
            _ => {
                return Err(format!(
                    "unknown disk option '{key}' (path, readonly, serial)"
                ))
            }
        }
    }
    if disk.path.as_os_str().is_empty() {
        return Err("path=FILE is required".into());
    }
    Ok(disk)
}

fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let bad = || format!("mac={text}: expected six hex bytes like 52:54:00:12:34:56");
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| {
            (b.len() == 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let mac: [u8; 6] = bytes.try_into().map_err(|_| bad())?;
    if mac[0] & 1 != 0 {
        return Err(format!("mac={text} is a multicast address"));
    }
    Ok(mac)
}

/// Parses a `--net` argument.
pub fn parse_net(text: &str) -> Result<NetArg, String> {
    let mut socket = None;
    let mut peer = None;
    let mut tap = None;
    let mut mac = None;
    for (key, value) in pairs(text)? {
        match key {
            "socket" => socket = Some(non_empty_path(key, value)?),
            "peer" => peer = Some(non_empty_path(key, value)?),
            "tap" if !value.is_empty() => tap = Some(value.to_owned()),
            "tap" => return Err("tap= needs an interface name".into()),
            "mac" => mac = Some(parse_mac(value)?),
            _ => {
                return Err(format!(
                    "unknown net option '{key}' (socket, peer, tap, mac)"
                ))
            }
        }
    }
    let link = match (socket, peer, tap) {
        (Some(socket), Some(peer), None) => NetLink::Socket { socket, peer },
        (None, None, Some(name)) => NetLink::Tap(name),
        (_, _, Some(_)) => return Err("tap= does not combine with socket= or peer=".into()),
        _ => return Err("socket=PATH,peer=PATH or tap=NAME is required".into()),
    };
    Ok(NetArg { link, mac })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_disk_parses_path_readonly_and_serial() {
        assert_eq!(
            parse_disk("path=/tmp/d.img").unwrap(),
            DiskArg {
                path: "/tmp/d.img".into(),
                readonly: false,
                serial: None
            }
        );
        let d = parse_disk("path=a,readonly=on,serial=disk0").unwrap();
        assert!(d.readonly);
        assert_eq!(d.serial.as_deref(), Some("disk0"));
    }

    #[test]
    fn test_disk_rejects_bad_arguments() {
        for bad in [
            "",
            "a.img",
            "path=",
            "readonly=on",
            "path=a,readonly=maybe",
            "path=a,path=b",
            "path=a,cache=none",
            "path=a,serial=123456789012345678901",
            "=a",
        ] {
            assert!(parse_disk(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn test_net_parses_socket_peer_and_mac() {
        let n = parse_net("socket=/tmp/a,peer=/tmp/b,mac=52:54:00:ab:cd:ef").unwrap();
        assert_eq!(
            n.link,
            NetLink::Socket {
                socket: "/tmp/a".into(),
                peer: "/tmp/b".into()
            }
        );
        assert_eq!(
            parse_net("tap=tap0").unwrap().link,
            NetLink::Tap("tap0".into())
        );
        assert_eq!(n.mac, Some([0x52, 0x54, 0, 0xab, 0xcd, 0xef]));
        for bad in [
            "socket=/a",
            "peer=/b",
            "socket=/a,peer=/b,mac=01:00:00:00:00:00",
            "socket=/a,peer=/b,mac=52:54:00",
            "socket=/a,peer=/b,mac=zz:54:00:00:00:00",
            "tap=",
            "tap=t0,socket=/a",
            "",
        ] {
            assert!(parse_net(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn test_default_macs_differ_per_interface() {
        assert_ne!(default_mac(0), default_mac(1));
        assert_eq!(default_mac(0)[0] & 3, 2, "locally administered unicast");
    }
}
