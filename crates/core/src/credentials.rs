//! Generation and hashing of secrets and tokens.
//!
//! Secrets are 64 characters of the base64 alphabet drawn from the operating system's CSPRNG
//! (48 random bytes, 384 bits). Because they are long and random, one SHA-256 is enough to
//! store them: there is nothing to brute-force, so a slow password hash would only add latency
//! to every authenticated request.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Number of characters in a user secret.
pub const SECRET_LENGTH: usize = 64;

/// A new random secret of [`SECRET_LENGTH`] characters from the base64 alphabet.
pub fn generate_secret() -> String {
    let mut bytes = [0_u8; SECRET_LENGTH / 4 * 3];
    OsRng.fill_bytes(&mut bytes);
    STANDARD_NO_PAD.encode(bytes)
}

/// Lowercase hex SHA-256 of a credential: the only form in which credentials are stored.
pub fn hash_credential(credential: &str) -> String {
    encode_hex(&Sha256::digest(credential.as_bytes()))
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `byte_count` random bytes from the CSPRNG as lowercase hex.
pub fn random_hex(byte_count: usize) -> String {
    let mut bytes = vec![0_u8; byte_count];
    OsRng.fill_bytes(&mut bytes);
    encode_hex(&bytes)
}

fn encode_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Decodes lowercase or uppercase hex; `None` for odd lengths or other characters.
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// A PIN: six characters of upper-case letters and digits from the CSPRNG.
pub fn generate_pin() -> String {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut pin = String::with_capacity(6);
    while pin.len() < 6 {
        let mut byte = [0_u8; 1];
        OsRng.fill_bytes(&mut byte);
        // Rejection sampling keeps every character equally likely (252 = 7 * 36).
        if byte[0] < 252 {
            pin.push(char::from(ALPHABET[usize::from(byte[0] % 36)]));
        }
    }
    pin
}

/// The last four characters of a secret, shown so people can tell secrets apart.
pub fn fingerprint(secret: &str) -> String {
    let characters: Vec<char> = secret.chars().collect();
    let start = characters.len().saturating_sub(4);
    characters[start..].iter().collect()
}

/// Compares two hashes without an early exit, so timing reveals nothing about where they
/// differ.
pub fn hashes_equal(left: &str, right: &str) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.bytes()
        .zip(right.bytes())
        .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_base64_characters_and_differ() {
        let first = generate_secret();
        let second = generate_secret();
        assert_eq!(first.len(), SECRET_LENGTH);
        assert!(first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
        assert_ne!(first, second);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash_credential("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn fingerprint_is_last_four_characters() {
        assert_eq!(
            fingerprint("kxjCrGbjTC9rLHAMkSWpozreJfdRtsiv/E46fUxvcuwqapdNRnXQptIngRKyHrwA"),
            "HrwA"
        );
        assert_eq!(fingerprint("ab"), "ab");
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let hex = random_hex(32);
        assert_eq!(hex.len(), 64);
        assert_eq!(encode_hex(&decode_hex(&hex).unwrap()), hex);
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn pins_are_six_upper_case_alphanumerics() {
        let pin = generate_pin();
        assert_eq!(pin.len(), 6);
        assert!(pin
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }

    #[test]
    fn hashes_equal_compares_whole_strings() {
        assert!(hashes_equal("abcd", "abcd"));
        assert!(!hashes_equal("abcd", "abce"));
        assert!(!hashes_equal("abcd", "abc"));
    }
}
