package protection_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/protection"
)

// FuzzCancelToken: no input but the token of the notice cancels the request, and no
// input panics or is mistaken for it: a near miss of the right token, a guessed secret
// for the right request, and malformed input are all ErrNotFound.
func FuzzCancelToken(f *testing.F) {
	f.Add("", 0)
	f.Add(".", 1)
	f.Add(strings.Repeat("A", 43), 1)
	f.Add("00000000000000000000000000000000."+strings.Repeat("_", 43), 0)
	f.Add("=", 2)
	f.Add("", 2)
	f.Fuzz(func(t *testing.T, s string, mode int) {
		ctx := context.Background()
		f := newFixture(t)
		id := approve(t, f, protection.ChangeSIMSwap, protection.RiskLow)
		e, _ := f.rec.Last(notify.SIMSwapApproved)
		token := e.Attributes["cancel"]
		var in string
		switch mode & 3 {
		case 1:
			in = id + "." + s // the right request, a guessed secret
		case 2:
			in = token + s // the right token, with something after
		default:
			in = s
		}
		err := f.svc.CancelSIMChangeByToken(ctx, in)
		if in == token {
			if err != nil {
				t.Fatalf("the right token failed: %v", err)
			}
			return
		}
		if !errors.Is(err, protection.ErrNotFound) {
			t.Fatalf("CancelSIMChangeByToken(%q) = %v, want ErrNotFound", in, err)
		}
		if latestStatus(t, f, id).Status != protection.StatusApproved {
			t.Fatalf("%q cancelled the request", in)
		}
	})
}
