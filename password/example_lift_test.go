package password_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/password"
	"github.com/carrierguard/carrierguard/store/memory"
)

// One client cannot hard-lock an account: the arithmetic behind the per-client cap.
func ExampleLockoutPolicy_ClientsToHardLock() {
	fmt.Println("defaults:", password.LockoutPolicy{}.ClientsToHardLock(), "clients")
	fmt.Println("30 per client:", password.LockoutPolicy{ClientMaxConsecutive: 30}.ClientsToHardLock(), "clients")
	// Output:
	// defaults: 10 clients
	// 30 per client: 4 clients
}

// Credential stuffing from many addresses hard-locks sign-in; the subscriber lifts the
// lock with a fresh code from a verified trusted contact (checked by package twofactor)
// and a new password.
func ExampleService_LiftHardLock() {
	ctx := context.Background()
	events := &notify.Recorder{}
	svc, err := password.New(password.Config{Lockout: password.LockoutPolicy{MaxConsecutive: 3}},
		memory.NewPassword(memory.Options{}), memory.NewPasswordAttempts(memory.Options{}), events)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Enroll(ctx, "sub-42", "correct horse battery staple", password.Subject{}); err != nil {
		log.Fatal(err)
	}
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		_, _ = svc.Verify(ctx, password.SignIn{Subscriber: "sub-42", Password: "stuffed credential", ClientKey: ip})
	}
	_, err = svc.Verify(ctx, password.SignIn{Subscriber: "sub-42", Password: "correct horse battery staple"})
	fmt.Println("locked:", errors.Is(err, password.ErrLocked))

	// codeAt is the At of the twofactor.Proof the subscriber just gave: a code sent to a
	// verified contact for otp.PurposeAccountRecovery, checked with twofactor's CheckProof.
	codeAt := time.Now()
	_, err = svc.LiftHardLock(ctx, "sub-42", password.LiftProof{
		ContactCodeAt: codeAt, NewPassword: "violet kettle under nine moons", ClientKey: "203.0.113.10", Channel: "app",
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = svc.Verify(ctx, password.SignIn{Subscriber: "sub-42", Password: "violet kettle under nine moons"})
	fmt.Println("signed in:", err == nil)
	fmt.Println("events:", events.Types()[len(events.Types())-2:])
	// Output:
	// locked: true
	// signed in: true
	// events: [password.changed security.lockout_lifted]
}
