// Package money holds chatd's exact amounts. Final amounts (order parts, balances,
// bill lines, refunds) are integer US cents; intermediate results of proration are
// exact rationals, rounded half-up to the cent only where an amount becomes final
// (product spec section 5). Nothing here uses floating point.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Cents is an exact amount of US cents.
type Cents int64

// MaxAmount is the largest amount of one operation (a top-up's cash or credit, a
// voucher, a discount): 100,000,000.00 USD. Parse refuses more.
const MaxAmount Cents = 100_000_000_00

// MaxBalance bounds each part of an account's balance (cash, credit):
// 1,000,000,000.00 USD. A top-up that would pass it is refused. With both caps
// every sum chatd builds stays far from the int64 limit; the checked operations
// below still refuse to wrap.
const MaxBalance Cents = 1_000_000_000_00

// ErrOverflow: a sum or product of amounts does not fit in int64 cents.
var ErrOverflow = errors.New("amount out of range")

// Add returns a + b, or ErrOverflow instead of wrapping around.
func Add(a, b Cents) (Cents, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, fmt.Errorf("%w: %s + %s", ErrOverflow, a, b)
	}
	return a + b, nil
}

// Sub returns a − b, or ErrOverflow instead of wrapping around.
func Sub(a, b Cents) (Cents, error) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		return 0, fmt.Errorf("%w: %s - %s", ErrOverflow, a, b)
	}
	return a - b, nil
}

