package password_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A sign-up form checks the chosen password and shows every problem at once.
func ExampleChecker_Check_signUp() {
	checker, err := password.NewChecker(password.CheckerConfig{
		Policy:       password.DefaultPolicy(),
		ContextWords: []string{"Acme", "AcmeMobile"}, // the carrier's own names
	})
	if err != nil {
		panic(err)
	}
	sub := password.Subject{Name: "Maria Gonzalez", Email: "maria.g@example.com", Phone: "+1 305 555 0142"}

	for _, pw := range []string{"Acme12345", "violet tractor humming 42 lanterns"} {
		res, err := checker.Check(context.Background(), pw, sub)
		if err != nil {
			panic(err)
		}
		fmt.Printf("ok=%v\n", res.OK())
		for _, p := range res.Problems {
			fmt.Printf("  %s: %s\n", p.Reason, p.Message)
		}
	}
	// Output:
	// ok=false
	//   too_short: Use at least 12 characters (this has 9).
	//   context: Do not build your password from our company or brand names.
	//   sequential: Avoid runs of 5 or more sequential characters such as abcde, 12345 or qwerty.
	//   weak: This password is too easy to guess (strength 1 of 4, at least 3 needed); a longer phrase of unrelated words works well.
	// ok=true
}

// A subscriber migrated from an older system signs in: the legacy bcrypt hash is
// verified and replaced by argon2id in the same call.
func ExampleService_Verify_rehash() {
	ctx := context.Background()
	creds := memory.NewPassword(memory.Options{})
	svc, err := password.New(password.Config{}, creds, memory.NewPasswordAttempts(memory.Options{}), &notify.Recorder{})
	if err != nil {
		panic(err)
	}
	// What the old CRM stored.
	legacy, _ := bcrypt.GenerateFromPassword([]byte("Sunny beach house 2019"), bcrypt.MinCost)
	_ = creds.Set(ctx, "sub-42", "", string(legacy), time.Now(), 0)

	out, err := svc.Verify(ctx, password.SignIn{Subscriber: "sub-42", Password: "Sunny beach house 2019", Channel: "app"})
	fmt.Println("signed in:", err == nil, "rehashed:", out.Rehashed)
	rec, _ := creds.Get(ctx, "sub-42")
	fmt.Println(strings.Join(strings.Split(rec.Hash, "$")[1:4], "$"))

	_, err = svc.Verify(ctx, password.SignIn{Subscriber: "sub-42", Password: "sunny beach house 2019"})
	fmt.Println(err)
	// Output:
	// signed in: true rehashed: true
	// argon2id$v=19$m=19456,t=2,p=1
	// password: wrong password
}

// The rotation status drives a reminder banner, and publishes PasswordRotationDue the
// first time a password is due soon and the first time it has expired.
func ExampleService_RotationStatus() {
	ctx := context.Background()
	now := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	events := &notify.Recorder{}
	svc, err := password.New(password.Config{Policy: password.DefaultPolicy(), Now: clock},
		memory.NewPassword(memory.Options{Now: clock}), memory.NewPasswordAttempts(memory.Options{Now: clock}), events)
	if err != nil {
		panic(err)
	}
	if _, err := svc.Enroll(ctx, "sub-42", "violet tractor humming 42 lanterns", password.Subject{}); err != nil {
		panic(err)
	}
	for _, days := range []int{100, 350, 366} {
		now = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC).AddDate(0, 0, days)
		r, _ := svc.RotationStatus(ctx, "sub-42")
		fmt.Printf("day %d: %s, %d days left, must change: %v\n", days, r.State, r.DaysLeft, r.MustChange())
	}
	fmt.Println(events.Types())
	// Output:
	// day 100: current, 265 days left, must change: false
	// day 350: due_soon, 15 days left, must change: false
	// day 366: expired, 0 days left, must change: true
	// [password.rotation_due password.rotation_due]
}
