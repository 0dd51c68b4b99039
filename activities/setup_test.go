package activities_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/bank"
	"github.com/orderflow/orderflow/internal/carrier"
	"github.com/orderflow/orderflow/internal/document"
	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/erp"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/pgdb/pgtest"
	"github.com/orderflow/orderflow/internal/sim/banksim"
	"github.com/orderflow/orderflow/internal/sim/carriersim"
	"github.com/orderflow/orderflow/internal/sim/erpsim"
	"github.com/orderflow/orderflow/internal/store"
)

// The seller's team mailboxes the fixture configures. Finance has none, so a
// mail to finance shows what happens when an audience has no address.
const (
	csEmail            = "cs@seller.example"
	salesManagersEmail = "sales-managers@seller.example"
	publicURL          = "https://orders.seller.example/"
)

// testSeller issues the documents the activities store.
var testSeller = document.Party{Name: "Test Seller GmbH", VATID: "DE999999999", Street: "Musterstraße 1", City: "Hamburg",
	Postcode: "20095", Country: "DE", Email: "billing@seller.example", IBAN: "DE89370400440532013000"}

// patient is a breaker that no test's injected faults trip, so only the
// breaker test sees an open breaker.
var patient = downstream.BreakerSettings{ConsecutiveFailures: 1000, OpenFor: time.Hour}

// fixture is everything one test function's activities talk to: one
// throw-away database holding orderflow's store, the ERP, carrier and bank
// simulators, served over HTTP (the bank's statement goes to the ERP), and
// the dev mail sink.
type fixture struct {
	store   *store.Store
	erp     *erpsim.Sim
	carrier *carriersim.Sim
	bank    *banksim.Sim
	sink    *mailsink.Sink
	acts    *activities.Activities
	env     *testsuite.TestActivityEnvironment
}

// newFixture builds the real collaborators on a fresh database with the demo
// data loaded; erpBreaker tunes the ERP client's circuit breaker.
func newFixture(t *testing.T, erpBreaker downstream.BreakerSettings) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrate)
	st := store.New(pool)
	require.NoError(t, st.SeedDemo(ctx))

	erpSim := erpsim.New(pool, zerolog.Nop())
	require.NoError(t, erpSim.Migrate(ctx))
	require.NoError(t, erpSim.Seed(ctx))
	erpSrv := httptest.NewServer(erpSim.Handler())
	t.Cleanup(erpSrv.Close)

	carrierSim := carriersim.New(pool, carriersim.Options{}, zerolog.Nop())
	require.NoError(t, carrierSim.Migrate(ctx))
	carrierSrv := httptest.NewServer(carrierSim.Handler())
	t.Cleanup(carrierSrv.Close)

	// Payments reach the ERP's statement as they would in dev mode; the
	// webhooks are not sent (no URL): these tests signal no orders.
	bankSim := banksim.New(pool, banksim.Options{Statement: func(ctx context.Context, txn, reference string, amount money.Money) error {
		_, err := erpSim.PostBankPayment(ctx, txn, reference, amount)
		return err
	}}, zerolog.Nop())
	require.NoError(t, bankSim.Migrate(ctx))
	bankSrv := httptest.NewServer(bankSim.Handler())
	t.Cleanup(bankSrv.Close)

	sink := mailsink.New(mailsink.Options{SMTPAddr: "127.0.0.1:0"})
	require.NoError(t, sink.Start())
	t.Cleanup(func() { _ = sink.Close() })

	f := &fixture{
		store:   st,
		erp:     erpSim,
		carrier: carrierSim,
		bank:    bankSim,
		sink:    sink,
		acts: &activities.Activities{
			Store:              st,
			ERP:                erp.New(erpSrv.URL, downstream.NewBreaker(erp.System, erpBreaker, nil)),
			Carrier:            carrier.New(carrierSrv.URL, downstream.NewBreaker(carrier.System, patient, nil)),
			Bank:               bank.New(bankSrv.URL, downstream.NewBreaker(bank.System, patient, nil)),
			Mail:               newSender(t, sink.Addr()),
			PublicURL:          publicURL,
			Seller:             testSeller,
			CSEmail:            csEmail,
			SalesManagersEmail: salesManagersEmail,
		},
	}
	f.env = newEnv(f.acts)
	return f
}

// newEnv registers acts in a fresh activity environment, as a worker would.
func newEnv(acts *activities.Activities) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return env
}

// newSender is the production SMTP sender pointed at addr (host:port).
func newSender(t *testing.T, addr string) *mail.Sender {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(p)
	require.NoError(t, err)
	return mail.NewSender(mail.Config{Host: host, Port: port, From: "orders@seller.example", TLS: mail.TLSNone},
		downstream.NewBreaker(mail.System, patient, nil))
}

// closedPort returns a loopback address nothing listens on: the mail server
// is down.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// run executes one activity through env and decodes its result into R.
func run[R any](t *testing.T, env *testsuite.TestActivityEnvironment, activity, in any) (R, error) {
	t.Helper()
	var res R
	val, err := env.ExecuteActivity(activity, in)
	if err != nil {
		return res, err
	}
	require.NoError(t, val.Get(&res))
	return res, nil
}

// mustRun is run for a call that has to succeed.
func mustRun[R any](t *testing.T, env *testsuite.TestActivityEnvironment, activity, in any) R {
	t.Helper()
	res, err := run[R](t, env, activity, in)
	require.NoError(t, err)
	return res
}

// requireAppError asserts that err carries an ApplicationError of type typ
// that Temporal will (or will not) retry, and returns it.
func requireAppError(t *testing.T, err error, typ string, nonRetryable bool) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v carries no ApplicationError", err)
	assert.Equal(t, typ, appErr.Type(), "error type of %v", err)
	assert.Equal(t, nonRetryable, appErr.NonRetryable(), "non-retryable of %v", err)
	return appErr
}

// available is what a new sales order can still reserve of sku in warehouse.
func available(t *testing.T, sim *erpsim.Sim, warehouse, sku string) int64 {
	t.Helper()
	stock, err := sim.Stock(context.Background())
	require.NoError(t, err)
	for _, s := range stock {
		if s.Warehouse == warehouse && s.SKU == sku {
			return s.Available
		}
	}
	t.Fatalf("the ERP keeps no stock of %s in %s", sku, warehouse)
	return 0
}

// salesOrders lists the ERP's sales orders for one of our orders.
func salesOrders(t *testing.T, sim *erpsim.Sim, orderID string) []erpsim.SalesOrder {
	t.Helper()
	list, err := sim.SalesOrders(context.Background(), orderID)
	require.NoError(t, err)
	return list
}

// assertSameInstant compares times by instant, whatever their location.
func assertSameInstant(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.True(t, want.Equal(got), "%s: want %s, got %s", what, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
}
