package matching

import (
	"strings"
	"unicode"
)

// key is s upper-cased with everything but ASCII letters and digits
// dropped: the form in which references are compared ("inv-000123" and
// "INV 000123" are both INV000123).
func key(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := upper(s[i]); isAlnum(c) {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// text is a reference text in its compared form, with where each kept
// character stood in the original so that word boundaries can be checked.
type text struct {
	orig string
	key  string
	pos  []int
}

func newText(s string) text {
	t := text{orig: s}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := upper(s[i]); isAlnum(c) {
			b.WriteByte(c)
			t.pos = append(t.pos, i)
		}
	}
	t.key = b.String()
	return t
}

// contains reports whether k (a key) occurs in the text as a whole word:
// no letter or digit right before or after it in the original, so
// INV-00012 is not found in "INV-000123".
func (t text) contains(k string) bool {
	if k == "" {
		return false
	}
	for from := 0; ; {
		i := strings.Index(t.key[from:], k)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(k)
		if t.boundaryBefore(start) && t.boundaryAfter(end) {
			return true
		}
		from = start + 1
	}
}

// boundaryBefore: the kept character at i starts a word in the original.
func (t text) boundaryBefore(i int) bool {
	return i == 0 || !isAlnum(upper(t.orig[t.pos[i]-1]))
}

// boundaryAfter: the kept characters end at i at the end of a word.
func (t text) boundaryAfter(i int) bool {
	if i == len(t.key) {
		return true
	}
	p := t.pos[i-1] + 1
	return p >= len(t.orig) || !isAlnum(upper(t.orig[p]))
}

// rfCandidates returns what could be a typed RF reference: from each RF
// that starts a word, the letters and digits that follow across single
// spaces (an RF is printed in groups of four), ending at each word end.
func (t text) rfCandidates() []string {
	var out []string
	for i := 0; i+1 < len(t.key); i++ {
		if t.key[i] != 'R' || t.key[i+1] != 'F' || !t.boundaryBefore(i) {
			continue
		}
		for j := i + 2; j < len(t.key) && j-i <= 26; j++ {
			// Only across single spaces: a comma or two spaces end it.
			if gap := t.orig[t.pos[j-1]+1 : t.pos[j]]; gap != "" && gap != " " {
				break
			}
			if j+1-i >= 5 && t.boundaryAfter(j+1) {
				out = append(out, t.key[i:j+1])
			}
		}
	}
	return out
}

// words returns the text's words in key form (letters, digits and the
// hyphens, slashes and dots inside them kept together, then keyed), and
// each word joined with the next, so "INV 000132" is seen as INV000132.
func (t text) words() []string {
	fields := strings.FieldsFunc(t.orig, func(r rune) bool {
		return !(r < unicode.MaxASCII && isAlnum(upper(byte(r)))) && r != '-' && r != '/' && r != '.'
	})
	var out []string
	for i, f := range fields {
		k := key(f)
		if k == "" {
			continue
		}
		out = append(out, k)
		if i+1 < len(fields) {
			out = append(out, k+key(fields[i+1]))
		}
	}
	return out
}

// oneTypo reports whether typed is want with one common typing error: one
// character substituted by one of its kind (digit for digit, letter for
// letter), two adjacent characters swapped, one missing, or one doubled.
func oneTypo(typed, want string) bool {
	switch len(typed) - len(want) {
	case 0:
		var diff []int
		for i := 0; i < len(typed); i++ {
			if typed[i] != want[i] {
				diff = append(diff, i)
				if len(diff) > 2 {
					return false
				}
			}
		}
		switch len(diff) {
		case 1:
			return isDigit(typed[diff[0]]) == isDigit(want[diff[0]])
		case 2:
			i, j := diff[0], diff[1]
			return j == i+1 && typed[i] == want[j] && typed[j] == want[i]
		}
		return false
	case -1:
		// Missing: typed is want with one character dropped.
		for i := 0; i < len(want); i++ {
			if want[:i]+want[i+1:] == typed {
				return true
			}
		}
		return false
	case 1:
		// Doubled: typed is want with one character typed twice.
		for i := 1; i < len(typed); i++ {
			if typed[i] == typed[i-1] && typed[:i]+typed[i+1:] == want {
				return true
			}
		}
		return false
	}
	return false
}

// legalForms are dropped from names before comparing them.
var legalForms = map[string]bool{
	"gmbh": true, "ltd": true, "limited": true, "inc": true, "ag": true, "sa": true,
	"llc": true, "corp": true, "plc": true, "kg": true, "co": true, "bv": true, "nv": true,
	"sarl": true, "sas": true, "srl": true, "spa": true, "se": true,
}

// normaliseName lower-cases the name, turns punctuation into spaces and
// drops the legal forms: "ACME Industrial, GmbH & Co. KG" → "acme industrial".
func normaliseName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		} else if r != '.' {
			b.WriteByte(' ')
		}
	}
	var words []string
	for _, w := range strings.Fields(b.String()) {
		if !legalForms[w] {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}

// similarity is 1 minus the edit distance over the longer length: 1 for
// equal names, 0.9 for one edit in ten characters.
func similarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	n := max(len(ra), len(rb))
	if n == 0 {
		return 0
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(n)
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c >= 'A' && c <= 'Z') }
