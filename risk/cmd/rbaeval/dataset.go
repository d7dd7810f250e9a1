package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The columns of the public RBA dataset (Wiefling et al.), in its order.
var columns = []string{
	"Login Timestamp", "User ID", "Round-Trip Time [ms]", "IP Address", "Country", "Region",
	"City", "ASN", "User Agent String", "Browser Name and Version", "OS Name and Version",
	"Device Type", "Login Successful", "Is Attack IP", "Is Account Takeover",
}

// login is one row.
type login struct {
	Time                time.Time
	User                string
	RTT                 string
	IP                  netip.Addr
	Country, Region     string
	City                string
	ASN                 uint32
	UA                  string
	Browser, OS, Device string
	Success             bool
	AttackIP            bool
	Takeover            bool
}

var errData = errors.New("rbaeval: bad dataset")

var timeLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", time.RFC3339Nano}

// readLogins reads a dataset. Columns are found by name, so extra columns and other
// orders are fine; every listed column must be present.
func readLogins(r io.Reader) ([]login, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", errData, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	col := make([]int, len(columns))
	for i, c := range columns {
		j, ok := idx[c]
		if !ok {
			return nil, fmt.Errorf("%w: missing column %q", errData, c)
		}
		col[i] = j
	}
	var out []login
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", errData, line, err)
		}
		get := func(i int) string { return rec[col[i]] }
		var l login
		if l.Time, err = parseTime(get(0)); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", errData, line, err)
		}
		l.User, l.RTT = get(1), get(2)
		if s := get(3); s != "" {
			if l.IP, err = netip.ParseAddr(s); err != nil {
				return nil, fmt.Errorf("%w: line %d: IP address %q", errData, line, s)
			}
		}
		l.Country, l.Region, l.City = clean(get(4)), clean(get(5)), clean(get(6))
		if s := get(7); s != "" && s != "-" {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: ASN %q", errData, line, s)
			}
			l.ASN = uint32(n)
		}
		l.UA, l.Browser, l.OS, l.Device = get(8), clean(get(9)), clean(get(10)), clean(get(11))
		if l.Success, err = parseBool(get(12)); err == nil {
			if l.AttackIP, err = parseBool(get(13)); err == nil {
				l.Takeover, err = parseBool(get(14))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", errData, line, err)
		}
		out = append(out, l)
	}
}

// clean maps the dataset's placeholders for "unknown" to empty.
func clean(s string) string {
	switch s {
	case "-", "nan", "NaN":
		return ""
	}
	return s
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q", s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("boolean %q", s)
}

func writeLogins(w io.Writer, logins []login) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return err
	}
	b := func(v bool) string {
		if v {
			return "True"
		}
		return "False"
	}
	for _, l := range logins {
		ip := ""
		if l.IP.IsValid() {
			ip = l.IP.String()
		}
		if err := cw.Write([]string{
			l.Time.Format("2006-01-02 15:04:05.000"), l.User, l.RTT, ip, l.Country, l.Region, l.City,
			strconv.FormatUint(uint64(l.ASN), 10), l.UA, l.Browser, l.OS, l.Device,
			b(l.Success), b(l.AttackIP), b(l.Takeover),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
