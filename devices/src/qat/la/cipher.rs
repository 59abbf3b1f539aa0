//! The cipher slice: AES-128/192/256 in ECB, CBC, CTR (128-bit
//! big-endian counter) and XTS (key1 || key2, raw tweak, ciphertext
//! stealing) on the legacy slice layout Linux builds when the UCS slice
//! is fused off. Keys come as the driver wrote them; decryption needs the
//! key-convert bit (the hardware derives the decryption schedule), as
//! Linux always sets it.

use aes::cipher::{
    generic_array::GenericArray, BlockCipher, BlockDecrypt, BlockDecryptMut, BlockEncrypt,
    BlockEncryptMut, KeyInit, KeyIvInit, StreamCipher,
};
use aes::{Aes128, Aes192, Aes256};
use thiserror::Error;

/// Cipher modes of the config word (bits 7:4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Electronic codebook (0).
    Ecb,
    /// Cipher block chaining (1).
    Cbc,
    /// Counter (2).
    Ctr,
    /// XEX tweaked codebook with ciphertext stealing (6).
    Xts,
}

/// A decoded cipher config word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherConfig {
    /// AES key bytes per key (16, 24 or 32).
    pub key_len: usize,
    /// The mode.
    pub mode: Mode,
    /// Decrypt (bit 8).
    pub decrypt: bool,
    /// Key convert (bit 9): the hardware derives the decryption key.
    pub convert: bool,
}

/// Why a cipher request cannot be served.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum CipherError {
    /// The algorithm, mode or flags are not ones this slice implements.
    #[error("unsupported cipher configuration {0:#x}")]
    Unsupported(u32),
    /// The key in the content descriptor is not the size the config needs.
    #[error("key of {0} bytes")]
    KeyLength(usize),
    /// The data length does not suit the mode (CBC/ECB: whole blocks;
    /// XTS: at least one block).
    #[error("{0} bytes do not suit the mode")]
    DataLength(usize),
}

impl CipherConfig {
    /// Decodes a config word: bits 3:0 algorithm (3/4/5 = AES-128/192/256),
    /// 7:4 mode, bit 8 direction, bit 9 key convert.
    pub fn decode(word: u32) -> Result<Self, CipherError> {
        let key_len = match word & 0xf {
            3 => 16,
            4 => 24,
            5 => 32,
            _ => return Err(CipherError::Unsupported(word)),
        };
        let mode = match (word >> 4) & 0xf {
            0 => Mode::Ecb,
            1 => Mode::Cbc,
            2 => Mode::Ctr,
            6 => Mode::Xts,
            _ => return Err(CipherError::Unsupported(word)),
        };
        let decrypt = word & (1 << 8) != 0;
        let convert = word & (1 << 9) != 0;
        // Without key convert a block-mode decryption would need the
        // reversed key schedule; Linux never sends that on this slice.
        if decrypt && !convert && mode != Mode::Ctr {
            return Err(CipherError::Unsupported(word));
        }
        Ok(Self {
            key_len,
            mode,
            decrypt,
            convert,
        })
    }

    /// Bytes of key material the mode takes (XTS: two keys).
    pub fn key_material(&self) -> usize {
        if self.mode == Mode::Xts {
            2 * self.key_len
        } else {
            self.key_len
        }
    }

    /// Applies the cipher to `data` in place with `key` and `iv`.
    pub fn apply(&self, key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<(), CipherError> {
        if key.len() != self.key_material() {
            return Err(CipherError::KeyLength(key.len()));
        }
        match self.key_len {
            16 => run::<Aes128>(self, key, iv, data),
            24 => run::<Aes192>(self, key, iv, data),
            _ => run::<Aes256>(self, key, iv, data),
        }
    }
}

fn run<C>(cfg: &CipherConfig, key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<(), CipherError>
where
    C: BlockCipher + BlockEncrypt + BlockDecrypt + KeyInit + Clone,
    C: aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let bad_key = |_| CipherError::KeyLength(key.len());
    match cfg.mode {
        Mode::Ctr => {
            let mut ctr = ctr::Ctr128BE::<C>::new_from_slices(key, iv).map_err(bad_key)?;
            ctr.apply_keystream(data);
        }
        Mode::Ecb | Mode::Cbc if !data.len().is_multiple_of(16) => {
            return Err(CipherError::DataLength(data.len()));
        }
        Mode::Ecb => {
            let c = C::new_from_slice(key).map_err(bad_key)?;
            for block in data.chunks_exact_mut(16) {
                let block = GenericArray::from_mut_slice(block);
                if cfg.decrypt {
                    c.decrypt_block(block);
                } else {
                    c.encrypt_block(block);
                }
            }
        }
        Mode::Cbc => {
            let len = data.len();
            if cfg.decrypt {
                let d = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(bad_key)?;
                d.decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(data)
                    .map_err(|_| CipherError::DataLength(len))?;
            } else {
                let e = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(bad_key)?;
                e.encrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(data, len)
                    .map_err(|_| CipherError::DataLength(len))?;
            }
        }
        Mode::Xts => {
            if data.len() < 16 {
                return Err(CipherError::DataLength(data.len()));
            }
            let (k1, k2) = key.split_at(cfg.key_len);
            let xts = xts_mode::Xts128::new(
                C::new_from_slice(k1).map_err(bad_key)?,
                C::new_from_slice(k2).map_err(bad_key)?,
            );
            if cfg.decrypt {
                xts.decrypt_sector(data, *iv);
            } else {
                xts.encrypt_sector(data, *iv);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn test_config_words_decode_as_linux_builds_them() {
        let enc = CipherConfig::decode(0x13).unwrap();
        assert_eq!((enc.key_len, enc.mode, enc.decrypt), (16, Mode::Cbc, false));
        let dec = CipherConfig::decode(0x315).unwrap();
        assert_eq!(
            (dec.key_len, dec.mode, dec.decrypt, dec.convert),
            (32, Mode::Cbc, true, true)
        );
        assert_eq!(
            CipherConfig::decode(0x113),
            Err(CipherError::Unsupported(0x113))
        );
        assert_eq!(
            CipherConfig::decode(0x11),
            Err(CipherError::Unsupported(0x11))
        );
        assert_eq!(
            CipherConfig::decode(0x33),
            Err(CipherError::Unsupported(0x33))
        );
        assert_eq!(CipherConfig::decode(0x63).unwrap().key_material(), 32);
    }

    #[test]
    fn test_ecb_matches_fips_197() {
        let cfg = CipherConfig::decode(0x03).unwrap();
        let mut block = hex("00112233445566778899aabbccddeeff");
        cfg.apply(
            &hex("000102030405060708090a0b0c0d0e0f"),
            &[0; 16],
            &mut block,
        )
        .unwrap();
        assert_eq!(block, hex("69c4e0d86a7b0430d8cdb78070b4c55a"));
    }

    #[test]
    fn test_bad_lengths_are_errors_not_panics() {
        let cbc = CipherConfig::decode(0x13).unwrap();
        assert_eq!(
            cbc.apply(&[0; 16], &[0; 16], &mut [0; 15]),
            Err(CipherError::DataLength(15))
        );
        assert_eq!(
            cbc.apply(&[0; 15], &[0; 16], &mut [0; 16]),
            Err(CipherError::KeyLength(15))
        );
        let xts = CipherConfig::decode(0x63).unwrap();
        assert_eq!(
            xts.apply(&[0; 32], &[0; 16], &mut [0; 15]),
            Err(CipherError::DataLength(15))
        );
    }
}
