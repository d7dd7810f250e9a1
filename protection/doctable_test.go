package protection

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var shortKinds = [numEvidence]string{"", "S", "P", "C", "A", "R", "Q", "T", "I"}

func shortAlts(alts []EvidenceKinds) string {
	if len(alts) == 0 {
		return "-"
	}
	var out []string
	for _, a := range alts {
		var ks []string
		for _, k := range a.List() {
			ks = append(ks, shortKinds[k])
		}
		out = append(out, strings.Join(ks, ""))
	}
	return strings.Join(out, " ")
}

// docTable renders the default policy at low risk with no flags, one row per action,
// plus what high risk does. The package documentation must contain it verbatim.
func docTable(p *Policy) string {
	var b strings.Builder
	row := func(cells ...string) {
		fmt.Fprintf(&b, "//\t%-26s %-13s %-7s %-7s %-13s %-8s %s\n", cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[6])
	}
	row("action", "app, web", "chat", "phone", "store", "partner", "high risk")
	for a := Action(1); a < numActions; a++ {
		cell := func(c Channel) string { return shortAlts(p.table[index(a, c, 0, RiskLow)].alts) }
		high := "+1 factor"
		switch {
		case p.table[index(a, ChannelApp, 0, RiskHigh)].hold > 0:
			high = fmt.Sprintf("+1, hold %dh", p.table[index(a, ChannelApp, 0, RiskHigh)].hold/time.Hour)
		case p.table[index(a, ChannelApp, 0, RiskHigh)].alts == nil:
			high = "+1, store only"
		}
		row(a.String(), cell(ChannelApp), cell(ChannelChat), cell(ChannelPhone), cell(ChannelStore), cell(ChannelPartner), high)
		if !slices.Equal(p.table[index(a, ChannelApp, 0, RiskLow)].alts, p.table[index(a, ChannelWeb, 0, RiskLow)].alts) {
			panic("app and web differ; the table needs a column each")
		}
	}
	return b.String()
}

func TestDocTable(t *testing.T) {
	p, err := NewPolicy(PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := docTable(p)
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), want) {
		t.Errorf("doc.go does not contain the default policy table; it should read:\n%s", want)
	}
}
