package otp

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"hash"
)

// singleBlockHMAC computes HMAC over an 8-byte counter about twice as fast as crypto/hmac,
// which matters because TOTP verification runs three HMACs per attempt.
//
// Both the inner message (ipad block + 8-byte counter) and the outer message (opad block
// + digest) fit, padded, in exactly one more block. So we restore the hash state saved
// after the pad block, write that one final block with the SHA padding already applied,
// and read the chaining value, which now is the digest, from the hash's marshalled state
// (after its 4-byte format tag) instead of calling Sum, which would pad again.
//
// That reading relies on the standard library's state layout. NewKey therefore checks
// this path against crypto/hmac for several counters and uses it only if they agree;
// otherwise it stays on crypto/hmac. Correctness never depends on the layout, only speed.
type singleBlockHMAC struct {
	inner, outer   hash.Hash
	innerU, outerU encoding.BinaryUnmarshaler
	innerA, outerA encoding.BinaryAppender
	innerState     []byte // marshalled state after the ipad block
	outerState     []byte // after the opad block
	size           int
	b1, b2         [128]byte // final blocks, padding pre-filled
	st             [256]byte // marshalled state scratch
}

func newSingleBlockHMAC(h func() hash.Hash, key []byte) *singleBlockHMAC {
	f := &singleBlockHMAC{inner: h(), outer: h()}
	bs, size := f.inner.BlockSize(), f.inner.Size()
	var ok bool
	if f.innerU, ok = f.inner.(encoding.BinaryUnmarshaler); !ok {
		return nil
	}
	if f.outerU, ok = f.outer.(encoding.BinaryUnmarshaler); !ok {
		return nil
	}
	if f.innerA, ok = f.inner.(encoding.BinaryAppender); !ok {
		return nil
	}
	if f.outerA, ok = f.outer.(encoding.BinaryAppender); !ok {
		return nil
	}
	if bs > len(f.b1) || 8+1+16 > bs || size+1+16 > bs {
		return nil
	}
	if len(key) > bs {
		kh := h()
		kh.Write(key)
		key = kh.Sum(nil)
	}
	ipad, opad := make([]byte, bs), make([]byte, bs)
	copy(ipad, key)
	copy(opad, key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	f.inner.Write(ipad)
	f.outer.Write(opad)
	clear(ipad)
	clear(opad)
	var err error
	if f.innerState, err = f.inner.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil
	}
	if f.outerState, err = f.outer.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil
	}
	f.size = size
	// Final blocks: message, 0x80, zeros, then the total length in bits (big endian; the
	// high half of SHA-512's 128-bit length field stays zero).
	f.b1[8] = 0x80
	binary.BigEndian.PutUint64(f.b1[bs-8:bs], uint64(bs+8)*8)
	f.b2[size] = 0x80
	binary.BigEndian.PutUint64(f.b2[bs-8:bs], uint64(bs+size)*8)
	return f
}

// agrees reports whether sum matches the reference for a spread of counters.
func (f *singleBlockHMAC) agrees(ref func(uint64) []byte) bool {
	for _, c := range []uint64{0, 1, 0x7f, 0x80, 1 << 32, ^uint64(0)} {
		if !bytes.Equal(f.sum(c), ref(c)) {
			return false
		}
	}
	return true
}

// sum returns HMAC(key, counter as 8 bytes big endian). The slice is reused.
func (f *singleBlockHMAC) sum(counter uint64) []byte {
	bs := f.inner.BlockSize()
	binary.BigEndian.PutUint64(f.b1[:8], counter)
	if f.innerU.UnmarshalBinary(f.innerState) != nil {
		return nil
	}
	f.inner.Write(f.b1[:bs])
	st, err := f.innerA.AppendBinary(f.st[:0])
	if err != nil || len(st) < 4+f.size {
		return nil
	}
	copy(f.b2[:f.size], st[4:4+f.size])
	if f.outerU.UnmarshalBinary(f.outerState) != nil {
		return nil
	}
	f.outer.Write(f.b2[:bs])
	if st, err = f.outerA.AppendBinary(f.st[:0]); err != nil || len(st) < 4+f.size {
		return nil
	}
	return st[4 : 4+f.size]
}
