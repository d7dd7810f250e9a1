package risk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrProfileEncoding is returned by Profile.UnmarshalBinary for data it did not produce.
var ErrProfileEncoding = errors.New("risk: malformed profile encoding")

// profileVersion 2 added failed port-out requests, account changes and the last-seen time.
// Version 1 is refused: no durable adapter ever stored it.
const profileVersion = 2

// MarshalBinary encodes the profile compactly (only the used table entries), for store
// adapters that persist profiles as bytes. It never fails.
func (p *Profile) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, profileVersion)
	b = binary.BigEndian.AppendUint64(b, p.logins)
	for i := range p.tables {
		t := &p.tables[i]
		b = append(b, t.n)
		b = binary.BigEndian.AppendUint32(b, t.total)
		for j := 0; j < int(t.n); j++ {
			b = binary.BigEndian.AppendUint64(b, t.keys[j])
			b = binary.BigEndian.AppendUint16(b, t.counts[j])
		}
	}
	for _, f := range []float64{p.home.Lat, p.home.Lon, p.last.Lat, p.last.Lon} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	b = binary.BigEndian.AppendUint64(b, p.homeKey)
	b = binary.BigEndian.AppendUint64(b, uint64(p.lastTime))
	for _, r := range []*ring{&p.sensitive, &p.failures} {
		b = appendTimes(b, r.next, r.t[:])
	}
	b = appendTimes(b, p.ports.next, p.ports.t[:])
	for _, t := range p.changes {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(p.seen))
	return b, nil
}

func appendTimes(b []byte, next uint8, ts []int64) []byte {
	b = append(b, next)
	for _, t := range ts {
		b = binary.BigEndian.AppendUint64(b, uint64(t))
	}
	return b
}

// UnmarshalBinary decodes what MarshalBinary produced. Anything else returns an error
// wrapping ErrProfileEncoding and leaves p unchanged.
func (p *Profile) UnmarshalBinary(data []byte) error {
	d := decoder{b: data}
	var q Profile
	if v := d.u8(); v != profileVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrProfileEncoding, v, profileVersion)
	}
	q.logins = d.u64()
	for i := range q.tables {
		t := &q.tables[i]
		t.n = d.u8()
		t.total = d.u32()
		if t.n > MaxValues {
			return fmt.Errorf("%w: %d values of %s, at most %d", ErrProfileEncoding, t.n, Feature(i), MaxValues)
		}
		var sum uint64
		for j := 0; j < int(t.n); j++ {
			t.keys[j] = d.u64()
			t.counts[j] = d.u16()
			sum += uint64(t.counts[j])
			if t.keys[j] == 0 || t.counts[j] == 0 || d.err {
				return fmt.Errorf("%w: empty entry in %s", ErrProfileEncoding, Feature(i))
			}
			for k := 0; k < j; k++ {
				if t.keys[k] == t.keys[j] {
					return fmt.Errorf("%w: duplicate entry in %s", ErrProfileEncoding, Feature(i))
				}
			}
		}
		if sum > uint64(t.total)*uint64(t.n) || (t.n > 0 && t.total == 0) {
			return fmt.Errorf("%w: counts of %s exceed their total", ErrProfileEncoding, Feature(i))
		}
	}
	q.home.Lat, q.home.Lon = d.f64(), d.f64()
	q.last.Lat, q.last.Lon = d.f64(), d.f64()
	q.homeKey = d.u64()
	q.lastTime = int64(d.u64())
	for _, r := range []*ring{&q.sensitive, &q.failures} {
		if !d.times(&r.next, r.t[:]) {
			return fmt.Errorf("%w: ring position %d", ErrProfileEncoding, r.next)
		}
	}
	if !d.times(&q.ports.next, q.ports.t[:]) {
		return fmt.Errorf("%w: ring position %d", ErrProfileEncoding, q.ports.next)
	}
	for i := range q.changes {
		q.changes[i] = int64(d.u64())
	}
	q.seen = int64(d.u64())
	switch {
	case d.err:
		return fmt.Errorf("%w: truncated", ErrProfileEncoding)
	case len(d.b) != 0:
		return fmt.Errorf("%w: %d trailing bytes", ErrProfileEncoding, len(d.b))
	case !q.home.Valid() || !q.last.Valid():
		return fmt.Errorf("%w: invalid coordinates", ErrProfileEncoding)
	}
	*p = q
	return nil
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) take(n int) []byte {
	if len(d.b) < n {
		d.err = true
		d.b = nil
		return make([]byte, n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// times reads a ring's position into next and its times into ts; it reports whether the
// position lies inside the ring.
func (d *decoder) times(next *uint8, ts []int64) bool {
	*next = d.u8()
	for i := range ts {
		ts[i] = int64(d.u64())
	}
	return int(*next) < len(ts)
}

func (d *decoder) u8() uint8    { return d.take(1)[0] }
func (d *decoder) u16() uint16  { return binary.BigEndian.Uint16(d.take(2)) }
func (d *decoder) u32() uint32  { return binary.BigEndian.Uint32(d.take(4)) }
func (d *decoder) u64() uint64  { return binary.BigEndian.Uint64(d.take(8)) }
func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }
