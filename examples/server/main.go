// Command server is carrierguard's reference integration: a carrier account service
// with every package wired into net/http. Run it with
//
//	go run ./examples/server -demo
//
// and follow examples/server/README.md. The API is described in openapi.yaml.
//
// Authentication is by bearer tokens in the Authorization header (session tokens for
// subscribers, configured tokens for the agent console and the partner API). There are
// no cookies, so there is no CSRF surface; browsers' ambient credentials are never
// used.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/carrierguard/carrierguard/risk/geoip"
	"github.com/carrierguard/carrierguard/session"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	demo := fs.Bool("demo", false, "create a demo subscriber and expose the dev mailbox at /dev/mailbox")
	store := fs.String("store", "memory", "storage adapter: memory")
	agentToken := fs.String("agent-token", os.Getenv("CARRIERGUARD_AGENT_TOKEN"), "agent console token (default $CARRIERGUARD_AGENT_TOKEN; generated in demo mode)")
	partnerToken := fs.String("partner-token", os.Getenv("CARRIERGUARD_PARTNER_TOKEN"), "partner API token (default $CARRIERGUARD_PARTNER_TOKEN; generated in demo mode)")
	coolingOff := fs.Duration("cooling-off", 0, "protection flag cooling-off (default 24h)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	geoCity := fs.String("geoip-city", "", "MaxMind GeoIP2/GeoLite2 City database, for location risk signals and impossible-travel checks")
	geoASN := fs.String("geoip-asn", "", "MaxMind GeoLite2 ASN database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *demo {
		if *agentToken == "" {
			*agentToken = randomToken()
		}
		if *partnerToken == "" {
			*partnerToken = randomToken()
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	var geo session.GeoLookup
	if *geoCity != "" || *geoASN != "" {
		loc, err := geoip.Open(geoip.Config{CityPath: *geoCity, ASNPath: *geoASN})
		if err != nil {
			ln.Close()
			return err
		}
		defer loc.Close()
		geo = loc
	}
	srv, err := New(Options{Geo: geo, BaseURL: base, Demo: *demo, Store: *store, AgentToken: *agentToken, PartnerToken: *partnerToken,
		CoolingOff: *coolingOff, Logger: logger, DeliveryPoll: 200 * time.Millisecond})
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "carrierguard example server listening on %s\n", base)
	if *demo {
		d, err := srv.createDemo(ctx)
		if err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "demo subscriber: email %s  password %s  phone %s (email verified)\n", d.Email, d.Password, d.Phone)
		fmt.Fprintf(stdout, "agent console:   Authorization: Bearer %s  (with X-Agent-ID: your-name)\n", *agentToken)
		fmt.Fprintf(stdout, "partner API:     Authorization: Bearer %s\n", *partnerToken)
		fmt.Fprintf(stdout, "dev mailbox:     %s/dev/mailbox\n", base)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	deliveryDone := make(chan struct{})
	go func() { _ = srv.Run(ctx); close(deliveryDone) }()
	defer func() { stop(); <-deliveryDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
