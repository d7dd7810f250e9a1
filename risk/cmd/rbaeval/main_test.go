package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGenerateRoundTripsThroughCSV(t *testing.T) {
	logins := generate(500, 7)
	require.Len(t, logins, 500)
	var buf bytes.Buffer
	require.NoError(t, writeLogins(&buf, logins))
	back, err := readLogins(&buf)
	require.NoError(t, err)
	assert.Equal(t, logins, back)
	assert.Equal(t, logins, generate(500, 7), "deterministic for a seed")
	for i := 1; i < len(logins); i++ {
		assert.False(t, logins[i].Time.Before(logins[i-1].Time), "time order")
	}
}

// TestEvaluateSynthetic runs the evaluation on synthetic data: the model must beat a
// random scorer by a wide margin, and targeted attackers must be the hardest to tell
// from the subscriber.
func TestEvaluateSynthetic(t *testing.T) {
	rep, err := evaluate(generate(15000, 1), 0.2, 1)
	require.NoError(t, err)
	var buf bytes.Buffer
	rep.write(&buf)
	t.Log("\n" + buf.String())
	by := map[string]result{}
	for _, r := range rep.Results {
		by[r.Model] = r
		require.Positive(t, r.Attacks, r.Model)
	}
	random := by["random scorer"]
	assert.InDelta(t, 0.5, random.AUC, 0.05)
	for _, m := range attackerModels {
		assert.Greater(t, by[m].AUC, random.AUC+0.15, "%s beats random by a wide margin", m)
		assert.Less(t, by[m].ReAuth99, random.ReAuth99, m)
	}
	assert.Greater(t, by[naive].AUC, 0.95)
	assert.Less(t, by[naive].ReAuth99, 0.3)
	assert.Less(t, by[targeted].AUC, by[vpn].AUC, "targeted is harder than VPN")
	assert.Less(t, by[vpn].AUC, by[naive].AUC, "VPN is harder than naive")
	assert.Greater(t, by[targeted].ReAuth99, by[vpn].ReAuth99)
}

func TestRunCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logins.csv")
	var gen bytes.Buffer
	require.NoError(t, run([]string{"-generate", "3000", "-seed", "3"}, &gen, &bytes.Buffer{}))
	require.NoError(t, os.WriteFile(path, gen.Bytes(), 0o600))
	var out bytes.Buffer
	require.NoError(t, run([]string{"-data", path}, &out, &bytes.Buffer{}))
	for _, want := range []string{"attacker", "AUC", "re-auth@0.99", "re-auth@0.999", "naive", "vpn", "targeted", "random scorer"} {
		assert.Contains(t, out.String(), want)
	}

	for _, args := range [][]string{{}, {"-data", path, "-generate", "5"}, {"-data", filepath.Join(dir, "nope.csv")}, {"-generate", "5", "-attack-rate", "0"}} {
		assert.Error(t, run(args, &bytes.Buffer{}, &bytes.Buffer{}), "%v", args)
	}
}

func TestReadLoginsErrors(t *testing.T) {
	header := strings.Join(columns, ",")
	row := "2020-02-03 12:43:55.873,1,500,192.0.2.1,US,US-1,City,7922,Mozilla/5.0,Chrome 80,Windows 10,desktop,True,False,False"
	_, err := readLogins(strings.NewReader(header + "\n" + row + "\n"))
	require.NoError(t, err)
	tests := map[string]string{
		"missing column": strings.Replace(header, "ASN,", "", 1) + "\n",
		"bad time":       header + "\n" + strings.Replace(row, "2020-02-03 12:43:55.873", "yesterday", 1),
		"bad IP":         header + "\n" + strings.Replace(row, "192.0.2.1", "192.0.2", 1),
		"bad ASN":        header + "\n" + strings.Replace(row, "7922", "AS7922", 1),
		"bad boolean":    header + "\n" + strings.Replace(row, "True,False,False", "yes,False,False", 1),
		"short row":      header + "\n" + "2020-02-03 12:43:55,1",
	}
	for name, in := range tests {
		_, err := readLogins(strings.NewReader(in))
		assert.ErrorIs(t, err, errData, name)
	}
	// The dataset's "-" placeholders mean unknown.
	l, err := readLogins(strings.NewReader(header + "\n" + strings.Replace(row, "US-1,City,7922", "-,-,-", 1)))
	require.NoError(t, err)
	assert.Equal(t, "", l[0].Region)
	assert.Zero(t, l[0].ASN)
}

func TestMetrics(t *testing.T) {
	legit := []float64{1, 2, 3, 4}
	assert.Equal(t, 1.0, auc(legit, []float64{5, 6}))
	assert.Equal(t, 0.0, auc(legit, []float64{0}))
	assert.Equal(t, 0.5, auc([]float64{1}, []float64{1}), "ties count half")
	assert.InDelta(t, (2+2.5)/8, auc(legit, []float64{2.5, 3}), 1e-12)
	assert.True(t, math.IsNaN(auc(nil, legit)))

	// 100 attacks scored 1..100: detecting 99% needs the threshold at 2; at 99.9%, at 1.
	attacks := make([]float64, 100)
	for i := range attacks {
		attacks[i] = float64(i + 1)
	}
	legit = []float64{0.5, 1, 1.5, 2, 10}
	assert.Equal(t, 2.0/5, reauth(legit, attacks, 0.99))
	assert.Equal(t, 4.0/5, reauth(legit, attacks, 0.999))
	assert.Equal(t, 4.0/5, reauth(legit, attacks, 1))
}

func FuzzReadLogins(f *testing.F) {
	header := strings.Join(columns, ",")
	f.Add(header + "\n2020-02-03 12:43:55.873,1,500,192.0.2.1,US,US-1,City,7922,UA,Chrome 80,Windows 10,desktop,True,False,False\n")
	f.Add(header + "\n2020-02-03 12:43:55,1,,,,-,-,-,,,,,False,True,True\n")
	f.Add("a,b\n1,2\n")
	f.Fuzz(func(t *testing.T, in string) {
		logins, err := readLogins(strings.NewReader(in))
		if err != nil {
			return
		}
		// What was read writes and reads back stably.
		var a, b bytes.Buffer
		if err := writeLogins(&a, logins); err != nil {
			t.Fatal(err)
		}
		again, err := readLogins(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("re-reading written logins: %v", err)
		}
		if err := writeLogins(&b, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("write/read is not stable")
		}
	})
}
