package status

import (
	"context"
	"errors"

	"github.com/carrierguard/carrierguard/password"
)

// PasswordRotationStatus is the one method of package password's Service that the
// status reads. *password.Service satisfies it.
type PasswordRotationStatus interface {
	RotationStatus(ctx context.Context, subscriber string) (password.Rotation, error)
}

// FromPassword adapts package password's Service to PasswordState:
//
//	src := status.Sources{Password: status.FromPassword(passwordService), ...}
//
// A subscriber without a password (password.ErrNotFound) has no Rotation, so the step is
// not done; a password reported compromised has MustChange set, so the step is not done
// whatever its age; the Period is the password policy's (zero under the NIST profile).
// Any other error is returned and fails the status closed. Note that
// password.Service.RotationStatus publishes notify.PasswordRotationDue the first time it
// sees a password due soon or expired, so showing the status is one way that notice goes
// out; if it cannot be published, Status returns the error and the next call retries.
func FromPassword(svc PasswordRotationStatus) PasswordFunc {
	return func(ctx context.Context, subscriber string) (Rotation, error) {
		r, err := svc.RotationStatus(ctx, subscriber)
		switch {
		case errors.Is(err, password.ErrNotFound):
			return Rotation{}, nil
		case err != nil:
			return Rotation{}, err
		}
		out := Rotation{ChangedAt: r.ChangedAt, MustChange: r.State == password.RotationCompromised}
		if !r.DueAt.IsZero() {
			out.Period = r.DueAt.Sub(r.ChangedAt)
		}
		return out, nil
	}
}
