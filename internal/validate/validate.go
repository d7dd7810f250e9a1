// Package validate checks carrierguard Config structs once, in constructors, with
// go-playground/validator struct tags, and turns its errors into sentences that name the
// field and say what to fix.
package validate

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// ErrInvalidConfig is wrapped by every error Struct returns.
var ErrInvalidConfig = errors.New("invalid config")

// The validator caches struct metadata and is safe for concurrent use; it is built once
// and never changed afterwards.
var instance = sync.OnceValue(func() *validator.Validate {
	return validator.New(validator.WithRequiredStructEnabled())
})

// Struct validates cfg by its `validate` tags. The error wraps ErrInvalidConfig and reads
// like "keyring: Config.Keys[0].Secret is required".
func Struct(pkg string, cfg any) error {
	err := instance().Struct(cfg)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fmt.Errorf("%s: %w: %v", pkg, ErrInvalidConfig, err)
	}
	msgs := make([]string, 0, len(verrs))
	for _, fe := range verrs {
		msgs = append(msgs, describe(fe))
	}
	return fmt.Errorf("%s: %w: %s", pkg, ErrInvalidConfig, strings.Join(msgs, "; "))
}

// Errorf returns an ErrInvalidConfig error for a rule that tags cannot express.
func Errorf(pkg, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", pkg, ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// Field returns an ErrInvalidConfig error for field that also wraps err, the reason
// another check gave, such as "otp: invalid config: CodeConfig.HashKey: keyring: key
// material is not random: ...". Both errors.Is(ErrInvalidConfig) and errors.Is on
// err's sentinel hold.
func Field(pkg, field string, err error) error {
	return fmt.Errorf("%s: %w: %s: %w", pkg, ErrInvalidConfig, field, err)
}

func describe(fe validator.FieldError) string {
	field := fe.Namespace()
	switch fe.Tag() {
	case "required":
		return field + " is required"
	case "min":
		return fmt.Sprintf("%s must be at least %s", field, fe.Param())
	case "max":
		return fmt.Sprintf("%s must be at most %s", field, fe.Param())
	case "gte":
		return fmt.Sprintf("%s must be >= %s", field, fe.Param())
	case "lte":
		return fmt.Sprintf("%s must be <= %s", field, fe.Param())
	case "gt":
		return fmt.Sprintf("%s must be > %s", field, fe.Param())
	case "lt":
		return fmt.Sprintf("%s must be < %s", field, fe.Param())
	case "oneof":
		return fmt.Sprintf("%s must be one of [%s]", field, fe.Param())
	case "len":
		return fmt.Sprintf("%s must have length %s", field, fe.Param())
	case "url", "http_url":
		return field + " must be an absolute URL"
	case "email":
		return field + " must be an email address"
	default:
		return fmt.Sprintf("%s fails rule %q", field, fe.Tag())
	}
}
