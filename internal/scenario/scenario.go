package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultTimeScale is the time scale of a scenario that names none: 4320
// business seconds per wall second, so 30 business days run in 10 minutes.
const DefaultTimeScale = 4320

// Limits that keep a scenario playable and its expansion bounded.
const (
	// MaxOrders is the most orders a scenario may expect to place (the sum
	// over its buyers of duration / mean_interval).
	MaxOrders = 100_000
	// MaxBuyers is the most buyers one customer may have.
	MaxBuyers = 1000
	// MaxQuantity is the largest quantity a line may order.
	MaxQuantity = 1_000_000
	// MinInterval is the shortest mean interval between one buyer's orders.
	MinInterval = time.Minute
	// MaxDuration is the longest duration any field may hold (10 years).
	MaxDuration = 3650 * 24 * time.Hour
)

// DemoCustomers are the customers the demo data (store and ERP simulator
// seeds) already holds, with their terms. A scenario customer with another
// id is new: Plan draws its terms from the seed.
var DemoCustomers = []string{"ACME-001", "GLOBEX-002", "INITECH-003"}

// Scenario is a scenario file as read: a span of trading, who orders and
// how every party behaves.
type Scenario struct {
	// Name names the scenario in reports and order references.
	Name string `yaml:"name"`
	// Seed seeds every random draw of Plan.
	Seed uint64 `yaml:"seed"`
	// Duration is the business time the scenario spans; orders are
	// requested within it.
	Duration Duration `yaml:"duration"`
	// TimeScale is business seconds per wall second; 0 means
	// DefaultTimeScale.
	TimeScale float64 `yaml:"time_scale"`
	// Customers order, each through one or more buyers.
	Customers []Customer `yaml:"customers"`
	// Quotes is how buyers answer quotes.
	Quotes Quotes `yaml:"quotes"`
	// Approvals is how approvers answer, when the system asks for one.
	Approvals Approvals `yaml:"approvals"`
	// Credit is which orders the scenario pushes over the credit limit and
	// how finance decides them.
	Credit Credit `yaml:"credit"`
	// Carrier is what goes wrong with shipments.
	Carrier Carrier `yaml:"carrier"`
	// Payments is how payers pay.
	Payments Payments `yaml:"payments"`
	// Survey is how buyers answer the NPS survey.
	Survey Survey `yaml:"survey"`
	// Outages are windows in which a downstream system fails or slows.
	Outages []Outage `yaml:"outages"`
}

// Customer is a customer and its order rhythm.
type Customer struct {
	// ID is the customer's id: a demo customer's or a new one.
	ID string `yaml:"id"`
	// Buyers is how many buyers (sites, departments) order independently,
	// each at the customer's rhythm; 0 means 1.
	Buyers int `yaml:"buyers"`
	// Rhythm is how often each buyer orders.
	Rhythm Rhythm `yaml:"rhythm"`
	// Lines are what the customer orders.
	Lines []Line `yaml:"lines"`
}

// Rhythm is one buyer's order rhythm: the time between two orders is
// MeanInterval plus a uniform draw in [-Jitter, +Jitter]; the first order
// falls uniformly in the first MeanInterval.
type Rhythm struct {
	MeanInterval Duration `yaml:"mean_interval"`
	Jitter       Duration `yaml:"jitter"`
}

// Line is an article a customer orders.
type Line struct {
	SKU string `yaml:"sku"`
	// Quantity is drawn uniformly from the range.
	Quantity Range `yaml:"quantity"`
	// Probability is the chance, above 0 and at most 1, that an order
	// carries this line; unset means 1. An order whose draws pick no line
	// carries one line picked uniformly.
	Probability *float64 `yaml:"probability"`
}

// Range is an inclusive integer range.
type Range struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Quotes is the buyers' answers to quotes.
type Quotes struct {
	Outcomes QuoteWeights `yaml:"outcomes"`
	// DecisionDelay is from the quote's mail to the buyer's answer
	// (accept, revision request or rejection).
	DecisionDelay Distribution `yaml:"decision_delay"`
	// RevisionDelay is from the revised quote's mail to its acceptance.
	RevisionDelay Distribution `yaml:"revision_delay"`
}

// Approvals is the approvers' answers.
type Approvals struct {
	Outcomes ApprovalWeights `yaml:"outcomes"`
	// Delay is from the approval request to the answer.
	Delay Distribution `yaml:"delay"`
}

// Credit is the credit checks the scenario forces and finance's decisions.
type Credit struct {
	Outcomes  CreditWeights   `yaml:"outcomes"`
	Decisions DecisionWeights `yaml:"decisions"`
	// DecisionDelay is from the credit hold to finance's decision.
	DecisionDelay Distribution `yaml:"decision_delay"`
}

