package protection

import (
	"context"
	"errors"
	"fmt"

	"github.com/carrierguard/carrierguard/risk"
)

// ErrRiskUnassessed is returned (through Service.Decide, with a Deny decision carrying
// ReasonFault and ReasonRiskFault) when a risk.Scorer returns no level: the zero
// risk.Level means "not assessed" and is never read as low.
var ErrRiskUnassessed = errors.New("protection: risk scorer returned an unassessed level")

// RiskLevelOf maps a risk.Level onto RiskLevel: Low, Medium and High to RiskLow,
// RiskMedium and RiskHigh. The zero (unassessed) level and any unknown value map to the
// zero RiskLevel, which is not a level: Policy.Evaluate rejects it and Service.Decide
// treats it as a risk fault, so it can never pass for low.
func RiskLevelOf(l risk.Level) RiskLevel {
	switch l {
	case risk.Low:
		return RiskLow
	case risk.Medium:
		return RiskMedium
	case risk.High:
		return RiskHigh
	}
	return 0
}

// RiskAction is the risk.Action a request's action is scored as: SIM swaps and eSIM
// transfers as risk.ActionSIMSwap, port-outs as risk.ActionPortOut, viewing the account
// as "view_account", and every other action (credential, contact, payment, flag and line
// changes, transfer PINs) as risk.ActionAccountChange. All of them count as sensitive
// for risk's velocity signal.
func RiskAction(a Action) risk.Action {
	switch a {
	case ActionSIMSwap, ActionESIMTransfer:
		return risk.ActionSIMSwap
	case ActionPortOut:
		return risk.ActionPortOut
	case ActionViewAccount:
		return risk.Action(ActionViewAccount.String())
	}
	return risk.ActionAccountChange
}

// RiskChannel is the risk.Channel of a channel: app, web, chat and phone by name, a
// store as risk.ChannelRetail and the partner API as risk.ChannelAPI.
func RiskChannel(c Channel) risk.Channel {
	switch c {
	case ChannelApp:
		return risk.ChannelApp
	case ChannelWeb:
		return risk.ChannelWeb
	case ChannelChat:
		return risk.ChannelChat
	case ChannelPhone:
		return risk.ChannelPhone
	case ChannelStore:
		return risk.ChannelRetail
	case ChannelPartner:
		return risk.ChannelAPI
	}
	return risk.Channel(c.String())
}

// RiskRequestFunc builds the risk.Request for a request being decided: the facts only
// the integrator has (client IP and its Geo, device fingerprint, user agent, account
// facts), typically carried in ctx from the HTTP handler. Fields it leaves empty are
// filled in by RiskFromScorer. An error makes Decide deny with ReasonRiskFault.
type RiskRequestFunc func(ctx context.Context, subscriber string, req Request) (risk.Request, error)

// RiskFromScorer adapts a risk.Scorer (a *risk.Service, a risk.Model or the carrier's
// own) into the RiskAssessor for Config.Risk, so Decide scores every request itself.
//
// build supplies the request's facts; nil means none, which risk scores as missing
// (a missing IP address is itself a signal). The adapter then sets Subscriber (a
// different subscriber from build is an error), and, where build left them empty,
// Action (RiskAction), Channel (RiskChannel) and Time (the request's At).
//
// It fails closed: an error from build or the scorer, a panic in either, and an
// unassessed or unknown level all return an error, which Decide turns into a Deny with
// ReasonFault and ReasonRiskFault. The scorer's signals are not kept; call the scorer
// yourself when an agent needs to see them. Scoring does not teach risk's profiles: after
// the proof step, report the outcome with (*risk.Service).Record.
func RiskFromScorer(s risk.Scorer, build RiskRequestFunc) RiskAssessor {
	return RiskAssessorFunc(func(ctx context.Context, subscriber string, req Request) (lvl RiskLevel, err error) {
		if s == nil {
			return 0, errors.New("protection: RiskFromScorer has no scorer")
		}
		defer func() {
			if r := recover(); r != nil {
				lvl, err = 0, fmt.Errorf("protection: risk scorer panicked: %v", r)
			}
		}()
		var rr risk.Request
		if build != nil {
			if rr, err = build(ctx, subscriber, req); err != nil {
				return 0, fmt.Errorf("protection: building the risk request: %w", err)
			}
		}
		switch rr.Subscriber {
		case "":
			rr.Subscriber = subscriber
		case subscriber:
		default:
			return 0, errors.New("protection: the risk request names another subscriber")
		}
		if rr.Action == "" {
			rr.Action = RiskAction(req.Action)
		}
		if rr.Channel == "" {
			rr.Channel = RiskChannel(req.Channel)
		}
		if rr.Time.IsZero() {
			rr.Time = req.At
		}
		a, err := s.Score(ctx, rr)
		if err != nil {
			return 0, err
		}
		if lvl = RiskLevelOf(a.Level); !lvl.Valid() {
			return 0, fmt.Errorf("%w (%d)", ErrRiskUnassessed, a.Level)
		}
		return lvl, nil
	})
}
