package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/internal/customer"
)

func TestCustomerSettingsDefaultAndOverride(t *testing.T) {
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Customer, customer.DefaultSettings()) {
		t.Fatalf("defaults differ from customer.DefaultSettings: %+v", c.Customer)
	}
	t.Setenv("ORDERFLOW_CUSTOMER_REMINDER_LEAD", "1h")
	t.Setenv("ORDERFLOW_CUSTOMER_DORMANT_FACTOR", "1.5")
	t.Setenv("ORDERFLOW_CUSTOMER_QUOTE_NUDGES", "10m, 30m")
	t.Setenv("ORDERFLOW_CUSTOMER_FREQUENCY_CAP", "3")
	t.Setenv("ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW", "24h")
	t.Setenv("ORDERFLOW_CUSTOMER_MIN_ORDERS", "4")
	t.Setenv("ORDERFLOW_CUSTOMER_MIN_INTERVAL", "2h")
	c, err = FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := customer.Settings{ReminderLead: time.Hour, DormantFactor: 1.5, QuoteNudges: []time.Duration{10 * time.Minute, 30 * time.Minute},
		FrequencyCap: 3, FrequencyWindow: 24 * time.Hour, MinOrders: 4, MinInterval: 2 * time.Hour}
	if !reflect.DeepEqual(c.Customer, want) {
		t.Fatalf("got %+v, want %+v", c.Customer, want)
	}
	t.Setenv("ORDERFLOW_CUSTOMER_QUOTE_NUDGES", "none")
	if c, err = FromEnv(); err != nil || len(c.Customer.QuoteNudges) != 0 {
		t.Fatalf("none turns nudges off: %v %v", c.Customer.QuoteNudges, err)
	}
}

func TestCustomerSettingsRejectBadValues(t *testing.T) {
	for key, val := range map[string]string{
		"ORDERFLOW_CUSTOMER_REMINDER_LEAD":    "soon",
		"ORDERFLOW_CUSTOMER_DORMANT_FACTOR":   "0.5",
		"ORDERFLOW_CUSTOMER_QUOTE_NUDGES":     "5d",
		"ORDERFLOW_CUSTOMER_FREQUENCY_CAP":    "0",
		"ORDERFLOW_CUSTOMER_FREQUENCY_WINDOW": "0s",
		"ORDERFLOW_CUSTOMER_MIN_ORDERS":       "2",
		"ORDERFLOW_CUSTOMER_MIN_INTERVAL":     "-1h",
	} {
		t.Run(key, func(t *testing.T) {
			t.Setenv(key, val)
			if _, err := FromEnv(); err == nil {
				t.Fatalf("%s=%q accepted", key, val)
			}
		})
	}
}
