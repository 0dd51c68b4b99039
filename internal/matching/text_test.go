package matching

import "testing"

func TestOneTypo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typed, want string
		ok          bool
	}{
		{"INV000124", "INV000123", true},   // digit for digit
		{"INV000132", "INV000123", true},   // adjacent swapped
		{"INV00123", "INV000123", true},    // one missing
		{"INV0001233", "INV000123", true},  // one doubled
		{"INV000123", "INV000123", false},  // no error is not a typo
		{"INV00012A", "INV000123", false},  // letter for digit
		{"INV000312", "INV000123", false},  // not adjacent
		{"INV000214", "INV000123", false},  // two errors
		{"INV0001234", "INV000123", false}, // extra character, not doubled
		{"INV0023", "INV000123", false},    // two missing
		{"", "A", true},
		{"JNV000123", "INV000123", true}, // letter for letter
	}
	for _, tt := range tests {
		if got := oneTypo(tt.typed, tt.want); got != tt.ok {
			t.Errorf("oneTypo(%q, %q) = %v, want %v", tt.typed, tt.want, got, tt.ok)
		}
	}
}

func TestTextContainsWholeWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		ok   bool
	}{
		{"INV-000123", true},
		{"Payment inv 000123, thanks", true},
		{"re:INV000123.", true},
		{"INV-0001234", false},
		{"XINV-000123", false},
		{"INV-00012", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := newText(tt.text).contains("INV000123"); got != tt.ok {
			t.Errorf("%q contains INV000123 = %v, want %v", tt.text, got, tt.ok)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Acme Industrial GmbH":           "acme industrial",
		"ACME INDUSTRIAL, GmbH & Co. KG": "acme industrial",
		"Beta Tools Ltd.":                "beta tools",
		"Gamma A.G.":                     "gamma",
		"Delta Pumps S.A.":               "delta pumps",
		"Müller Maschinenbau AG":         "müller maschinenbau",
		"Inc":                            "",
		"Epsilon-Systems, Inc":           "epsilon systems",
	} {
		if got := normaliseName(in); got != want {
			t.Errorf("normaliseName(%q) = %q, want %q", in, got, want)
		}
	}
	if s := similarity("beta tols", "beta tools"); s != 0.9 {
		t.Errorf("similarity = %v, want 0.9", s)
	}
}
