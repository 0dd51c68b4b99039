package money

import "testing"

func TestBasisPointsRounding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor, bp, want int64
	}{
		{10000, 1000, 1000}, // 10% of 100.00
		{999, 1000, 100},    // 9.99*10% = 0.999 -> 1.00
		{1005, 500, 50},     // 0.5025 -> 0.50
		{1010, 500, 51},     // 0.505 -> 0.51 (half away from zero)
		{-1010, 500, -51},   // symmetric for credits
		{12345, 0, 0},
	}
	for _, tt := range tests {
		if got := New(tt.minor, "EUR").BasisPoints(tt.bp).Minor; got != tt.want {
			t.Errorf("%d * %dbp = %d, want %d", tt.minor, tt.bp, got, tt.want)
		}
	}
}

func TestAddRefusesMixedCurrencies(t *testing.T) {
	t.Parallel()
	if _, err := New(1, "EUR").Add(New(1, "USD")); err == nil {
		t.Fatal("adding EUR and USD succeeded")
	}
	got, err := New(150, "EUR").Add(New(250, "EUR"))
	if err != nil || got != New(400, "EUR") {
		t.Fatalf("1.50+2.50 = %v, %v", got, err)
	}
}

func TestStringParseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, m := range []Money{New(0, "EUR"), New(5, "EUR"), New(123456, "USD"), New(-1999, "GBP")} {
		got, err := Parse(m.String())
		if err != nil || got != m {
			t.Errorf("Parse(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	for _, bad := range []string{"", "12", "1.234 EUR", "abc EUR", "10 eur", "1.2.3 EUR"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("12.34 EUR")
	f.Add("-0.01 USD")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(m.String())
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, m, m.String(), back, err)
		}
	})
}
