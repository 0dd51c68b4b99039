package creditref

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The standard's published example: body 539007547034 carries check digits 18.
func TestNewStandardExample(t *testing.T) {
	t.Parallel()
	got, err := New("539007547034")
	if err != nil || got != "RF18539007547034" {
		t.Fatalf("New(539007547034) = %q, %v; want RF18539007547034", got, err)
	}
	if f := Format(got); f != "RF18 5390 0754 7034" {
		t.Fatalf("Format = %q", f)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, want string
		err        error
	}{
		{"539007547034", "RF18539007547034", nil},
		{"5390 0754 7034", "RF18539007547034", nil},
		{"inv000123", "", nil}, // letters upper-cased: checked via Valid below
		{"A", "", nil},
		{strings.Repeat("9", 21), "", nil},
		{"", "", ErrFormat},
		{strings.Repeat("9", 22), "", ErrFormat},
		{"INV-000123", "", ErrFormat},
		{"Müller", "", ErrFormat},
	}
	for _, tt := range tests {
		got, err := New(tt.body)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("New(%q) = %q, %v; want %v", tt.body, got, err, tt.err)
			}
			continue
		}
		if err != nil || !Valid(got) || (tt.want != "" && got != tt.want) {
			t.Errorf("New(%q) = %q, %v; want a valid %q", tt.body, got, err, tt.want)
		}
		if body, err := Parse(got); err != nil || body != strings.ToUpper(strings.ReplaceAll(tt.body, " ", "")) {
			t.Errorf("Parse(New(%q)) = %q, %v", tt.body, body, err)
		}
	}
}

func TestParseAndValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		body string
		err  error
	}{
		{"RF18539007547034", "539007547034", nil},
		{"RF18 5390 0754 7034", "539007547034", nil},
		{"rf18 5390 0754 7034", "539007547034", nil},
		{"RF19539007547034", "", ErrCheck},  // check digit off by one
		{"RF18539007547043", "", ErrCheck},  // last two digits swapped
		{"RF1853900754703", "", ErrCheck},   // a digit missing
		{"RF185390075470344", "", ErrCheck}, // a digit typed twice
		{"RF18539007557034", "", ErrCheck},  // one digit substituted
		{"", "", ErrFormat},
		{"RF18", "", ErrFormat},
		{"RFAB539007547034", "", ErrFormat},
		{"XX18539007547034", "", ErrFormat},
		{"RF18-5390-0754-7034", "", ErrFormat},
		{"RF18" + strings.Repeat("1", 22), "", ErrFormat},
		{"INV-000123", "", ErrFormat},
	}
	for _, tt := range tests {
		body, err := Parse(tt.in)
		if tt.err == nil {
			if err != nil || body != tt.body || !Valid(tt.in) {
				t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, body, err, tt.body)
			}
			continue
		}
		if !errors.Is(err, tt.err) || Valid(tt.in) {
			t.Errorf("Parse(%q) = %q, %v; want %v and not valid", tt.in, body, err, tt.err)
		}
	}
}

func TestCorrections(t *testing.T) {
	t.Parallel()
	const meant = "RF18539007547034"
	tests := []struct {
		name, typed string
	}{
		{"digit substituted", "RF18539007557034"},
		{"adjacent digits swapped", "RF18539007547043"},
		{"check digits swapped", "RF81539007547034"},
		{"digit missing", "RF1853900754703"},
		{"digit typed twice", "RF185390075470344"},
		{"spaces and case", "rf18 5390 0755 7034"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Corrections(tt.typed)
			if !slices.Contains(got, meant) {
				t.Fatalf("Corrections(%q) = %v, want it to hold %s", tt.typed, got, meant)
			}
			if !slices.IsSorted(got) {
				t.Fatalf("Corrections(%q) not sorted: %v", tt.typed, got)
			}
			for _, c := range got {
				if !Valid(c) {
					t.Fatalf("Corrections(%q) proposes invalid %q", tt.typed, c)
				}
			}
		})
	}
	if got := Corrections(meant); got != nil {
		t.Fatalf("Corrections of a valid reference = %v, want nil", got)
	}
	// Only letters and digits are mistyped: a hyphen is not read as a letter.
	if got := Corrections("RF18 5390-0754 7034"); len(got) != 0 {
		t.Fatalf("Corrections with a hyphen = %v, want nil", got)
	}
	// Two errors are beyond one typing error: the meant reference is not proposed.
	if got := Corrections("RF18539007557043"); slices.Contains(got, meant) {
		t.Fatalf("two errors corrected to %s", meant)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"RF18539007547034":   "RF18 5390 0754 7034",
		"rf18 5390075 47034": "RF18 5390 0754 7034",
		"RF712348231":        "RF71 2348 231",
		"":                   "",
	} {
		if got := Format(in); got != want {
			t.Errorf("Format(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("RF18 5390 0754 7034")
	f.Add("rf00")
	f.Add("RF99ZZZZZZZZZZZZZZZZZZZZZ")
	f.Fuzz(func(t *testing.T, s string) {
		body, err := Parse(s)
		if (err == nil) != Valid(s) {
			t.Fatalf("Parse(%q) err=%v but Valid=%v", s, err, Valid(s))
		}
		if err == nil {
			again, err := New(body)
			if err != nil || !Valid(again) {
				t.Fatalf("New(Parse(%q)) = %q, %v", s, again, err)
			}
		}
		if ref, err := New(s); err == nil {
			if !Valid(ref) || !Valid(Format(ref)) {
				t.Fatalf("New(%q) = %q does not validate", s, ref)
			}
			if got := Corrections(ref); got != nil {
				t.Fatalf("Corrections(valid %q) = %v", ref, got)
			}
		}
	})
}
