package validate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Name string `validate:"required"`
}

type cfg struct {
	Digits int           `validate:"omitempty,min=6,max=10"`
	TTL    time.Duration `validate:"gte=0"`
	Mode   string        `validate:"omitempty,oneof=open closed"`
	Items  []inner       `validate:"dive"`
}

func TestStruct(t *testing.T) {
	tests := []struct {
		name string
		in   cfg
		want string // substring; "" means valid
	}{
		{"zero is valid", cfg{}, ""},
		{"digits too small", cfg{Digits: 4}, "cfg.Digits must be at least 6"},
		{"digits too large", cfg{Digits: 11}, "cfg.Digits must be at most 10"},
		{"negative ttl", cfg{TTL: -1}, "cfg.TTL must be >= 0"},
		{"bad mode", cfg{Mode: "ajar"}, "cfg.Mode must be one of [open closed]"},
		{"nested required", cfg{Items: []inner{{}}}, "cfg.Items[0].Name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Struct("pkg", tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want error containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "pkg: ") {
				t.Fatalf("error %q does not name the package", err)
			}
		})
	}
}

func TestErrorf(t *testing.T) {
	err := Errorf("otp", "Config.TTL %s exceeds %s", "11m", "10m")
	if !errors.Is(err, ErrInvalidConfig) || err.Error() != "otp: invalid config: Config.TTL 11m exceeds 10m" {
		t.Fatalf("got %v", err)
	}
}

func TestField(t *testing.T) {
	reason := errors.New("keyring: weak")
	err := Field("otp", "CodeConfig.HashKey", reason)
	if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, reason) {
		t.Fatalf("Field error %v does not wrap both errors", err)
	}
	if got, want := err.Error(), "otp: invalid config: CodeConfig.HashKey: keyring: weak"; got != want {
		t.Errorf("Field = %q, want %q", got, want)
	}
}
