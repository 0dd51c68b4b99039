package scenario

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func load(t *testing.T, name string) Scenario {
	t.Helper()
	s, err := Load(filepath.Join("..", "..", "scenarios", name))
	require.NoError(t, err)
	return s
}

func TestScenarioFilesLoadAndExpand(t *testing.T) {
	t.Parallel()
	month := load(t, "month.yaml")
	p, err := Expand(month)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, p.Duration)
	require.Equal(t, 5*time.Minute, p.Compress(p.Duration), "the default month's requests take 5 minutes")
	require.GreaterOrEqual(t, len(p.Orders), 150)
	require.LessOrEqual(t, len(p.Orders), 300)
	lengths := map[string]time.Duration{}
	for _, w := range p.Outages {
		lengths[w.System] += w.End - w.Start
	}
	require.Equal(t, map[string]time.Duration{SystemERP: 2 * time.Hour, SystemCarrier: 6 * time.Hour, SystemSMTP: 30 * time.Minute}, lengths)
	for _, c := range p.Customers {
		require.True(t, c.Demo, c.ID)
		require.Nil(t, c.Terms, "a demo customer keeps its demo terms")
	}

	short := load(t, "short.yaml")
	sp, err := Expand(short)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(sp.Orders), 15)
	require.LessOrEqual(t, len(sp.Orders), 30)
	require.Equal(t, 4*24*time.Hour, sp.Duration)
}

// The short plan's counts are what the CI run will assert against; a
// change to the expansion that moves them must be deliberate
// (go test ./internal/scenario -run Golden -update).
func TestShortPlanSummaryGolden(t *testing.T) {
	t.Parallel()
	p, err := Expand(load(t, "short.yaml"))
	require.NoError(t, err)
	got := p.Summarize().String()
	golden := filepath.Join("testdata", "short.summary.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

func TestTimeScaleDefaultsAndCompresses(t *testing.T) {
	t.Parallel()
	s := load(t, "short.yaml")
	s.TimeScale = 0
	p, err := Expand(s)
	require.NoError(t, err)
	require.Equal(t, float64(DefaultTimeScale), p.TimeScale)
	require.Equal(t, 10*time.Minute, p.Compress(30*24*time.Hour))
	require.Equal(t, time.Second, Compress(time.Hour, 3600))
	require.Equal(t, 2*time.Hour, Compress(time.Hour, 0.5), "a scale below 1 slows time down")
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30d": 30 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute, "0d": 0, "2h30m": 150 * time.Minute, "-2h": -2 * time.Hour,
	} {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		back, err := ParseDuration(FormatDuration(got))
		require.NoError(t, err, in)
		require.Equal(t, got, back, "FormatDuration(%s) reads back", in)
	}
	for _, in := range []string{"", "d", "3", "3days", "1.5d", "1d-2h", "99999d", "x2h"} {
		_, err := ParseDuration(in)
		require.Error(t, err, in)
	}
}

// Each case breaks one field of the valid short scenario; the error names
// that field's YAML path and nothing else.
func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		path, msg string
		mutate    func(s *Scenario)
	}{
		{"name", "missing", func(s *Scenario) { s.Name = " " }},
		{"duration", "above 0", func(s *Scenario) { s.Duration = 0 }},
		{"time_scale", "above 0", func(s *Scenario) { s.TimeScale = -1 }},
		{"customers", "at least one customer", func(s *Scenario) { s.Customers = nil }},
		{"customers[1].id", "missing", func(s *Scenario) { s.Customers[1].ID = "" }},
		{"customers[2].id", "repeats customers[0]", func(s *Scenario) { s.Customers[2].ID = "ACME-001" }},
		{"customers[0].id", "without spaces", func(s *Scenario) { s.Customers[0].ID = "ACME 001" }},
		{"customers[0].buyers", "from 1 to", func(s *Scenario) { s.Customers[0].Buyers = MaxBuyers + 1 }},
		{"customers[1].rhythm.mean_interval", "at least 1m", func(s *Scenario) { s.Customers[1].Rhythm.MeanInterval = Duration(time.Second) }},
		{"customers[1].rhythm.mean_interval", "more than 100000 orders", func(s *Scenario) {
			s.Customers[1].Buyers = 1000
			s.Customers[1].Rhythm = Rhythm{MeanInterval: Duration(time.Minute)}
		}},
		{"customers[0].rhythm.jitter", "above mean_interval", func(s *Scenario) { s.Customers[0].Rhythm.Jitter = Duration(2 * 24 * time.Hour) }},
		{"customers[0].rhythm.jitter", "negative", func(s *Scenario) { s.Customers[0].Rhythm.Jitter = -1 }},
		{"customers[2].lines", "at least one line", func(s *Scenario) { s.Customers[2].Lines = nil }},
		{"customers[1].lines[0].sku", "missing", func(s *Scenario) { s.Customers[1].Lines[0].SKU = "" }},
		{"customers[1].lines[0].quantity.max", "below min", func(s *Scenario) { s.Customers[1].Lines[0].Quantity = Range{Min: 5, Max: 4} }},
		{"customers[1].lines[0].quantity.min", "at least 1", func(s *Scenario) { s.Customers[1].Lines[0].Quantity.Min = 0 }},
		{"customers[0].lines[1].probability", "above 0 and at most 1", func(s *Scenario) { s.Customers[0].Lines[1].Probability = f(1.5) }},
		{"quotes.outcomes", "weights sum to 0", func(s *Scenario) { s.Quotes.Outcomes = QuoteWeights{} }},
		{"quotes.outcomes.silent", "from 0 up", func(s *Scenario) { s.Quotes.Outcomes.Silent = -1 }},
		{"quotes.decision_delay.max", "below min", func(s *Scenario) { s.Quotes.DecisionDelay.Max = 1 }},
		{"quotes.revision_delay.kind", "\"normal\" is none of", func(s *Scenario) { s.Quotes.RevisionDelay.Kind = "normal" }},
		{"quotes.revision_delay.min", "not used by kind fixed", func(s *Scenario) { s.Quotes.RevisionDelay.Min = Duration(time.Hour) }},
		{"approvals.outcomes", "weights sum to 0", func(s *Scenario) { s.Approvals.Outcomes = ApprovalWeights{} }},
		{"approvals.delay.kind", "missing", func(s *Scenario) { s.Approvals.Delay = Distribution{} }},
		{"credit.outcomes", "weights sum to 0", func(s *Scenario) { s.Credit.Outcomes = CreditWeights{} }},
		{"credit.decisions", "weights sum to 0", func(s *Scenario) { s.Credit.Decisions = DecisionWeights{} }},
		{"credit.decision_delay.value", "negative", func(s *Scenario) { s.Credit.DecisionDelay.Value = -1 }},
		{"carrier.exceptions", "weights sum to 0", func(s *Scenario) { s.Carrier.Exceptions = CarrierWeights{} }},
		{"payments.behaviour", "weights sum to 0", func(s *Scenario) { s.Payments.Behaviour = PaymentWeights{} }},
		{"payments.bank_fee_minor", "at least 1", func(s *Scenario) { s.Payments.BankFeeMinor = 0 }},
		{"payments.split_parts", "from 2 to 12", func(s *Scenario) { s.Payments.SplitParts = 1 }},
		{"payments.group_size", "from 2 to 50", func(s *Scenario) { s.Payments.GroupSize = 0 }},
		{"payments.late_by.kind", "missing", func(s *Scenario) { s.Payments.LateBy = Distribution{} }},
		{"survey.unanswered", "from 0 to 1", func(s *Scenario) { s.Survey.Unanswered = 1.2 }},
		{"survey.bands", "weights sum to 0", func(s *Scenario) { s.Survey.Bands = SurveyWeights{} }},
		{"survey.delay.mean", "above 0", func(s *Scenario) { s.Survey.Delay.Mean = 0 }},
		{"outages[0].system", "\"bank\" is none of erp, carrier, smtp", func(s *Scenario) { s.Outages[0].System = "bank" }},
		{"outages[2].start", "after the scenario's end", func(s *Scenario) { s.Outages[2].Start = Duration(5 * 24 * time.Hour) }},
		{"outages[2].length", "runs past the scenario's end", func(s *Scenario) { s.Outages[2].Length = Duration(2 * 24 * time.Hour) }},
		{"outages[0].length", "above 0", func(s *Scenario) { s.Outages[0].Length = 0 }},
		{"outages[0].mode", "is none of errors, latency", func(s *Scenario) { s.Outages[0].Mode = "down" }},
		{"outages[1].latency", "above 0", func(s *Scenario) { s.Outages[1].Latency = 0 }},
		{"outages[0].latency", "only with mode latency", func(s *Scenario) { s.Outages[0].Latency = Duration(time.Second) }},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+tc.msg, func(t *testing.T) {
			s := load(t, "short.yaml")
			tc.mutate(&s)
			err := s.Validate()
			require.Error(t, err)
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			require.Equal(t, tc.path, fe.Path, "the error names the field: %v", err)
			require.Contains(t, fe.Msg, tc.msg)
			require.Len(t, strings.Split(err.Error(), "\n"), 1, "one bad field, one error: %v", err)
			_, err = Expand(s)
			require.ErrorContains(t, err, tc.path+": ", "Expand validates too")
		})
	}
}

