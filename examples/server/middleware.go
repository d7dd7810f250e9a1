package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/carrierguard/carrierguard/netkey"
)

type ctxKey int

const (
	keyInfo ctxKey = iota
)

// requestInfo travels with a request for logging. Handlers fill in who the request
// was for; writeError fills in the error code. It never holds a secret.
type requestInfo struct {
	id         string
	ip         netip.Addr
	subscriber string
	agent      string
	errCode    string
	fault      error
}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(keyInfo).(*requestInfo)
	return info
}

func requestIDFrom(ctx context.Context) string {
	if info := infoFrom(ctx); info != nil {
		return info.id
	}
	return ""
}

// validRequestID accepts a caller's X-Request-ID only if it is short and plain, so it
// cannot inject anything into logs.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter records the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// clientIP is the peer address. The example does not trust X-Forwarded-For: behind a
// proxy, replace this with the address your proxy vouches for.
func clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			return a.Unmap()
		}
		return netip.IPv4Unspecified()
	}
	return ap.Addr().Unmap()
}

// frame is the outermost middleware: request ID, security headers, panic recovery,
// per-IP rate limit, JSON 404/405, and one structured access-log line per request.
// Logs carry the method, route pattern, status, duration, request ID, client IP and
// subscriber or agent ID: never a body, a query string, a header value or a token.
// securityHeaders are set on every response. The value slices are shared by all
// responses, which is safe because a handler can only replace them (Header.Set) or
// append to them (Header.Add, which copies: each has len == cap), never change them in
// place; it saves building eight slices per request. Keys are in canonical form.
var securityHeaders = map[string][]string{
	"Cache-Control":                {"no-store"},
	"Content-Security-Policy":      {"default-src 'none'; frame-ancestors 'none'"},
	"X-Content-Type-Options":       {"nosniff"},
	"X-Frame-Options":              {"DENY"},
	"Referrer-Policy":              {"no-referrer"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Strict-Transport-Security":    {"max-age=63072000; includeSubDomains"},
}

func (s *Server) frame(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		info := &requestInfo{ip: clientIP(r)}
		if id := r.Header.Get("X-Request-ID"); validRequestID(id) {
			info.id = id
		} else {
			info.id = newID()
		}
		r = r.WithContext(context.WithValue(r.Context(), keyInfo, info))
		h := w.Header()
		h["X-Request-Id"] = []string{info.id}
		for k, v := range securityHeaders {
			h[k] = v
		}
		sw := &statusWriter{ResponseWriter: w}
		pattern := ""
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "request_id", info.id, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, errorf(http.StatusInternalServerError, codeInternal, "internal error; quote the request ID to support"))
				}
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			// Room for every attribute below, so the optional ones never grow the slice.
			attrs := make([]slog.Attr, 0, 10)
			attrs = append(attrs,
				slog.String("request_id", info.id),
				slog.String("method", r.Method),
				slog.String("route", pattern),
				slog.Int("status", sw.status),
				slog.Duration("duration", s.now().Sub(start)),
				slog.String("ip", info.ip.String()),
			)
			if info.subscriber != "" {
				attrs = append(attrs, slog.String("subscriber", info.subscriber))
			}
			if info.agent != "" {
				attrs = append(attrs, slog.String("agent", info.agent))
			}
			if info.errCode != "" {
				attrs = append(attrs, slog.String("error_code", info.errCode))
			}
			if info.fault != nil {
				attrs = append(attrs, slog.String("fault", info.fault.Error()))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		if !s.ipLimits.allowClient(info.ip) {
			writeError(sw, r, errorf(http.StatusTooManyRequests, codeRateLimited, "too many requests from this address; slow down"))
			return
		}
		handler, pat := mux.Handler(r)
		if pat == "" {
			// No route: the mux would answer in plain text; answer in JSON instead.
			probe := &statusWriter{ResponseWriter: discardWriter{h: http.Header{}}}
			handler.ServeHTTP(probe, r)
			if probe.status == http.StatusMethodNotAllowed {
				h.Set("Allow", probe.Header().Get("Allow"))
				writeError(sw, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed here", r.Method))
				return
			}
			writeError(sw, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint"))
			return
		}
		pattern = pat
		mux.ServeHTTP(sw, r) // matches again, to set the request's path values
	})
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// limiters is a set of token buckets keyed by client or subscriber. Idle buckets are
// swept so the map stays bounded by the number of recently active keys, and it never
// holds more than max: past that, a key it does not know shares one overflow bucket
// (per scale) until room is made, so a flood of new keys (rotating IPv6 addresses, invented
// subscriber IDs) neither grows the map nor hands anyone a fresh bucket by evicting a
// limited one.
type limiters struct {
	mu          sync.Mutex
	every       rate.Limit
	burst       int
	max         int
	m           map[string]*limiterEntry
	overflow    map[int]*rate.Limiter // by scale
	now         func() time.Time
	lastSweep   time.Time
	lastReclaim time.Time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxLimiterKeys bounds each limiter map: about 200 bytes an entry, so some 20 MB.
const maxLimiterKeys = 100_000

// networkTierScale is how many clients' worth of requests the IPv6 /48 around a client
// may make together: a /48 may be one office, but a client that moves from /64 to /64
// meets this limit after a few moves.
const networkTierScale = 8

func newLimiters(perSecond float64, burst int, now func() time.Time) *limiters {
	return &limiters{every: rate.Limit(perSecond), burst: burst, max: maxLimiterKeys,
		m: map[string]*limiterEntry{}, overflow: map[int]*rate.Limiter{}, now: now}
}

// allowClient reports whether the client at ip may make one more request now. A client
// is keyed as package netkey says: an IPv4 address by itself, an IPv6 address by its
// /64, so that rotating addresses inside the /64 buys nothing; an IPv6 client must also
// pass the bucket of its /48, networkTierScale times larger, so that rotating through
// the /64s of a site buys little more.
func (l *limiters) allowClient(ip netip.Addr) bool {
	keys, err := netkey.Of(ip)
	if err != nil {
		// clientIP always returns a valid address; should that change, every
		// unparseable peer shares one bucket rather than going unlimited.
		return l.allowScaled("invalid", 1)
	}
	if !l.allowScaled(keys.ClientString(), 1) {
		return false
	}
	return !keys.Tiered() || l.allowScaled(keys.NetworkString(), networkTierScale)
}

// allow reports whether key may make one more request now. A nil *limiters or a
// non-positive rate allows everything.
func (l *limiters) allow(key string) bool { return l.allowScaled(key, 1) }

// allowScaled is allow for a bucket scale times the configured rate and burst. A key
// must always be used with the same scale.
func (l *limiters) allowScaled(key string, scale int) bool {
	if l == nil || l.every <= 0 {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		// Forget a key only once its bucket would be full again anyway (at least 10
		// minutes idle): forgetting it sooner would hand back a full burst early. A day
		// at most, so that a very slow limit cannot make the map keep every key it sees.
		refill := float64(l.burst) / float64(l.every) * float64(time.Second)
		idle := 24 * time.Hour
		if refill < float64(idle) {
			idle = max(10*time.Minute, time.Duration(refill))
		}
		for k, e := range l.m {
			if now.Sub(e.seen) > idle {
				delete(l.m, k)
			}
		}
		l.lastSweep = now
	}
	e, ok := l.m[key]
	if !ok {
		if len(l.m) >= l.max && !l.reclaim(now) {
			o := l.overflow[scale]
			if o == nil {
				o = rate.NewLimiter(l.every*rate.Limit(scale), l.burst*scale)
				l.overflow[scale] = o
			}
			return o.AllowN(now, 1)
		}
		e = &limiterEntry{lim: rate.NewLimiter(l.every*rate.Limit(scale), l.burst*scale)}
		l.m[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// reclaim makes room in a full map by forgetting the buckets that are full again:
// forgetting those changes no limit. It scans at most once a second, so a flood of new
// keys cannot turn every request into a scan of the map, and reports whether there is
// room now.
func (l *limiters) reclaim(now time.Time) bool {
	if now.Sub(l.lastReclaim) < time.Second {
		return false
	}
	l.lastReclaim = now
	for k, e := range l.m {
		if e.lim.TokensAt(now) >= float64(e.lim.Burst()) {
			delete(l.m, k)
		}
	}
	return len(l.m) < l.max
}