// Carrier is what happens to shipments.
type Carrier struct {
	Exceptions CarrierWeights `yaml:"exceptions"`
}

// Payments is the payers' behaviour.
type Payments struct {
	Behaviour PaymentWeights `yaml:"behaviour"`
	// Delay is from the invoice to the payment, for every behaviour but
	// late and never.
	Delay Distribution `yaml:"delay"`
	// LateBy is how long after the due date a late payment arrives.
	LateBy Distribution `yaml:"late_by"`
	// BankFeeMinor is what a bank_fee payment falls short, in minor units.
	BankFeeMinor int64 `yaml:"bank_fee_minor"`
	// SplitParts is how many payments a split payment is made of.
	SplitParts int `yaml:"split_parts"`
	// GroupSize is how many of a customer's invoices one grouped
	// remittance pays.
	GroupSize int `yaml:"group_size"`
}

// Survey is the buyers' NPS answers.
type Survey struct {
	// Unanswered is the share, 0 to 1, of surveys left unanswered.
	Unanswered float64 `yaml:"unanswered"`
	// Bands weighs the answered scores: promoter 9–10, passive 7–8,
	// detractor 0–6, the score uniform within its band.
	Bands SurveyWeights `yaml:"bands"`
	// Delay is from the survey mail to the answer.
	Delay Distribution `yaml:"delay"`
}

// Systems an outage may hit.
const (
	SystemERP     = "erp"
	SystemCarrier = "carrier"
	SystemSMTP    = "smtp"
)

// Outage modes.
const (
	// ModeErrors fails every call in the window.
	ModeErrors = "errors"
	// ModeLatency adds Latency to every call in the window.
	ModeLatency = "latency"
)

// Outage is a window in which a downstream system fails or slows.
type Outage struct {
	System string `yaml:"system"`
	// Start is business time since the scenario's start.
	Start  Duration `yaml:"start"`
	Length Duration `yaml:"length"`
	Mode   string   `yaml:"mode"`
	// Latency is added to every call; only with mode latency.
	Latency Duration `yaml:"latency"`
}

// Load reads and validates the scenario file at path.
func Load(path string) (Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, err
	}
	s, err := Parse(b)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse decodes one YAML document into a Scenario, fills the defaults and
// validates it. A field the format does not know is an error (named with
// its line); a value out of bounds is an error naming its YAML path.
func Parse(b []byte) (Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Scenario{}, errors.New("empty scenario")
		}
		return Scenario{}, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Scenario{}, errors.New("more than one YAML document: a scenario file holds one")
	}
	s.fillDefaults()
	if err := s.Validate(); err != nil {
		return Scenario{}, err
	}
	return s, nil
}

func (s *Scenario) fillDefaults() {
	if s.TimeScale == 0 {
		s.TimeScale = DefaultTimeScale
	}
	for i := range s.Customers {
		if s.Customers[i].Buyers == 0 {
			s.Customers[i].Buyers = 1
		}
	}
}

// Duration is a time.Duration written as Go writes one ("90m", "2h30m")
// or with a leading count of days ("30d", "1d12h").
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration is a string such as 2h or 3d", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back in the form UnmarshalYAML reads.
func (d Duration) MarshalYAML() (any, error) { return FormatDuration(time.Duration(d)), nil }

// ParseDuration reads "30d", "1d12h", "-2h" or anything time.ParseDuration
// reads.
func ParseDuration(s string) (time.Duration, error) {
	str := strings.TrimSpace(s)
	neg := strings.HasPrefix(str, "-")
	str = strings.TrimPrefix(str, "-")
	var days time.Duration
	hadDays := false
	if i := strings.IndexByte(str, 'd'); i >= 0 {
		hadDays = true
		n, err := strconv.ParseUint(str[:i], 10, 32)
		if err != nil || n > uint64(MaxDuration/(24*time.Hour)) {
			return 0, fmt.Errorf("%q: not a duration (days are a whole number up to %d, as in 3d or 1d12h)", s, MaxDuration/(24*time.Hour))
		}
		days = time.Duration(n) * 24 * time.Hour
		str = str[i+1:]
	}
	var rest time.Duration
	if str != "" {
		v, err := time.ParseDuration(str)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%q: not a duration (write 90m, 2h or 3d)", s)
		}
		rest = v
	} else if !hadDays {
		return 0, fmt.Errorf("%q: not a duration (write 90m, 2h or 3d)", s)
	}
	if rest > MaxDuration {
		return 0, fmt.Errorf("%q: longer than %s", s, FormatDuration(MaxDuration))
	}
	d := days + rest
	if neg {
		d = -d
	}
	return d, nil
}

// FormatDuration writes d as ParseDuration reads it, whole days as "Nd".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	day := 24 * time.Hour
	if d >= day {
		days, rest := d/day, d%day
		if rest == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%s", days, rest)
	}
	return d.String()
}
