package risk

import (
	"strconv"
	"sync/atomic"

	"github.com/mileusna/useragent"
)

// ParseUserAgent reduces a user-agent string to the three levels of the Freeman
// user-agent hierarchy: browser name and major version, OS name and version (major.minor),
// and device type. Parsing is done by github.com/mileusna/useragent. Unknown parts are
// empty; a string that is not a user agent at all yields device type "other".
func ParseUserAgent(s string) Client {
	if s == "" {
		return Client{}
	}
	ua := useragent.Parse(s)
	var c Client
	if ua.Name != "" {
		c.Browser = ua.Name
		if ua.VersionNo.Major > 0 || ua.Version != "" {
			c.Browser += " " + strconv.Itoa(ua.VersionNo.Major)
		}
	}
	if ua.OS != "" {
		c.OS = ua.OS
		if ua.OSVersionNo.Major > 0 || ua.OSVersionNo.Minor > 0 {
			c.OS += " " + strconv.Itoa(ua.OSVersionNo.Major) + "." + strconv.Itoa(ua.OSVersionNo.Minor)
		}
	}
	switch {
	case ua.Bot:
		c.DeviceType = "bot"
	case ua.Tablet:
		c.DeviceType = "tablet"
	case ua.Mobile:
		c.DeviceType = "mobile"
	case ua.Desktop:
		c.DeviceType = "desktop"
	default:
		c.DeviceType = "other"
	}
	return c
}

// uaCache remembers the parsed forms (as feature keys) of recently seen user-agent
// strings, so that the same few browsers a carrier sees all day are not parsed again on
// every request: parsing is most of the cost of scoring. It is a fixed array of slots
// indexed by the string's hash (a new string replaces whatever shared its slot), so it
// is bounded whatever clients send, lock-free, and a hit is checked against the whole
// string. The zero value is an empty cache; a nil *uaCache parses every time.
type uaCache struct {
	slots [uaCacheSlots]atomic.Pointer[uaEntry]
}

const uaCacheSlots = 256

type uaEntry struct {
	ua                      string
	browser, os, deviceType uint64
}

// clientKeys returns the browser, OS and device-type keys of the user agent ua, whose
// FeatureUserAgent key is h.
func (c *uaCache) clientKeys(ua string, h uint64) (browser, os, deviceType uint64) {
	if c == nil {
		return clientKeys(ParseUserAgent(ua))
	}
	slot := &c.slots[h%uaCacheSlots]
	if e := slot.Load(); e != nil && e.ua == ua {
		return e.browser, e.os, e.deviceType
	}
	e := &uaEntry{ua: ua}
	e.browser, e.os, e.deviceType = clientKeys(ParseUserAgent(ua))
	slot.Store(e)
	return e.browser, e.os, e.deviceType
}
