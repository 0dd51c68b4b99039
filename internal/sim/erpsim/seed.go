package erpsim

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The demo data, shared with orderflow's own seed (customers and terms); the
// two must agree on ids and currencies.
var (
	seedProducts = []struct {
		sku, name string
		prices    map[string]int64 // minor units per currency
	}{
		{"BOLT-M8", "Hex bolt M8x40, zinc plated", map[string]int64{"EUR": 25, "USD": 28}},
		{"NUT-M8", "Hex nut M8", map[string]int64{"EUR": 8, "USD": 9}},
		{"VALVE-50", "Ball valve DN50", map[string]int64{"EUR": 8990, "USD": 9900}},
		{"PUMP-200", "Centrifugal pump 200 l/min", map[string]int64{"EUR": 125000, "USD": 139000}},
		{"MOTOR-7K", "Electric motor 7.5 kW", map[string]int64{"EUR": 248000, "USD": 275000}},
	}
	seedStock = []struct {
		warehouse, sku string
		onHand         int64
	}{
		{"WH-NORTH", "BOLT-M8", 100000},
		{"WH-NORTH", "NUT-M8", 100000},
		{"WH-NORTH", "VALVE-50", 200},
		{"WH-NORTH", "PUMP-200", 20},
		{"WH-SOUTH", "VALVE-50", 100},
		{"WH-SOUTH", "PUMP-200", 15},
		{"WH-SOUTH", "MOTOR-7K", 10},
	}
	seedCustomers = []struct {
		id, name, currency string
		openMinor          int64
	}{
		{"ACME-001", "Acme Industrial GmbH", "EUR", 1200000},
		{"GLOBEX-002", "Globex Corporation", "EUR", 150000},
		{"INITECH-003", "Initech Ltd", "USD", 0},
	}
)

// Seed loads the demo products, prices, stock, customers and opening
// receivables. It only adds what is missing: on a restart the stock that
// orders reserved and the receivables that invoices raised stay as they are.
func (s *Sim) Seed(ctx context.Context) error {
	b := &pgx.Batch{}
	for _, p := range seedProducts {
		b.Queue(`INSERT INTO erpsim_products (sku, name) VALUES ($1, $2) ON CONFLICT (sku) DO NOTHING`, p.sku, p.name)
		for cur, minor := range p.prices {
			b.Queue(`
				INSERT INTO erpsim_prices (sku, currency, unit_minor) VALUES ($1, $2, $3)
				ON CONFLICT (sku, currency) DO NOTHING`, p.sku, cur, minor)
		}
	}
	for _, st := range seedStock {
		b.Queue(`
			INSERT INTO erpsim_stock (warehouse, sku, on_hand) VALUES ($1, $2, $3)
			ON CONFLICT (warehouse, sku) DO NOTHING`, st.warehouse, st.sku, st.onHand)
	}
	for _, c := range seedCustomers {
		b.Queue(`INSERT INTO erpsim_customers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, c.id, c.name)
		b.Queue(`
			INSERT INTO erpsim_receivables (customer_id, currency, open_minor) VALUES ($1, $2, $3)
			ON CONFLICT (customer_id, currency) DO NOTHING`, c.id, c.currency, c.openMinor)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("erpsim seed: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("erpsim seed: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("erpsim seed: commit: %w", err)
	}
	return nil
}
