// Package creditref builds, checks and corrects ISO 11649 creditor
// references ("RF references"): RF, two check digits and a body of 1 to 21
// letters and digits, e.g. RF18 5390 0754 7034. The check digits are ISO
// 7064 mod 97-10 over the body followed by "RF": a payer who mistypes one
// character, swaps two neighbours, drops one or types one twice makes a
// reference that fails [Valid], so the mistake is seen before the payment
// is applied. [Corrections] lists the valid references one such typing
// error away; which of them is meant is for the caller to decide (the
// matcher takes one only when exactly one is a reference it issued).
package creditref

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxBody is the longest body the standard allows (25 characters in all).
const MaxBody = 21

// ErrFormat is returned for text that is not shaped like a creditor
// reference: no RF, check digits that are not digits, a body that is empty,
// too long or not letters and digits.
var ErrFormat = errors.New("not a creditor reference")

// ErrCheck is returned for a reference shaped right whose check digits do not
// match its body: a typing error.
var ErrCheck = errors.New("creditor reference check digits do not match")

// New returns the creditor reference for body: RF, the two check digits and
// the body upper-cased, without spaces (spaces in body are dropped).
func New(body string) (string, error) {
	b := compact(body)
	if err := checkBody(b); err != nil {
		return "", fmt.Errorf("creditor reference body %q: %w", body, err)
	}
	return fmt.Sprintf("RF%02d%s", 98-mod97(b+"RF00"), b), nil
}

// Valid reports whether s is a creditor reference with matching check
// digits. Spaces are ignored and case does not matter.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// Parse returns the body of the creditor reference s (spaces dropped,
// upper-cased). It fails with [ErrFormat] or [ErrCheck].
func Parse(s string) (string, error) {
	c := compact(s)
	if len(c) < 5 || c[:2] != "RF" || !isDigit(c[2]) || !isDigit(c[3]) {
		return "", fmt.Errorf("%q: %w", s, ErrFormat)
	}
	body := c[4:]
	if err := checkBody(body); err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	if mod97(body+c[:4]) != 1 {
		return "", fmt.Errorf("%q: %w", s, ErrCheck)
	}
	return body, nil
}

// Format returns s without spaces, upper-cased, in groups of four
// characters separated by one space, as printed on an invoice:
// "RF18 5390 0754 7034". It does not check s.
func Format(s string) string {
	c := compact(s)
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(c[i])
	}
	return b.String()
}

// Corrections returns the valid creditor references that one common typing
// error turns into s, sorted and without repeats: one character substituted
// (a digit for a digit, a letter for a letter), two adjacent characters
// swapped, one character missing, or one character typed twice. Spaces and
// case in s are ignored. It returns nil when s is valid (nothing to
// correct). Several candidates are normal: mod 97 detects every such error
// but cannot say which of the valid neighbours was meant.
func Corrections(s string) []string {
	c := compact(s)
	if Valid(c) || len(c) > 4+MaxBody+1 {
		return nil
	}
	seen := map[string]bool{}
	try := func(v string) {
		if !seen[v] && Valid(v) {
			seen[v] = true
		}
	}
	const digits, letters = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := 0; i < len(c); i++ {
		// Substituted: the same kind of character typed in its place.
		alphabet := ""
		switch {
		case isDigit(c[i]):
			alphabet = digits
		case c[i] >= 'A' && c[i] <= 'Z':
			alphabet = letters
		}
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] != c[i] {
				try(c[:i] + string(alphabet[j]) + c[i+1:])
			}
		}
		// Swapped with its right neighbour.
		if i+1 < len(c) && c[i] != c[i+1] {
			try(c[:i] + string(c[i+1]) + string(c[i]) + c[i+2:])
		}
		// Typed twice: drop one of the pair.
		if i > 0 && c[i] == c[i-1] {
			try(c[:i] + c[i+1:])
		}
	}
	// Missing: any character at any place.
	for i := 0; i <= len(c); i++ {
		for _, alphabet := range []string{digits, letters} {
			for j := 0; j < len(alphabet); j++ {
				try(c[:i] + string(alphabet[j]) + c[i:])
			}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// compact drops spaces and upper-cases ASCII letters.
func compact(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ':
			continue
		case ch >= 'a' && ch <= 'z':
			ch -= 'a' - 'A'
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func checkBody(b string) error {
	if len(b) < 1 || len(b) > MaxBody {
		return fmt.Errorf("body of %d characters, want 1 to %d: %w", len(b), MaxBody, ErrFormat)
	}
	for i := 0; i < len(b); i++ {
		if !isDigit(b[i]) && (b[i] < 'A' || b[i] > 'Z') {
			return fmt.Errorf("body holds %q, want letters and digits: %w", b[i], ErrFormat)
		}
	}
	return nil
}

// mod97 returns the number that s spells, digits as themselves and letters
// A=10 … Z=35, modulo 97. s holds only digits and upper-case letters.
func mod97(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n = (n*10 + int(s[i]-'0')) % 97
		} else {
			n = (n*100 + int(s[i]-'A') + 10) % 97
		}
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
