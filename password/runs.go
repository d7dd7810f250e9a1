package password

import "unicode"

// keyboardRows are the rows of a QWERTY keyboard; neighbours in a row count as a
// sequential run (qwerty, asdf, 7890).
var keyboardRows = [...]string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"}

// keyPos maps a lower-case ASCII key to row*16+column+1 (0 means not on the map).
var keyPos = func() (pos [128]uint8) {
	for r, row := range keyboardRows {
		for c := range len(row) {
			pos[row[c]] = uint8(r*16 + c + 1)
		}
	}
	return pos
}()

// runs reports the longest run of identical code points, the longest run of
// sequential code points (abcd, 9876) or keyboard neighbours (qwerty, lkjh), and
// whether the whole password is one unit repeated three or more times (abcabcabc).
// It works on the lower-cased code points.
func runs(rs []rune) (repeat, sequential int, periodic bool) {
	if len(rs) == 0 {
		return 0, 0, false
	}
	repeat, sequential = 1, 1
	rep, seq, key := 1, 1, 1
	seqDir, keyDir := 0, 0
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1], rs[i]
		if a == b {
			rep++
		} else {
			rep = 1
		}
		repeat = max(repeat, rep)

		if d := int(b - a); (d == 1 || d == -1) && isSeqClass(a) && isSeqClass(b) {
			if d == seqDir {
				seq++
			} else {
				seq, seqDir = 2, d
			}
		} else {
			seq, seqDir = 1, 0
		}
		if d, ok := keyStep(a, b); ok {
			if d == keyDir {
				key++
			} else {
				key, keyDir = 2, d
			}
		} else {
			key, keyDir = 1, 0
		}
		sequential = max(sequential, seq, key)
	}
	return repeat, sequential, isPeriodic(rs)
}

// isSeqClass limits "sequential" to letters and digits, so that runs of unrelated
// symbols that happen to be adjacent code points are not flagged.
func isSeqClass(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func keyStep(a, b rune) (int, bool) {
	if a >= 128 || b >= 128 {
		return 0, false
	}
	pa, pb := int(keyPos[a]), int(keyPos[b])
	if pa == 0 || pb == 0 || (pa-1)/16 != (pb-1)/16 {
		return 0, false
	}
	switch d := pb - pa; d {
	case 1, -1:
		return d, true
	}
	return 0, false
}

func isPeriodic(rs []rune) bool {
	n := len(rs)
	for unit := 1; unit*3 <= n; unit++ {
		if n%unit != 0 {
			continue
		}
		ok := true
		for i := unit; i < n && ok; i++ {
			ok = rs[i] == rs[i-unit]
		}
		if ok {
			return true
		}
	}
	return false
}
