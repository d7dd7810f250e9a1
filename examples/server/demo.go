package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/carrierguard/carrierguard/password"
)

// demoAccount is the subscriber -demo creates.
type demoAccount struct {
	account
	Password string
}

// demoPassword returns 26 random base32 characters (130 bits): passes any policy.
func demoPassword() string { return rand.Text() }

// createDemo creates the demo subscriber with a verified email and a provisioned line.
func (s *Server) createDemo(ctx context.Context) (demoAccount, error) {
	a := account{ID: "sub_" + newID(), Email: "dana@example.com", Name: "Dana Demo", Phone: "+14155550101", Created: s.now()}
	if err := s.dir.create(a); err != nil {
		return demoAccount{}, err
	}
	// The carrier provisioned the demo line for this subscriber: its provisioning proves
	// the line (package line asks the directory's records).
	s.dir.provision(a.ID, a.Phone)
	if err := s.requireLine(ctx, a.ID, a.Phone); err != nil {
		return demoAccount{}, fmt.Errorf("demo line: %w", err)
	}
	a, _ = s.dir.get(a.ID)
	pw := demoPassword()
	if _, err := s.passwords.Enroll(ctx, a.ID, pw, password.Subject{Name: a.Name, Email: a.Email, Phone: a.Phone}); err != nil {
		return demoAccount{}, fmt.Errorf("demo password: %w", err)
	}
	lt, err := s.status.SendLink(ctx, a.ID, a.Email)
	if err != nil {
		return demoAccount{}, err
	}
	if _, err := s.status.Verify(ctx, lt.Token); err != nil {
		return demoAccount{}, err
	}
	return demoAccount{account: a, Password: pw}, nil
}
