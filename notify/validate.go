package notify

import "github.com/carrierguard/carrierguard/internal/validate"

func validateStruct(cfg any) error { return validate.Struct("notify", cfg) }

func errorf(format string, args ...any) error { return validate.Errorf("notify", format, args...) }
