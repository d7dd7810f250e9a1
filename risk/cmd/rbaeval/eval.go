package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/carrierguard/carrierguard/risk"
	"github.com/carrierguard/carrierguard/store/memory"
)

// The attacker models of Wiefling et al.
const (
	naive    = "naive"    // attack IPs and random browsers
	vpn      = "vpn"      // the victim's country, another IP and ASN, a random browser
	targeted = "targeted" // the victim's country and region, and their browser, OS and device type
	dataset  = "dataset"  // account takeovers labelled in the data itself
)

var attackerModels = []string{naive, vpn, targeted}

// result is the evaluation of one attacker model.
type result struct {
	Model     string
	Attacks   int
	AUC       float64
	ReAuth99  float64 // share of legitimate logins re-authenticated at detection 0.99
	ReAuth999 float64
}

type report struct {
	Logins, Legit, Subscribers int
	Results                    []result
}

// evaluate replays logins in time order. Each successful, legitimate login of a
// subscriber with history is scored from earlier logins only, then learned; for a share
// attackRate of them, one attack per attacker model is injected against the same
// subscriber at the same moment, scored and never learned.
func evaluate(logins []login, attackRate float64, seed uint64) (report, error) {
	slices.SortStableFunc(logins, func(a, b login) int { return a.Time.Compare(b.Time) })
	ctx := context.Background()
	profiles, global := memory.NewRiskProfiles(memory.Options{}), memory.NewRiskGlobal(memory.Options{})
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	model, err := risk.NewModel(risk.ModelConfig{Now: func() time.Time { return far }}, profiles, global)
	if err != nil {
		return report{}, err
	}
	r := rand.New(rand.NewPCG(seed, seed+1))
	pools := newPools(logins)

	var legit []float64
	attacks := map[string][]float64{}
	users := map[string]bool{}
	var p risk.Profile
	score := func(l *login) (float64, error) {
		req := request(l)
		keys := req.Keys()
		p = risk.Profile{}
		if err := profiles.LoadProfile(ctx, l.User, &p); err != nil {
			return 0, err
		}
		g, err := global.GlobalStats(ctx, &keys)
		if err != nil {
			return 0, err
		}
		return model.Evaluate(&p, &g, &keys).S, nil
	}
	for i := range logins {
		l := &logins[i]
		if l.Takeover {
			if users[l.User] {
				s, err := score(l)
				if err != nil {
					return report{}, err
				}
				attacks[dataset] = append(attacks[dataset], s)
			}
			continue
		}
		if !l.Success {
			continue
		}
		if users[l.User] {
			s, err := score(l)
			if err != nil {
				return report{}, err
			}
			legit = append(legit, s)
			if r.Float64() < attackRate {
				for _, m := range attackerModels {
					a := pools.attack(r, m, l)
					s, err := score(&a)
					if err != nil {
						return report{}, err
					}
					attacks[m] = append(attacks[m], s)
				}
			}
		}
		if err := model.Learn(ctx, request(l)); err != nil {
			return report{}, fmt.Errorf("learning login %d: %w", i, err)
		}
		users[l.User] = true
	}
	rep := report{Logins: len(logins), Legit: len(legit), Subscribers: len(users)}
	models := attackerModels
	if len(attacks[dataset]) > 0 {
		models = append(slices.Clone(models), dataset)
	}
	slices.Sort(legit)
	for _, m := range models {
		a := attacks[m]
		slices.Sort(a)
		rep.Results = append(rep.Results, result{
			Model: m, Attacks: len(a), AUC: auc(legit, a),
			ReAuth99: reauth(legit, a, 0.99), ReAuth999: reauth(legit, a, 0.999),
		})
	}
	// The baseline: a scorer that ignores the login (uniform random scores).
	rl := make([]float64, len(legit))
	ra := make([]float64, len(attacks[naive]))
	for i := range rl {
		rl[i] = r.Float64()
	}
	for i := range ra {
		ra[i] = r.Float64()
	}
	slices.Sort(rl)
	slices.Sort(ra)
	rep.Results = append(rep.Results, result{Model: "random scorer", Attacks: len(ra), AUC: auc(rl, ra),
		ReAuth99: reauth(rl, ra, 0.99), ReAuth999: reauth(rl, ra, 0.999)})
	return rep, nil
}

func request(l *login) risk.Request {
	return risk.Request{
		Subscriber: l.User, Action: risk.ActionSignIn, Time: l.Time, IP: l.IP,
		Geo:       risk.Geo{Country: l.Country, Region: l.Region, City: l.City, ASN: l.ASN},
		UserAgent: l.UA, Client: risk.Client{Browser: l.Browser, OS: l.OS, DeviceType: l.Device},
	}
}

