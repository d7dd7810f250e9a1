package status

import (
	"context"
	"fmt"
	"slices"
)

// Capability names something a subscriber can do that an integrator may want to keep
// from an untrusted (unverified) account. Values are plain, stable strings: package
// protection's actions, or an integrator's own, map onto them by name, and any string
// is a valid custom capability ("payment_change", "device_unlock").
type Capability string

// Built-in capabilities.
const (
	CapabilitySIMSwap       Capability = "sim_swap"
	CapabilityPortOut       Capability = "port_out"
	CapabilityESIM          Capability = "esim"
	CapabilityContactChange Capability = "contact_change"
)

// DefaultRestricted returns what an unverified account may not do by default: SIM
// swaps, port-outs, eSIM transfers and activations, and changes to contact details
// (email, phone, trusted contacts). These are the moves of a number takeover; an
// account whose email was never verified has nobody reliable to tell about them.
func DefaultRestricted() []Capability {
	return []Capability{CapabilitySIMSwap, CapabilityPortOut, CapabilityESIM, CapabilityContactChange}
}

// Restrictions returns the capabilities the subscriber may not use now, sorted: the
// configured list while the email is unverified, none once it is verified. A store
// error is returned, never an empty list.
func (s *Service) Restrictions(ctx context.Context, subscriber string) ([]Capability, error) {
	_, verified, err := s.verification(ctx, subscriber)
	if err != nil {
		return nil, err
	}
	if verified {
		return nil, nil
	}
	return slices.Clone(s.restricted), nil
}

// Allow returns nil if the subscriber may use capability c, or an error wrapping
// ErrUnverified that names it. Capabilities outside the configured list are always
// allowed by this gate (other checks, such as package protection, still apply). A store
// error is returned as an error: treat any non-nil result as "no".
func (s *Service) Allow(ctx context.Context, subscriber string, c Capability) error {
	if !slices.Contains(s.restricted, c) {
		return nil
	}
	_, verified, err := s.verification(ctx, subscriber)
	if err != nil {
		return err
	}
	if !verified {
		return fmt.Errorf("%w: verify the account email before using %q", ErrUnverified, c)
	}
	return nil
}
