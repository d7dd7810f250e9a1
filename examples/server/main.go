// Command server is carrierguard's reference integration: a carrier account service
// with every package wired into net/http. Run it with
//
//	go run ./examples/server -demo
//
// and follow examples/server/README.md. The API is described in openapi.yaml.
//
// Authentication is by bearer tokens in the Authorization header (session tokens for
// subscribers, per-agent tokens for the agent console, a configured token for the
// partner API). There are no cookies, so there is no CSRF surface; browsers' ambient
// credentials are never used.
//
// Agent tokens: -agent-tokens names a credential file (package agent's format, one
// line per token: agent ID, channel, SHA-256 of the token, name). Each token names one
// agent and the one channel (phone, chat or store) it may be used on; the console
// takes both from the token, never from the request. Make a token and its line with
//
//	go run ./examples/server -new-agent-token alice,store,"Alice Archer"
//
// In demo mode without a file, one demo agent gets a token per channel, printed at
// start-up.
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
	"strings"
	"syscall"
	"time"

	"github.com/carrierguard/carrierguard/agent"
	"github.com/carrierguard/carrierguard/otp"
	"github.com/carrierguard/carrierguard/protection"
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
	agentTokens := fs.String("agent-tokens", os.Getenv("CARRIERGUARD_AGENT_TOKENS"), "agent credential file: one line per token, \"agent-id channel sha256:<hex> name\" (default $CARRIERGUARD_AGENT_TOKENS; demo tokens in demo mode)")
	oldAgentToken := fs.String("agent-token", "", "removed: one shared token could not tell agents or channels apart; use -agent-tokens")
	newAgentToken := fs.String("new-agent-token", "", "print a new agent token and its credential line for \"agent-id,channel,name\", and exit")
	partnerToken := fs.String("partner-token", os.Getenv("CARRIERGUARD_PARTNER_TOKEN"), "partner API token (default $CARRIERGUARD_PARTNER_TOKEN; generated in demo mode)")
	coolingOff := fs.Duration("cooling-off", 0, "protection flag cooling-off (default 24h)")
	smsRegions := fs.String("sms-regions", "US", "home regions (ISO 3166-1 alpha-2, comma-separated) SMS codes may be sent to; numbers elsewhere get none (SMS pumping)")
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
	if *newAgentToken != "" {
		return printAgentToken(stdout, *newAgentToken)
	}
	if *oldAgentToken != "" || os.Getenv("CARRIERGUARD_AGENT_TOKEN") != "" {
		return errors.New("-agent-token and $CARRIERGUARD_AGENT_TOKEN are removed: give each agent a token of their own with -agent-tokens (see -new-agent-token)")
	}
	agents, demoTokens, err := loadAgents(*agentTokens, *demo)
	if err != nil {
		return err
	}
	if *demo {
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
	srv, err := New(Options{Geo: geo, BaseURL: base, Demo: *demo, Store: *store, Agents: agents, PartnerToken: *partnerToken,
		CoolingOff: *coolingOff, Logger: logger, DeliveryPoll: 200 * time.Millisecond,
		SMSBudgets: otp.SMSBudgets{HomeRegions: splitList(*smsRegions)}})
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
		for _, t := range demoTokens {
			fmt.Fprintf(stdout, "agent console:   Authorization: Bearer %s  (agent %s, %s)\n", t.token, t.agent, t.channel)
		}
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

// demoToken is a demo agent credential, printed at start-up.
type demoToken struct{ agent, channel, token string }

// loadAgents reads the agent credential file. Without one, demo mode makes a token per
// channel for agent "demo"; otherwise the console is off.
func loadAgents(path string, demo bool) (agent.Authenticator, []demoToken, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("-agent-tokens: %w", err)
		}
		defer f.Close()
		st, err := agent.ParseStatic(f)
		if err != nil {
			return nil, nil, fmt.Errorf("-agent-tokens %s: %w", path, err)
		}
		return st, nil, nil
	}
	if !demo {
		return nil, nil, nil
	}
	var creds []agent.Credential
	var out []demoToken
	for _, ch := range agent.Channels {
		tok, err := agent.NewToken(nil)
		if err != nil {
			return nil, nil, err
		}
		creds = append(creds, agent.Credential{Agent: "demo", Name: "Demo Agent", Channel: ch, Hash: agent.HashToken(tok)})
		out = append(out, demoToken{agent: "demo", channel: ch.String(), token: tok})
	}
	st, err := agent.NewStatic(creds)
	return st, out, err
}

// printAgentToken makes a token for "agent-id,channel,name" and prints it with the
// line to add to the credential file.
func printAgentToken(w io.Writer, spec string) error {
	id, rest, _ := strings.Cut(spec, ",")
	chName, name, _ := strings.Cut(rest, ",")
	ch, err := protection.ParseChannel(chName)
	if err != nil {
		return fmt.Errorf("-new-agent-token: %w", err)
	}
	tok, err := agent.NewToken(nil)
	if err != nil {
		return err
	}
	c := agent.Credential{Agent: id, Name: strings.TrimSpace(name), Channel: ch, Hash: agent.HashToken(tok)}
	if _, err := agent.NewStatic([]agent.Credential{c}); err != nil {
		return fmt.Errorf("-new-agent-token %q: %w", spec, err)
	}
	fmt.Fprintf(w, "token (give it to the agent, once): %s\ncredential line (add it to the -agent-tokens file):\n%s\n", tok, c)
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
