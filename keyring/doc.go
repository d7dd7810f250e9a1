// Package keyring seals small secrets for storage: TOTP seeds, security-question
// answers and anything else that must be readable again by carrierguard but never by
// someone holding a copy of the database.
//
// Callers depend on the [Keyring] interface, so a carrier can back it with its KMS or
// HSM. [Local] is the built-in implementation: XChaCha20-Poly1305 with a set of keys
// loaded from configuration, one of them primary.
//
// # Getting started
//
//	keys, err := keyring.ParseKeys(os.Getenv("CARRIERGUARD_KEYS")) // "1:BASE64KEY,2:BASE64KEY"
//	if err != nil { ... }
//	kr, err := keyring.NewLocal(keyring.Config{Keys: keys, Primary: 2})
//	if err != nil { ... }
//	sealed, err := kr.Seal(ctx, seed, keyring.AssociatedData("totp-seed", subscriberID))
//	seed, err = kr.Open(ctx, sealed, keyring.AssociatedData("totp-seed", subscriberID))
//
// # Keys
//
// Make each key once with [GenerateKey] (or head -c 32 /dev/urandom | base64) and keep
// it in a secret manager. [NewLocal] and [ParseKeys] refuse key material that is
// plainly not random — all zeros, one byte or a short pattern repeated, a counting
// sequence, or printable text such as a password or the base64 of "000…" — with an
// error wrapping [ErrWeakKey]. [CheckKeyMaterial] is the same check for any other key;
// the HMAC keys of packages otp, twofactor, protection and password go through it too.
//
// # Associated data
//
// Every call takes associated data that is authenticated but not stored. Callers bind
// a ciphertext to its owner and purpose with it (see [AssociatedData]), so a sealed
// answer copied to another subscriber's row, or a sealed seed presented as an answer,
// fails to open with [ErrOpen].
//
// # Rotation
//
// Each ciphertext starts with the ID of the key that sealed it. [Local] seals with the
// primary key and opens with any configured key, so a new key can be made primary at
// once and older ciphertexts moved over at leisure with [Local.Reseal]. A key can be
// removed once [KeyID] no longer reports it for any stored value.
//
// # Format
//
// A sealed value is: version (1 byte, 0x01) | key ID (4 bytes, big endian) |
// nonce (24 bytes, random) | ciphertext and 16-byte tag. The version and key ID are part
// of the authenticated data, so neither can be altered without detection.
package keyring
