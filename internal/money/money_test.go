package money

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestStringAndParse(t *testing.T) {
	for _, tt := range []struct {
		c Cents
		s string
	}{{39900, "399.00"}, {5, "0.05"}, {-1205, "-12.05"}, {0, "0.00"}, {27029, "270.29"}} {
		if got := tt.c.String(); got != tt.s {
			t.Errorf("%d.String() = %q, want %q", tt.c, got, tt.s)
		}
		if got, err := Parse(tt.s); err != nil || got != tt.c {
			t.Errorf("Parse(%q) = %d, %v", tt.s, got, err)
		}
	}
	for in, want := range map[string]Cents{"399": 39900, "399.5": 39950, "0.1": 10} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", ".5", "1.", "1.234", "1e3", "1,000", "$5", " 5", "5 ", "abc", "99999999999999"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestJSON(t *testing.T) {
	b, _ := json.Marshal(struct{ A Cents }{39900})
	if string(b) != `{"A":"399.00"}` {
		t.Fatalf("got %s", b)
	}
	var v struct{ A Cents }
	if err := json.Unmarshal([]byte(`{"A":"12.3"}`), &v); err != nil || v.A != 1230 {
		t.Fatalf("got %d, %v", v.A, err)
	}
	if err := json.Unmarshal([]byte(`{"A":12.3}`), &v); err == nil {
		t.Fatal("a JSON number was accepted as an amount")
	}
}

func TestRoundHalfUp(t *testing.T) {
	for _, tt := range []struct {
		num, den int64
		want     Cents
	}{
		{1, 2, 1}, {3, 2, 2}, {-1, 2, -1}, {-3, 2, -2}, {149, 100, 1}, {151, 100, 2}, {0, 7, 0},
	} {
		if got := Ratio(1, tt.num, tt.den).Round(); got != tt.want {
			t.Errorf("%d/%d rounds to %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
	// The spec's example: 399 × 10/31 = 128.709... → 128.71.
	if got := Ratio(39900, 10, 31).Round(); got != 12871 {
		t.Errorf("399 × 10/31 = %s, want 128.71", got)
	}
	// Rounding only at the end: 3 × (1/3 cent) is exactly 1 cent.
	third := Ratio(1, 1, 3)
	if got := third.Add(third).Add(third).Round(); got != 1 {
		t.Errorf("1/3+1/3+1/3 = %d cents", got)
	}
}

func TestMicro(t *testing.T) {
	if got := Micro(15000).Times(1); got.Round() != 2 { // 0.015 USD = 1.5 cents → 2
		t.Errorf("0.015 rounds to %d cents", got.Round())
	}
	if got := Micro(15000).Times(5000).Round(); got != 7500 {
		t.Errorf("5,000 × 0.015 = %s, want 75.00", got)
	}
	for m, s := range map[Micro]string{15000: "0.015", 10_000_000: "10.00", 100000: "0.10", 4_000_000: "4.00", 1: "0.000001"} {
		if m.String() != s {
			t.Errorf("Micro(%d) = %q, want %q", m, m.String(), s)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct{ total, a, b, wa, wb Cents }{
		{27029, 39900, 0, 27029, 0},
		{10000, 30000, 10000, 7500, 2500},
		{101, 1, 1, 51, 50}, // half a cent goes to the first part
		{500, 0, 0, 500, 0},
		{0, 3, 7, 0, 0},
	} {
		a, b := Split(tt.total, Of(tt.a), Of(tt.b))
		if a != tt.wa || b != tt.wb || a+b != tt.total {
			t.Errorf("Split(%d, %d:%d) = %d, %d; want %d, %d", tt.total, tt.a, tt.b, a, b, tt.wa, tt.wb)
		}
	}
}

// TestChecked: sums and products of amounts refuse to wrap around at the int64
// limits, and rounding refuses amounts beyond them.
func TestChecked(t *testing.T) {
	const maxC, minC = Cents(math.MaxInt64), Cents(math.MinInt64)
	for _, tt := range []struct {
		name string
		got  func() (Cents, error)
		want Cents // when ok
		ok   bool
	}{
		{"max + 0", func() (Cents, error) { return Add(maxC, 0) }, maxC, true},
		{"max + 1", func() (Cents, error) { return Add(maxC, 1) }, 0, false},
		{"min + -1", func() (Cents, error) { return Add(minC, -1) }, 0, false},
		{"max-1 + 1", func() (Cents, error) { return Add(maxC-1, 1) }, maxC, true},
		{"min - 1", func() (Cents, error) { return Sub(minC, 1) }, 0, false},
		{"max - -1", func() (Cents, error) { return Sub(maxC, -1) }, 0, false},
		{"0 - max", func() (Cents, error) { return Sub(0, maxC) }, -maxC, true},
		{"max × 1", func() (Cents, error) { return Mul(maxC, 1) }, maxC, true},
		{"max/2+1 × 2", func() (Cents, error) { return Mul(maxC/2+1, 2) }, 0, false},
		{"min × -1", func() (Cents, error) { return Mul(minC, -1) }, 0, false},
		{"-1 × min", func() (Cents, error) { return Mul(-1, math.MinInt64) }, 0, false},
		{"sum wraps", func() (Cents, error) { return Sum(maxC, 1, -2) }, 0, false},
		{"4,612 top-ups of the largest amount", func() (Cents, error) {
			xs := make([]Cents, 4612)
			for i := range xs {
				xs[i] = 2_000_000_000_000_000
			}
			return Sum(xs...)
		}, 0, false},
		{"exact max", func() (Cents, error) { return Of(maxC).Cents() }, maxC, true},
		{"exact max + 1/2", func() (Cents, error) { return Of(maxC).Add(Ratio(1, 1, 2)).Cents() }, 0, false},
		{"exact min - 1", func() (Cents, error) { return Of(minC).Sub(Of(1)).Cents() }, 0, false},
	} {
		got, err := tt.got()
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("%s = %d, %v; want %d", tt.name, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrOverflow) {
			t.Errorf("%s = %d, %v; want ErrOverflow", tt.name, got, err)
		}
	}
}

// TestParseCap: Parse accepts MaxAmount and refuses a cent more, either sign.
func TestParseCap(t *testing.T) {
	if c, err := Parse("100000000.00"); err != nil || c != MaxAmount {
		t.Errorf("Parse(MaxAmount) = %d, %v", c, err)
	}
	for _, bad := range []string{"100000000.01", "-100000000.01", "100000001", "9223372036854775807", "99999999999999999999"} {
		if c, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %d, want a refusal", bad, c)
		}
	}
}

// An amount read back from JSON (a balance, a total) is not bound by the input
// cap: a balance above MaxAmount round-trips; only int64 bounds it.
func TestJSONBeyondInputCap(t *testing.T) {
	var v struct{ A Cents }
	big := MaxAmount*10 + 1
	b, _ := json.Marshal(struct{ A Cents }{big})
	if err := json.Unmarshal(b, &v); err != nil || v.A != big {
		t.Fatalf("round trip of %s: %s, %v", big, v.A, err)
	}
	max := Cents(math.MaxInt64)
	b, _ = json.Marshal(struct{ A Cents }{max})
	if err := json.Unmarshal(b, &v); err != nil || v.A != max {
		t.Fatalf("round trip of the largest amount: %s, %v", v.A, err)
	}
	for _, bad := range []string{`{"A":"92233720368547758.08"}`, `{"A":"92233720368547758.99"}`, `{"A":"99999999999999999999"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s read as %s, want a refusal", bad, v.A)
		}
	}
}
