// Package simulators assembles the ERP, carrier and bank simulators on one
// PostgreSQL pool, migrated and seeded: what `orderflow dev`, `orderflow sim`
// and the end-to-end tests run as the outside world.
package simulators

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
)

// Options point the simulators' webhooks at the API.
type Options struct {
	LogisticsWebhookURL, LogisticsSecret string
	PaymentsWebhookURL, PaymentsSecret   string
	CarrierAutoDeliverAfter              time.Duration
	// CarrierAutoReturnAfter brings return pickups back on their own.
	CarrierAutoReturnAfter time.Duration
	// ERPAutoRestock refills the ERP's low shelves (erpsim.Sim.SetAutoRestock).
	ERPAutoRestock bool
	Logger         zerolog.Logger
}

// Set is the stand-ins for the ERP, the carrier and the bank.
type Set struct {
	ERP     *erpsim.Sim
	Carrier *carriersim.Sim
	Bank    *banksim.Sim
}

// New builds the simulators on pool, migrates their tables and
// seeds the ERP's demo catalogue (without resetting stock on a restart).
func New(ctx context.Context, pool *pgxpool.Pool, o Options) (Set, error) {
	erp := erpsim.New(pool, o.Logger.With().Str("component", "erp-sim").Logger())
	erp.SetAutoRestock(o.ERPAutoRestock)
	sims := Set{
		ERP: erp,
		Carrier: carriersim.New(pool, carriersim.Options{
			WebhookURL: o.LogisticsWebhookURL, WebhookSecret: []byte(o.LogisticsSecret), AutoDeliverAfter: o.CarrierAutoDeliverAfter,
			AutoReturnAfter: o.CarrierAutoReturnAfter,
		}, o.Logger.With().Str("component", "carrier-sim").Logger()),
		// The ERP imports the bank's statement, so paid invoices leave the
		// customer's receivables (and its credit exposure) as in a real ERP.
		Bank: banksim.New(pool, banksim.Options{WebhookURL: o.PaymentsWebhookURL, WebhookSecret: []byte(o.PaymentsSecret),
			Statement: func(ctx context.Context, bankTxnID, reference string, amount money.Money) error {
				_, err := erp.PostBankPayment(ctx, bankTxnID, reference, amount)
				return err
			}},
			o.Logger.With().Str("component", "bank-sim").Logger()),
	}
	for _, step := range []struct {
		what string
		fn   func(context.Context) error
	}{{"migrate ERP simulator", sims.ERP.Migrate}, {"seed ERP simulator", sims.ERP.Seed},
		{"migrate carrier simulator", sims.Carrier.Migrate}, {"migrate bank simulator", sims.Bank.Migrate}} {
		if err := step.fn(ctx); err != nil {
			return Set{}, fmt.Errorf("%s: %w", step.what, err)
		}
	}
	return sims, nil
}
