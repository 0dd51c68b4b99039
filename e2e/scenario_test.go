package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/devstack"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/player"
	"github.com/orderflow/orderflow/internal/scenario"
)

// TestShortScenario plays scenarios/short.yaml (22 orders over four
// business days, every quote outcome, credit decision, carrier outcome,
// payment behaviour and survey band) against the whole system at the
// scenario's time scale, and asserts the run's invariants: every order
// terminal or waiting on a named person, every payment applied or in
// finance's worklist, no effect duplicated in any simulator. Then what
// the plan forced, the system did.
func TestShortScenario(t *testing.T) {
	s, err := scenario.Load("../scenarios/short.yaml")
	require.NoError(t, err)
	plan, err := scenario.Expand(s)
	require.NoError(t, err)
	x := startWith(t, func(o *devstack.Options) {
		o.TimeScale = plan.TimeScale
		o.ERPAutoRestock = true
	})
	targets := player.Targets{API: x.s.APIURL, ERP: x.s.ERPURL, Carrier: x.s.CarrierURL, Bank: x.s.BankURL, Mail: x.s.MailURL,
		Mint: func(a order.Actor) (string, error) { return x.s.Tokens.Mint(a, time.Hour) }}
	ctx := context.Background()
	res, err := player.Play(ctx, plan, targets, player.Options{Timeout: 10 * time.Minute,
		Log:      zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Progress: func(format string, a ...any) { t.Logf(format, a...) }})
	require.NoError(t, err)
	require.Empty(t, res.Errors, "the player met errors")
	violations, err := player.Check(ctx, res, targets)
	require.NoError(t, err)
	require.Empty(t, violations, "the run's invariants")

	for _, o := range res.Orders {
		p := o.Plan
		switch {
		case p.Quote.Outcome == scenario.QuoteRejected:
			require.Equal(t, order.StatusQuoteRejected, o.Status, "%s", p.Ref)
		case p.Quote.Outcome == scenario.QuoteSilent:
			require.Contains(t, []order.Status{order.StatusAwaitingAcceptance, order.StatusQuoteExpired}, o.Status, "%s", p.Ref)
		case p.Credit.Outcome == scenario.CreditOverLimit:
			require.True(t, o.CreditHeld, "%s: the scenario sent it over the credit limit", p.Ref)
			if p.Credit.Decision == scenario.CreditDecline {
				require.Equal(t, order.StatusCreditDeclined, o.Status, "%s", p.Ref)
			}
		}
		require.False(t, o.UnplannedHold, "%s: a credit hold the scenario did not plan", p.Ref)
	}
}