// Sum adds amounts, or returns ErrOverflow when a partial sum does not fit.
func Sum(xs ...Cents) (Cents, error) {
	var total Cents
	for _, x := range xs {
		var err error
		if total, err = Add(total, x); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// Mul returns c × n, or ErrOverflow instead of wrapping around.
func Mul(c Cents, n int64) (Cents, error) {
	if c == 0 || n == 0 {
		return 0, nil
	}
	p := int64(c) * n
	if p/n != int64(c) || (int64(c) == -1 && n == math.MinInt64) || (n == -1 && int64(c) == math.MinInt64) {
		return 0, fmt.Errorf("%w: %s × %d", ErrOverflow, c, n)
	}
	return Cents(p), nil
}

// String formats c as a decimal string of dollars with two decimals: "399.00", "-0.05".
func (c Cents) String() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes c as a JSON string: "399.00".
func (c Cents) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// UnmarshalJSON reads a JSON string ("399.00", "399") as written by MarshalJSON.
func (c *Cents) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("an amount must be a decimal string such as \"399.00\"")
	}
	// A stored amount (a balance, a total) may exceed MaxAmount, the bound of one
	// amount from input: reading one back is bounded only by int64.
	v, err := parse(s, math.MaxInt64)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Parse reads an amount given as input: a decimal amount of dollars with at most
// two decimals ("399", "399.5", "399.00", "-12.05"), at most MaxAmount in
// magnitude. Anything else (exponents, thousands separators, three decimals, a
// currency sign) is refused rather than guessed at.
func Parse(s string) (Cents, error) { return parse(s, MaxAmount) }

// parse reads a decimal amount of at most max in magnitude.
func parse(s string, max Cents) (Cents, error) {
	orig := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !digits(whole) || (hasDot && (frac == "" || len(frac) > 2 || !digits(frac))) {
		return 0, fmt.Errorf("amount %q must be a decimal number of dollars with at most two decimals, e.g. 399.00", orig)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if err != nil || w > int64(max/100) || v < 0 || v > int64(max) {
		return 0, fmt.Errorf("amount %q is larger than the largest accepted amount %s", orig, max)
	}
	if neg {
		v = -v
	}
	return Cents(v), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Exact is an exact intermediate amount in cents (a rational number). The zero
// value is not usable; build one with Of, Ratio or Zero.
type Exact struct{ r *big.Rat }

// Zero is an exact zero.
func Zero() Exact { return Exact{new(big.Rat)} }

// Of turns final cents into an exact amount.
func Of(c Cents) Exact { return Exact{new(big.Rat).SetInt64(int64(c))} }

// Ratio is c × num ÷ den, exactly. den must not be zero.
func Ratio(c Cents, num, den int64) Exact {
	if den == 0 {
		panic("money: Ratio with a zero denominator")
	}
	r := new(big.Rat).SetFrac(big.NewInt(int64(c)), big.NewInt(1))
	return Exact{r.Mul(r, big.NewRat(num, den))}
}

// Micro is an amount of millionths of a dollar per unit of something (a unit price
// finer than a cent, such as 0.015 USD per monthly active user).
type Micro int64

// Times is units × m, exactly, in cents.
func (m Micro) Times(units int64) Exact {
	r := new(big.Rat).SetInt64(int64(m))
	r.Mul(r, new(big.Rat).SetInt64(units))
	return Exact{r.Quo(r, big.NewRat(10000, 1))} // 1 cent = 10,000 micro-dollars
}

// String formats a unit price in dollars without trailing zeros beyond the cents:
// Micro(15000) is "0.015", Micro(10000000) is "10.00".
func (m Micro) String() string {
	v := int64(m)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%d.%06d", v/1e6, v%1e6)
	s = strings.TrimRight(s, "0")
	if i := strings.IndexByte(s, '.'); len(s)-i-1 < 2 {
		s += strings.Repeat("0", 2-(len(s)-i-1))
	}
	return sign + s
}

// Add returns a + b.
func (a Exact) Add(b Exact) Exact { return Exact{new(big.Rat).Add(a.r, b.r)} }

// Sub returns a − b.
func (a Exact) Sub(b Exact) Exact { return Exact{new(big.Rat).Sub(a.r, b.r)} }

// Mul returns a × num ÷ den. den must not be zero.
func (a Exact) Mul(num, den int64) Exact {
	if den == 0 {
		panic("money: Mul with a zero denominator")
	}
	return Exact{new(big.Rat).Mul(a.r, big.NewRat(num, den))}
}

// Scale returns a × r exactly (r is not modified).
func (a Exact) Scale(r *big.Rat) Exact { return Exact{new(big.Rat).Mul(a.r, r)} }

// Fraction returns a ÷ b as an exact rational. b must not be zero.
func (a Exact) Fraction(b Exact) *big.Rat { return new(big.Rat).Quo(a.r, b.r) }

// Sign is -1, 0 or +1.
func (a Exact) Sign() int { return a.r.Sign() }

// Round rounds a half-up (halves away from zero) to whole cents: the one rounding
// rule of product spec section 5. The result must fit in int64 cents (Cents
// checks it); Round panics rather than wrap around.
func (a Exact) Round() Cents {
	c, err := a.Cents()
	if err != nil {
		panic(err)
	}
	return c
}

// Cents is Round for amounts that may be out of range: ErrOverflow when the
// rounded amount does not fit in int64 cents.
func (a Exact) Cents() (Cents, error) {
	num := new(big.Int).Set(a.r.Num())
	den := a.r.Denom() // positive
	neg := num.Sign() < 0
	if neg {
		num.Neg(num)
	}
	// floor((2·num + den) / (2·den)) is num/den rounded half-up for num ≥ 0.
	n2 := new(big.Int).Lsh(num, 1)
	n2.Add(n2, den)
	d2 := new(big.Int).Lsh(den, 1)
	q := new(big.Int).Quo(n2, d2)
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("%w: %s cents", ErrOverflow, q)
	}
	return Cents(q.Int64()), nil
}

// String shows the exact value in cents, for messages and tests.
func (a Exact) String() string { return a.r.RatString() }

// Split divides total into two parts in the proportion a : b (cash : credit, say),
// rounding the first part half-up and giving the second the rest, so the parts
// always add up to total. When a and b are both zero the first part takes all.
func Split(total Cents, a, b Exact) (Cents, Cents) {
	sum := a.Add(b)
	if sum.Sign() == 0 {
		return total, 0
	}
	first := Of(total).Scale(a.Fraction(sum)).Round()
	return first, total - first
}
