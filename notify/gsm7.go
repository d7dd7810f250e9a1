package notify

import "strings"

// The GSM 03.38 default alphabet and its extension table (whose characters take two
// septets). Text made only of these fits 160 septets per SMS segment; anything else
// forces UCS-2 and 70 characters per segment.
const (
	gsm7Basic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Extension = "\f^{}\\[~]|€"
)

// SMSSegmentSeptets is the capacity of a single-segment GSM-7 SMS.
const SMSSegmentSeptets = 160

// GSM7Length returns how many septets s takes in the GSM-7 alphabet, and false if s has
// a character outside it.
func GSM7Length(s string) (septets int, ok bool) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			septets++
		case strings.ContainsRune(gsm7Extension, r):
			septets += 2
		default:
			return 0, false
		}
	}
	return septets, true
}

// gsm7Folder replaces common typographic characters with GSM-7 equivalents so that
// masked identifiers (•••• 1234) and punctuation do not push an SMS into UCS-2.
var gsm7Folder = strings.NewReplacer(
	"•", "*", "‘", "'", "’", "'", "“", "\"", "”", "\"",
	"–", "-", "—", "-", "…", "...", "\u00a0", " ", "\t", " ",
)

func foldGSM7(s string) string { return gsm7Folder.Replace(s) }
