//! `Map::next_key` (BPF_MAP_GET_NEXT_KEY) as Linux's array and hash maps
//! answer it.

use guest_bpf::maps::{Errno, Map, MapDef, MapType, BPF_ANY};

fn map(map_type: MapType, max_entries: u32) -> Map {
    let def = MapDef {
        map_type,
        key_size: 4,
        value_size: 4,
        max_entries,
    };
    Map::new(def, 1).unwrap()
}

fn key(k: u32) -> Vec<u8> {
    k.to_le_bytes().to_vec()
}

#[test]
fn array_next_key_walks_indices_and_restarts_on_bad_keys() {
    let m = map(MapType::Array, 3);
    assert_eq!(m.next_key(None), Ok(key(0)));
    assert_eq!(m.next_key(Some(&key(0))), Ok(key(1)));
    assert_eq!(m.next_key(Some(&key(1))), Ok(key(2)));
    assert_eq!(m.next_key(Some(&key(2))), Err(Errno::NoEnt));
    assert_eq!(m.next_key(Some(&key(99))), Ok(key(0)));
}

#[test]
fn hash_next_key_visits_every_key_once() {
    let mut m = map(MapType::Hash, 8);
    assert_eq!(m.next_key(None), Err(Errno::NoEnt));
    for k in [5u32, 1, 9] {
        m.update(&key(k), &[0; 4], BPF_ANY, 0).unwrap();
    }
    let mut seen = Vec::new();
    let mut cur = None;
    while let Ok(k) = m.next_key(cur.as_deref()) {
        seen.push(u32::from_le_bytes(k.clone().try_into().unwrap()));
        cur = Some(k);
    }
    seen.sort();
    assert_eq!(seen, [1, 5, 9]);
    // A missing key restarts from the first.
    assert_eq!(m.next_key(Some(&key(4))), m.next_key(None));
}
