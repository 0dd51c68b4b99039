package customer

import (
	"errors"
	"fmt"
	"time"
)

// Settings are the customer workflow's business rules. The worker reads
// them from its configuration (ORDERFLOW_CUSTOMER_*); each run of a
// customer workflow asks for them once, at its start.
type Settings struct {
	// ReminderLead: a reorder reminder goes out this long before the
	// product's expected next order.
	ReminderLead time.Duration `json:"reminder_lead"`
	// DormantFactor: a customer is dormant when its silence exceeds this
	// many times its median interval between orders.
	DormantFactor float64 `json:"dormant_factor"`
	// QuoteNudges: nudges of an unanswered quote, as offsets from when it
	// was sent, ascending.
	QuoteNudges []time.Duration `json:"quote_nudges"`
	// FrequencyCap marketing mails per contact per FrequencyWindow.
	FrequencyCap    int           `json:"frequency_cap"`
	FrequencyWindow time.Duration `json:"frequency_window"`
	// MinOrders: a customer needs this many orders before it can be dormant.
	MinOrders int `json:"min_orders"`
	// MinInterval: orders closer together than this are one purchase for
	// the customer's rhythm (a split order, a forgotten item): their
	// quantities add up and they make no interval.
	MinInterval time.Duration `json:"min_interval"`
}

// Day is 24 hours: business rules here count days of the calendar in UTC.
const Day = 24 * time.Hour

// DefaultSettings are the settings without configuration.
func DefaultSettings() Settings {
	return Settings{
		ReminderLead:    5 * Day,
		DormantFactor:   2.0,
		QuoteNudges:     []time.Duration{2 * Day, 5 * Day},
		FrequencyCap:    1,
		FrequencyWindow: 7 * Day,
		MinOrders:       3,
		MinInterval:     Day,
	}
}

// Validate says what is wrong with the settings.
func (s Settings) Validate() error {
	var errs []error
	if s.ReminderLead < 0 {
		errs = append(errs, fmt.Errorf("reminder lead %s is negative", s.ReminderLead))
	}
	if !(s.DormantFactor >= 1) || s.DormantFactor > 100 {
		errs = append(errs, fmt.Errorf("dormant factor %g: between 1 and 100", s.DormantFactor))
	}
	for i, n := range s.QuoteNudges {
		if n <= 0 {
			errs = append(errs, fmt.Errorf("quote nudge %d (%s): positive", i+1, n))
		} else if i > 0 && n <= s.QuoteNudges[i-1] {
			errs = append(errs, fmt.Errorf("quote nudge %d (%s): after the one before", i+1, n))
		}
	}
	if len(s.QuoteNudges) > 10 {
		errs = append(errs, fmt.Errorf("%d quote nudges: at most 10", len(s.QuoteNudges)))
	}
	if s.FrequencyCap < 1 {
		errs = append(errs, fmt.Errorf("frequency cap %d: at least 1", s.FrequencyCap))
	}
	if s.FrequencyWindow <= 0 {
		errs = append(errs, fmt.Errorf("frequency window %s: positive", s.FrequencyWindow))
	}
	if s.MinInterval < 0 || s.MinInterval > 365*Day {
		errs = append(errs, fmt.Errorf("min interval %s: between 0 and 365 days", s.MinInterval))
	}
	if s.MinOrders < 3 {
		errs = append(errs, fmt.Errorf("min orders %d: at least 3 (two intervals make a rhythm)", s.MinOrders))
	}
	return errors.Join(errs...)
}
