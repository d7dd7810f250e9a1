// Command rbaeval evaluates the Freeman model of package risk on a login dataset in the
// CSV format of the public RBA dataset (Wiefling et al.):
//
//	Login Timestamp, User ID, Round-Trip Time [ms], IP Address, Country, Region, City,
//	ASN, User Agent String, Browser Name and Version, OS Name and Version, Device Type,
//	Login Successful, Is Attack IP, Is Account Takeover
//
// It replays the logins in time order, scoring each successful legitimate login from
// earlier logins only and then learning it, and injects attacks against the same
// subscribers after the three attacker models of Wiefling et al.:
//
//	naive     an attack IP from the data and a random browser
//	vpn       the victim's country, another IP address and ASN, a random browser
//	targeted  the victim's country and region, and the victim's browser, OS and device type
//
// For each model it reports the ROC AUC and the share of legitimate logins that would be
// asked to re-authenticate at attacker detection rates of 0.99 and 0.999 (lower is
// better), next to a random scorer. Account takeovers labelled in the data are
// reported as a fourth model.
//
// Usage:
//
//	go run ./risk/cmd/rbaeval -data logins.csv
//	go run ./risk/cmd/rbaeval -generate 100000 > synthetic.csv   # a synthetic dataset
//	go run ./risk/cmd/rbaeval -generate 100000 -eval              # generate and evaluate
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rbaeval:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rbaeval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "login dataset to evaluate (CSV in the RBA dataset format)")
	gen := fs.Int("generate", 0, "write a synthetic dataset of this many logins to stdout")
	evalGen := fs.Bool("eval", false, "with -generate: evaluate the synthetic dataset instead of writing it")
	seed := fs.Uint64("seed", 1, "random seed for -generate and attack injection")
	rate := fs.Float64("attack-rate", 0.2, "share of scored legitimate logins that get one injected attack per attacker model")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !(*rate > 0 && *rate <= 1) {
		return errors.New("-attack-rate must be in (0, 1]")
	}
	var logins []login
	switch {
	case *gen > 0 && *data != "":
		return errors.New("use -data or -generate, not both")
	case *gen > 0:
		logins = generate(*gen, *seed)
		if !*evalGen {
			return writeLogins(stdout, logins)
		}
	case *data != "":
		f, err := os.Open(*data)
		if err != nil {
			return err
		}
		defer f.Close()
		if logins, err = readLogins(f); err != nil {
			return err
		}
	default:
		fs.Usage()
		return errors.New("need -data FILE or -generate N")
	}
	rep, err := evaluate(logins, *rate, *seed)
	if err != nil {
		return err
	}
	rep.write(stdout)
	return nil
}