// pools index the dataset for building attacks.
type pools struct {
	all      []*login
	attackIP []*login
	country  map[string][]*login
	region   map[[2]string][]*login
	client   map[[3]string][]*login
}

func newPools(logins []login) *pools {
	p := &pools{country: map[string][]*login{}, region: map[[2]string][]*login{}, client: map[[3]string][]*login{}}
	for i := range logins {
		l := &logins[i]
		p.all = append(p.all, l)
		if l.AttackIP {
			p.attackIP = append(p.attackIP, l)
		}
		p.country[l.Country] = append(p.country[l.Country], l)
		p.region[[2]string{l.Country, l.Region}] = append(p.region[[2]string{l.Country, l.Region}], l)
		k := [3]string{l.Browser, l.OS, l.Device}
		p.client[k] = append(p.client[k], l)
	}
	if len(p.attackIP) == 0 {
		p.attackIP = p.all
	}
	return p
}

// pick returns a login from pool not by the victim (or any, after a few tries).
func pick(r *rand.Rand, pool []*login, victim string) *login {
	var l *login
	for range 8 {
		if l = pool[r.IntN(len(pool))]; l.User != victim {
			break
		}
	}
	return l
}

// attack builds an attacker's login against victim v, at v's time.
func (p *pools) attack(r *rand.Rand, model string, v *login) login {
	a := login{Time: v.Time, User: v.User, Success: true}
	setNet := func(src *login) {
		a.IP, a.ASN, a.Country, a.Region, a.City = src.IP, src.ASN, src.Country, src.Region, src.City
	}
	setUA := func(src *login) { a.UA, a.Browser, a.OS, a.Device = src.UA, src.Browser, src.OS, src.Device }
	switch model {
	case naive:
		setNet(pick(r, p.attackIP, v.User))
		setUA(pick(r, p.all, v.User))
	case vpn:
		// A VPN exit in the victim's country: another subscriber's network there.
		setNet(pick(r, p.country[v.Country], v.User))
		a.Country = v.Country
		setUA(pick(r, p.all, v.User))
	case targeted:
		src := pick(r, p.region[[2]string{v.Country, v.Region}], v.User)
		setNet(src)
		a.Country, a.Region = v.Country, v.Region
		// The victim's browser, OS and device type, in a user-agent string seen for them
		// elsewhere (possibly the victim's own).
		setUA(pick(r, p.client[[3]string{v.Browser, v.OS, v.Device}], v.User))
	}
	if a.IP == v.IP && model != targeted {
		a.IP = netip.AddrFrom4([4]byte{100, 64, byte(r.IntN(256)), byte(r.IntN(256))})
	}
	return a
}

// auc is the area under the ROC curve: the probability that a random attack scores above
// a random legitimate login (ties count half). Both slices are sorted.
func auc(legit, attack []float64) float64 {
	if len(legit) == 0 || len(attack) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, a := range attack {
		below, _ := slices.BinarySearch(legit, a) // legit < a
		upto := below
		for upto < len(legit) && legit[upto] == a {
			upto++
		}
		sum += float64(below) + float64(upto-below)/2
	}
	return sum / (float64(len(legit)) * float64(len(attack)))
}

// reauth returns the share of legitimate logins at or above the highest threshold that
// still flags at least the share detect of attacks. Both slices are sorted.
func reauth(legit, attack []float64, detect float64) float64 {
	if len(legit) == 0 || len(attack) == 0 {
		return math.NaN()
	}
	k := int(math.Floor((1 - detect) * float64(len(attack)) * (1 + 1e-12)))
	threshold := attack[min(k, len(attack)-1)]
	i, _ := slices.BinarySearch(legit, threshold) // first legit >= threshold
	return float64(len(legit)-i) / float64(len(legit))
}

func (rep report) write(w io.Writer) {
	fmt.Fprintf(w, "logins %d, legitimate logins scored %d, subscribers %d\n", rep.Logins, rep.Legit, rep.Subscribers)
	fmt.Fprintf(w, "%-14s %8s %7s %14s %15s\n", "attacker", "attacks", "AUC", "re-auth@0.99", "re-auth@0.999")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "%-14s %8d %7.4f %14.4f %15.4f\n", r.Model, r.Attacks, r.AUC, r.ReAuth99, r.ReAuth999)
	}
	fmt.Fprintln(w, "re-auth@d: share of legitimate logins asked to re-authenticate when the threshold detects a share d of attacks (lower is better)")
}
