// Package money holds amounts of money as integer minor units with a currency.
// Floats never carry money in orderflow: rounding is explicit and happens here.
package money

import (
	"errors"
	"fmt"
	"strings"
)

// Money is an amount in minor units (cents for EUR/USD) of one ISO 4217 currency.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// ErrCurrencyMismatch is returned when two amounts of different currencies meet.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// New returns minor units of the currency.
func New(minor int64, currency string) Money { return Money{Minor: minor, Currency: currency} }

// Zero returns nothing of the currency.
func Zero(currency string) Money { return Money{Currency: currency} }

// ValidCurrency reports whether c looks like an ISO 4217 code (three upper-case letters).
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// Add returns m+o; it fails when the currencies differ.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("add %s to %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	return Money{Minor: m.Minor + o.Minor, Currency: m.Currency}, nil
}

// Sub returns m-o; it fails when the currencies differ.
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("subtract %s from %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	return Money{Minor: m.Minor - o.Minor, Currency: m.Currency}, nil
}

// Times returns m multiplied by a whole quantity.
func (m Money) Times(q int64) Money { return Money{Minor: m.Minor * q, Currency: m.Currency} }

// BasisPoints returns bp/10000 of m, rounded half away from zero to the minor unit.
func (m Money) BasisPoints(bp int64) Money {
	n := m.Minor * bp
	q, r := n/10000, n%10000
	if r >= 5000 {
		q++
	} else if r <= -5000 {
		q--
	}
	return Money{Minor: q, Currency: m.Currency}
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Minor == 0 }

// String renders the amount with two decimals and the currency, e.g. "1234.50 EUR".
// Every currency orderflow trades in has two decimals; the minor unit is what is stored.
func (m Money) String() string {
	sign := ""
	v := m.Minor
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, v/100, v%100, m.Currency)
}

// Parse reads "1234.50 EUR" (the String form) back into Money.
func Parse(s string) (Money, error) {
	amount, cur, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || !ValidCurrency(cur) {
		return Money{}, fmt.Errorf("money %q: want \"<amount> <CUR>\"", s)
	}
	neg := strings.HasPrefix(amount, "-")
	amount = strings.TrimPrefix(amount, "-")
	whole, frac, _ := strings.Cut(amount, ".")
	if whole == "" || len(frac) > 2 {
		return Money{}, fmt.Errorf("money %q: at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var minor int64
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return Money{}, fmt.Errorf("money %q: not a number", s)
		}
		if minor > (1<<62)/10 {
			return Money{}, fmt.Errorf("money %q: too large", s)
		}
		minor = minor*10 + int64(r-'0')
	}
	if neg {
		minor = -minor
	}
	return Money{Minor: minor, Currency: cur}, nil
}