// What only the decoder sees: fields the format does not know, values of
// the wrong type, a second document.
func TestParseRejects(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "short.yaml"))
	require.NoError(t, err)
	good := string(b)
	for name, tc := range map[string]struct{ in, want string }{
		"a typo is an unknown field":    {strings.Replace(good, "mean_interval: 2d", "mean_intervall: 2d", 1), "field mean_intervall not found"},
		"a bad duration names its line": {strings.Replace(good, "duration: 4d", "duration: 4 days", 1), `line 7: "4 days": not a duration`},
		"a duration is a string":        {strings.Replace(good, "duration: 4d", "duration: [4d]", 1), "line 7: a duration is a string"},
		"a weight is a number":          {strings.Replace(good, "exact: 30", "exact: lots", 1), "cannot unmarshal"},
		"empty":                         {"", "empty scenario"},
		"two documents":                 {good + "\n---\nname: again\n", "more than one YAML document"},
		"validation runs":               {strings.Replace(good, "max: 500}}", "max: 50}, probability: 2}", 1), "customers[0].lines[0].quantity.max: below min"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = Load(filepath.Join("testdata", "missing.yaml"))
	require.Error(t, err)
}

// A scenario written back with yaml.Marshal reads back the same: the
// Duration form round-trips.
func TestScenarioRoundTrips(t *testing.T) {
	t.Parallel()
	s := load(t, "month.yaml")
	b, err := yaml.Marshal(s)
	require.NoError(t, err)
	back, err := Parse(b)
	require.NoError(t, err, string(b))
	require.Equal(t, s, back)
}

func TestExpandLeavesTheCallersScenarioAlone(t *testing.T) {
	t.Parallel()
	s := load(t, "short.yaml")
	s.Customers[2].Buyers = 0
	_, err := Expand(s)
	require.NoError(t, err)
	require.Zero(t, s.Customers[2].Buyers)
}
