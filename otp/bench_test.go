package otp_test

import (
	"context"
	"encoding/base32"
	"testing"
	"time"

	potp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/carrierguard/carrierguard/internal/fakeclock"
	"github.com/carrierguard/carrierguard/internal/testkey"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/store/memory"
)

var benchTime = time.Unix(1_700_000_000, 0)

// wrongCode returns a 6-digit code that matches none of the steps around benchTime.
func wrongCode(k *otp.Key) string {
	step := k.Step(benchTime)
	for _, c := range []string{"000000", "111111", "222222"} {
		if c != k.HOTP(uint64(step-1)) && c != k.HOTP(uint64(step)) && c != k.HOTP(uint64(step+1)) {
			return c
		}
	}
	panic("unreachable")
}

// BenchmarkTOTPVerify verifies a wrong code against a decoded secret with ±1 step, so all
// three windows are computed and compared.
func BenchmarkTOTPVerify(b *testing.B) {
	k, err := otp.NewKey(seedSHA1, otp.Params{})
	if err != nil {
		b.Fatal(err)
	}
	code := wrongCode(k)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.VerifyTOTP(code, benchTime, 1, otp.NoStep); err != otp.ErrInvalidCode {
			b.Fatal(err)
		}
	}
}

// BenchmarkPquernaValidateCustom is the same check with pquerna/otp, for the ratio.
func BenchmarkPquernaValidateCustom(b *testing.B) {
	k, err := otp.NewKey(seedSHA1, otp.Params{})
	if err != nil {
		b.Fatal(err)
	}
	code := wrongCode(k)
	secret := base32.StdEncoding.EncodeToString(seedSHA1)
	opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: potp.DigitsSix, Algorithm: potp.AlgorithmSHA1}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := totp.ValidateCustom(code, secret, benchTime, opts); ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCodeVerify issues an out-of-band code and verifies it, with the memory store.
func BenchmarkCodeVerify(b *testing.B) {
	ctx := context.Background()
	clk := fakeclock.New(benchTime)
	store := memory.NewOTP(memory.Options{Now: clk.Now})
	codes, err := otp.NewCodes(otp.CodeConfig{HashKey: testkey.New("otp"), Now: clk.Now,
		Budgets: otp.SMSBudgets{AnyCountry: true}}, store, store, &notify.Recorder{}) // the path measured before HomeRegions was required
	if err != nil {
		b.Fatal(err)
	}
	dest := otp.Destination{Channel: otp.ChannelSMS, Address: "+15555550123"}
	b.ReportAllocs()
	for b.Loop() {
		// Move past the resend interval and keep within the hourly cap.
		clk.Advance(15 * time.Minute)
		iss, err := codes.Issue(ctx, otp.IssueRequest{Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: dest})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := codes.Verify(ctx, otp.VerifyRequest{ChallengeID: iss.ChallengeID, Subscriber: "alice", Purpose: otp.PurposeSignIn, Destination: dest, Code: iss.Code}); err != nil {
			b.Fatal(err)
		}
	}
}
