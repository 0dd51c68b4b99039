package workflows_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

var a *activities.Activities

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

var (
	buyer    = order.Actor{Subject: "pat@acme", Role: order.RoleBuyer, CustomerID: "ACME-001"}
	stranger = order.Actor{Subject: "eve@globex", Role: order.RoleBuyer, CustomerID: "GLOBEX-002"}
	cs       = order.Actor{Subject: "sam@cs", Role: order.RoleCS}
	finance  = order.Actor{Subject: "fin@seller", Role: order.RoleFinance}
	mgr1     = order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	mgr2     = order.Actor{Subject: "max@seller", Role: order.RoleSalesManager}
	approver = order.Actor{Subject: "boss@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"}
)

func acmeTerms() order.Terms {
	return order.Terms{CustomerID: "ACME-001", CustomerName: "Acme", Currency: "EUR",
		CreditLimit: eur(5_000_000), PaymentTermsDays: 30, DiscountBP: 300, RepDiscountAuthorityBP: 1000,
		PurchasingLimit: eur(1_000_000), DualApprovalThreshold: eur(2_500_000), QuoteValidityDays: 14, LeadTimeDays: 5,
		ContractPrices: map[string]money.Money{"BOLT-M8": eur(20)}, CreditNoteLimitCS: eur(50_000),
		ShortPayTolerance: eur(500), ShortPayToleranceBP: 50}
}

var listPrices = []order.ListPrice{
	{SKU: "BOLT-M8", UnitPrice: eur(25)}, {SKU: "PUMP-200", UnitPrice: eur(125_000)}, {SKU: "MOTOR-7K", UnitPrice: eur(248_000)},
}

// world stands in for the outside systems and records what the workflow did to them.
type world struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	terms   order.Terms
	mu      sync.Mutex
	records []activities.RecordInput
	mails   []activities.SendMailInput
	// batches is the kinds of each SendMails call's mails, in order.
	batches [][]mail.Kind
	// surveysOpened are the OpenSurvey calls, in order.
	surveysOpened []activities.OpenSurveyInput
	// kept is the mail activity's table of mails by key, for resends.
	kept     map[string]activities.SendMailInput
	undos    []string
	exposure func(total money.Money) order.Exposure
	reserve  func() (activities.ReserveResult, error)
	track    string
	tracked  int // carrier polls
	pending  []*pending
	// invoiced lists every invoice asked of the ERP, retries included.
	invoiced []activities.InvoiceInput
	// mailFails makes the next N mails of a kind fail (the SMTP server is down).
	mailFails map[mail.Kind]int
	// recordFails, when set, answers each Record attempt before it is kept
	// (the database is down, or slow); local reports whether it ran as a
	// local activity. It runs without w.mu held.
	recordFails func(in activities.RecordInput, local bool) error
	// applyPayment, when set, answers the store's recording of a payment match.
	applyPayment func(activities.ApplyPaymentInput) error
	// creditNote, when set, answers the ERP's credit note; by default it is
	// all taken off what is open.
	creditNote func(activities.IssueCreditNoteInput) activities.IssueCreditNoteResult
	// replacement, when set, answers the ERP's replacement order.
	replacement func(activities.CreateReplacementOrderInput) (activities.CreateReplacementOrderResult, error)
	// pickupFails makes the carrier refuse return pickups for good.
	pickupFails bool
	// invoiceOff makes the ERP's next N invoice answers bill a wrong amount.
	invoiceOff int
	// cancelShipment, when set, answers the carrier's cancel of a shipment.
	cancelShipment func(shipmentID string) error
	// priced, when set, holds the ERP's price answers until it is closed.
	priced chan struct{}
	// told are the milestones the order handed to its customer's
	// workflow; customerGone makes TellCustomer fail for good.
	told         []workflows.OrderEvent
	customerGone bool
	// timeScale is the order's OrderInput.TimeScale (0: real time).
	timeScale float64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.OrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
	env.RegisterActivity(a)
	w := &world{t: t, env: env, terms: acmeTerms(), track: "in_transit", mailFails: map[mail.Kind]int{}, kept: map[string]activities.SendMailInput{}}
	w.exposure = func(total money.Money) order.Exposure {
		e, _ := order.CheckCredit(w.terms.CreditLimit, eur(1_200_000), eur(0), total)
		return e
	}
	w.reserve = func() (activities.ReserveResult, error) {
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{
			{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}},
			{Warehouse: "WH-SOUTH", Lines: []order.Line{{SKU: "MOTOR-7K", Quantity: 1}}},
		}}, nil
	}
	env.OnActivity(a.TellCustomer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TellCustomerInput) (activities.TellCustomerResult, error) {
			if in.Event.CustomerID != w.terms.CustomerID {
				return activities.TellCustomerResult{}, fmt.Errorf("milestone for customer %q, not the order's %q", in.Event.CustomerID, w.terms.CustomerID)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.customerGone {
				return activities.TellCustomerResult{}, temporal.NewNonRetryableApplicationError("no Temporal client", activities.ErrTypeInvalidInput, nil)
			}
			w.told = append(w.told, in.Event)
			return activities.TellCustomerResult{}, nil
		})
	env.OnActivity(a.PriceQuote, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PriceQuoteInput) (activities.PriceQuoteResult, error) {
			if w.priced != nil {
				<-w.priced // the ERP answers when the test says
			}
			if err := refuseUnknownSKUs(in.Lines); err != nil {
				return activities.PriceQuoteResult{}, err
			}
			q, err := order.Price(in.Revision, in.Lines, listPrices, w.terms, in.RequestedDiscountBP, in.At)
			// As the activity does: a scaled order's quote is valid for
			// its compressed validity.
			q.ValidUntil = order.CompressDate(in.At, q.ValidUntil, in.TimeScale)
			return activities.PriceQuoteResult{Quote: q, Terms: w.terms}, err
		})
	env.OnActivity(a.Record, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RecordInput) (activities.RecordResult, error) {
			if w.recordFails != nil {
				if err := w.recordFails(in, activity.GetInfo(ctx).IsLocalActivity); err != nil {
					return activities.RecordResult{}, err
				}
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.records = append(w.records, in)
			return activities.RecordResult{}, nil
		})
	// The mail activities as the real ones behave: each mail kept under
	// its key, a mail system that refuses mailFails[kind] times, and a
	// mail sent once is not sent again under the same key.
	sent := map[string]bool{}
	sendOne := func(in activities.SendMailInput) (activities.SendMailResult, error) {
		if _, ok := w.kept[in.Key]; !ok {
			w.kept[in.Key] = in
		}
		if sent[in.Key] {
			return activities.SendMailResult{To: []string{string(in.Audience)}}, nil
		}
		if w.mailFails[in.Kind] > 0 {
			w.mailFails[in.Kind]--
			return activities.SendMailResult{}, errors.New("smtp: 421 service not available")
		}
		sent[in.Key] = true
		w.mails = append(w.mails, in)
		return activities.SendMailResult{To: []string{string(in.Audience)}}, nil
	}
	env.OnActivity(a.SendMail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendMailInput) (activities.SendMailResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return sendOne(in)
		})
	env.OnActivity(a.SendMails, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendMailsInput) (activities.SendMailsResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			kinds := make([]mail.Kind, len(in.Mails))
			for i, m := range in.Mails {
				kinds[i] = m.Kind
			}
			w.batches = append(w.batches, kinds)
			var res activities.SendMailsResult
			var retry error
			for _, m := range in.Mails {
				r, err := sendOne(m)
				if err != nil && retry == nil {
					retry = err
				}
				res.Mails = append(res.Mails, activities.MailOutcome{Key: m.Key, To: r.To})
			}
			if retry != nil {
				return activities.SendMailsResult{}, retry
			}
			return res, nil
		})
	env.OnActivity(a.ResendMail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ResendMailInput) (activities.ResendMailResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			m, ok := w.kept[in.Key]
			if !ok {
				return activities.ResendMailResult{}, temporal.NewNonRetryableApplicationError("no mail kept under "+in.Key, "InvalidInput", nil)
			}
			if w.mailFails[m.Kind] > 0 {
				w.mailFails[m.Kind]--
				return activities.ResendMailResult{}, errors.New("smtp: 421 service not available")
			}
			m.Key = in.NewKey
			w.mails = append(w.mails, m)
			return activities.ResendMailResult{To: []string{string(m.Audience)}, Kind: m.Kind, Audience: m.Audience}, nil
		})
	env.OnActivity(a.CheckCredit, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CheckCreditInput) (activities.CheckCreditResult, error) {
			return activities.CheckCreditResult{Exposure: w.exposure(in.Total)}, nil
		})
	env.OnActivity(a.Reserve, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ReserveInput) (activities.ReserveResult, error) { return w.reserve() })
	env.OnActivity(a.BookShipment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookShipmentInput) (activities.BookShipmentResult, error) {
			id := "SH-" + in.Warehouse
			if in.Key != "" { // a reship's booking
				id = "SH-R-" + in.Warehouse
			}
			return activities.BookShipmentResult{ShipmentID: id, TrackingNumber: "TRK-" + id,
				PromisedDate: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
		})
	env.OnActivity(a.TrackShipment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.TrackShipmentInput) (activities.TrackShipmentResult, error) {
			w.mu.Lock()
			w.tracked++
			w.mu.Unlock()
			return activities.TrackShipmentResult{Status: w.track}, nil
		})
	env.OnActivity(a.Invoice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InvoiceInput) (activities.InvoiceResult, error) {
			amount := in.Amount
			w.mu.Lock()
			w.invoiced = append(w.invoiced, in)
			if w.invoiceOff > 0 {
				w.invoiceOff--
				amount = money.New(amount.Minor+100, amount.Currency) // the ERP billed 1.00 too much
			}
			w.mu.Unlock()
			id, number := "inv-1", "INV-000001"
			if in.Shipment != "" { // one shipment's invoice, per shipment
				id, number = "inv-"+in.Shipment, "INV-"+in.Shipment
			}
			return activities.InvoiceResult{Invoice: order.Invoice{InvoiceID: id, Number: number, Amount: amount,
				IssuedAt: in.IssuedAt, DueDate: order.DueDate(in.IssuedAt, in.PaymentTermsDays),
				Shipment: in.Shipment, Lines: in.Lines}}, nil
		})
	env.OnActivity(a.OpenSurvey, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.OpenSurveyInput) (activities.OpenSurveyResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.surveysOpened = append(w.surveysOpened, in)
			return activities.OpenSurveyResult{URL: "http://x/survey/tok" + in.ShipmentID}, nil
		})
	env.OnActivity(a.CloseSurvey, mock.Anything, mock.Anything).Return(activities.CloseSurveyResult{}, nil)
	env.OnActivity(a.ApplyPayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ApplyPaymentInput) (activities.ApplyPaymentResult, error) {
			if w.applyPayment != nil {
				return activities.ApplyPaymentResult{}, w.applyPayment(in)
			}
			return activities.ApplyPaymentResult{}, nil
		})
	env.OnActivity(a.CancelSalesOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelSalesOrderInput) (activities.CancelSalesOrderResult, error) {
			if in.SalesOrderID == "" {
				w.undo("cancel-sales-order by key " + in.ForwardKey)
			} else {
				w.undo("cancel-sales-order " + in.SalesOrderID)
			}
			return activities.CancelSalesOrderResult{}, nil
		})
	env.OnActivity(a.CancelShipment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelShipmentInput) (activities.CancelShipmentResult, error) {
			if w.cancelShipment != nil {
				if err := w.cancelShipment(in.ShipmentID); err != nil {
					return activities.CancelShipmentResult{}, err
				}
			}
			if in.ShipmentID == "" {
				w.undo("cancel-shipment by key " + in.ForwardKey)
			} else {
				w.undo("cancel-shipment " + in.ShipmentID)
			}
			return activities.CancelShipmentResult{}, nil
		})
	env.OnActivity(a.IssueCreditNote, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.IssueCreditNoteInput) (activities.IssueCreditNoteResult, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.creditNote != nil {
				return w.creditNote(in), nil
			}
			amount := in.Amount
			for _, l := range in.Lines {
				amount = money.New(amount.Minor+l.Amount.Minor, l.Amount.Currency)
			}
			return activities.IssueCreditNoteResult{CreditNoteID: "cn-" + in.Key, Number: fmt.Sprintf("CN-%d", len(w.undos)+1),
				Amount: amount, AppliedToInvoice: amount, ToCreditBalance: money.Zero(amount.Currency)}, nil
		})
	env.OnActivity(a.Refund, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RefundInput) (activities.RefundResult, error) {
			w.undo(fmt.Sprintf("refund %s %s (%s)", in.BankTransactionID, in.Amount, in.Key))
			return activities.RefundResult{RefundID: "RF-" + in.Key, TransferID: "TR-" + in.Key, Amount: in.Amount,
				Source: "payment", PaidTo: "Acme Industrial GmbH"}, nil
		})
	env.OnActivity(a.CreateReplacementOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CreateReplacementOrderInput) (activities.CreateReplacementOrderResult, error) {
			if w.replacement != nil {
				return w.replacement(in)
			}
			wh := "WH-NORTH"
			if in.Lines[0].SKU == "MOTOR-7K" {
				wh = "WH-SOUTH"
			}
			return activities.CreateReplacementOrderResult{SalesOrderID: "SO-R" + in.Key[len(in.Key)-1:],
				Shipments: []order.Shipment{{Warehouse: wh, Lines: in.Lines}}}, nil
		})
	env.OnActivity(a.CancelReplacementOrder, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelReplacementOrderInput) (activities.CancelReplacementOrderResult, error) {
			w.undo("cancel-replacement-order " + in.SalesOrderID)
			return activities.CancelReplacementOrderResult{}, nil
		})
	env.OnActivity(a.CreateRMA, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CreateRMAInput) (activities.CreateRMAResult, error) {
			return activities.CreateRMAResult{RMAID: "RMA-" + in.Key[len(in.Key)-1:], Lines: in.Lines}, nil
		})
	env.OnActivity(a.BookReturnPickup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BookReturnPickupInput) (activities.BookReturnPickupResult, error) {
			if w.pickupFails {
				return activities.BookReturnPickupResult{}, temporal.NewNonRetryableApplicationError("carrier: no pickups in this area", "InvalidInput", nil)
			}
			return activities.BookReturnPickupResult{ReturnID: "RET-" + in.RMAID, TrackingNumber: "TRK-RET-" + in.RMAID,
				PickupDate: time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)}, nil
		})
	env.OnActivity(a.ReceiveRMA, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReceiveRMAInput) (activities.ReceiveRMAResult, error) {
			w.undo("receive " + in.RMAID)
			return activities.ReceiveRMAResult{}, nil
		})
	env.OnActivity(a.CancelRMA, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelRMAInput) (activities.CancelRMAResult, error) {
			w.undo("cancel-rma " + in.RMAID)
			return activities.CancelRMAResult{RMAID: in.RMAID}, nil
		})
	env.OnActivity(a.CancelReturnPickup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelReturnPickupInput) (activities.CancelReturnPickupResult, error) {
			w.undo("cancel-return-pickup " + in.ReturnID)
			return activities.CancelReturnPickupResult{ReturnID: in.ReturnID}, nil
		})
	env.OnActivity(a.WriteOff, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.WriteOffInput) (activities.WriteOffResult, error) {
			w.undo(fmt.Sprintf("write-off %s (%s): %s", in.Amount, in.Key, in.Reason))
			return activities.WriteOffResult{WriteOffID: "WO-" + in.Key[len(in.Key)-1:], Amount: in.Amount}, nil
		})
	env.OnActivity(a.AllocateCredit, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AllocateCreditInput) (activities.AllocateCreditResult, error) {
			if in.Amount.Minor > 20_000 {
				return activities.AllocateCreditResult{}, temporal.NewNonRetryableApplicationError(
					"ERP answered 422 allocation_exceeds_credit_balance: 200.00 EUR of credit balance", "OutsideSystemRejected", nil)
			}
			w.undo(fmt.Sprintf("allocate %s (%s)", in.Amount, in.Key))
			return activities.AllocateCreditResult{AllocationID: "CA-" + in.Key[len(in.Key)-1:], Applied: in.Amount,
				CreditBalanceAfter: money.New(20_000-in.Amount.Minor, "EUR")}, nil
		})
	env.OnActivity(a.VoidInvoice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.VoidInvoiceInput) (activities.VoidInvoiceResult, error) {
			if in.InvoiceID == "" {
				w.undo("void-invoice by key " + in.ForwardKey)
			} else {
				w.undo("void-invoice " + in.InvoiceID)
			}
			return activities.VoidInvoiceResult{}, nil
		})
	return w
}

func (w *world) undo(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.undos = append(w.undos, s)
}

// statuses is the sequence of distinct statuses the projection saw.
// projection is the records in sequence order, as the store applies them:
// the records are written beside the order's progress, so two of them may
// reach the store in either order.
func (w *world) projection() []activities.RecordInput {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.records)
	slices.SortStableFunc(out, func(a, b activities.RecordInput) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

func (w *world) statuses() []order.Status {
	var out []order.Status
	for _, r := range w.projection() {
		if len(out) == 0 || out[len(out)-1] != r.Status {
			out = append(out, r.Status)
		}
	}
	return out
}

func (w *world) mailKinds() []mail.Kind {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []mail.Kind
	for _, m := range w.mails {
		out = append(out, m.Kind)
	}
	return out
}

func (w *world) actions() []string {
	var out []string
	for _, r := range w.projection() {
		out = append(out, r.Action)
	}
	return out
}

// reserveFailsOnce makes the ERP refuse the first reservation for good
// (insufficient stock) and take the next; it returns the count of calls.
func (w *world) reserveFailsOnce() *int {
	calls := 0
	w.reserve = func() (activities.ReserveResult, error) {
		calls++
		if calls == 1 {
			return activities.ReserveResult{}, temporal.NewNonRetryableApplicationError("insufficient stock", activities.ErrTypeRejected, nil)
		}
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}}}}, nil
	}
	return &calls
}

// carrierRefusesToCancel makes the carrier refuse, for good, to cancel one
// shipment (it has handed it over); the others cancel.
func (w *world) carrierRefusesToCancel(shipmentID string) {
	w.cancelShipment = func(id string) error {
		if id == shipmentID {
			return temporal.NewNonRetryableApplicationError("carrier: shipment already handed over", activities.ErrTypeRejected, nil)
		}
		return nil
	}
}

// at schedules fn after d of workflow time.
func (w *world) at(d time.Duration, fn func()) { w.env.RegisterDelayedCallback(fn, d) }

// pending is an update in flight; the testsuite delivers updates
// asynchronously, so results are checked once the run is over.
type pending struct {
	name, wantErr string
	done          bool
	res           workflows.DecisionResult
	// failsWith, when set, is the error type the handler must fail with
	// (after the validator accepted the update); err is that error, or
	// the validator's refusal.
	failsWith string
	err       error
}

// updateFails sends an update its validator accepts and its handler fails
// with an ApplicationError of errType.
func (w *world) updateFails(name string, arg any, errType string) *pending {
	p := &pending{name: name, failsWith: errType}
	w.pending = append(w.pending, p)
	w.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			p.done = true
			w.t.Errorf("update %s rejected: %v (want its handler to fail)", name, err)
		},
		OnAccept: func() {},
		OnComplete: func(r any, err error) {
			p.done = true
			var ae *temporal.ApplicationError
			if err == nil || !errors.As(err, &ae) || ae.Type() != errType {
				w.t.Errorf("update %s: %v, want its handler to fail with %s", name, err, errType)
			}
			p.err = err
		},
	}, arg)
	return p
}

// update sends an update that must complete (wantErrType "") or be rejected
// by its validator with an ApplicationError of wantErrType.
func (w *world) update(name string, arg any, wantErrType string) *pending {
	p := &pending{name: name, wantErr: wantErrType}
	w.pending = append(w.pending, p)
	w.env.UpdateWorkflow(name, fmt.Sprintf("%s-%d", name, len(w.pending)), &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			p.done, p.err = true, err
			var ae *temporal.ApplicationError
			if wantErrType == "" || !errors.As(err, &ae) || ae.Type() != wantErrType {
				w.t.Errorf("update %s rejected: %v (want %q)", name, err, wantErrType)
			}
		},
		OnAccept: func() {
			if wantErrType != "" {
				w.t.Errorf("update %s accepted, want rejection %s", name, wantErrType)
			}
		},
		OnComplete: func(r any, err error) {
			p.done = true
			if err != nil {
				var ae *temporal.ApplicationError
				if p.failsWith == "" || !errors.As(err, &ae) || ae.Type() != p.failsWith {
					w.t.Errorf("update %s failed: %v", name, err)
				}
				p.err = err
				return
			}
			if p.failsWith != "" {
				w.t.Errorf("update %s succeeded, want its handler to fail with %s", name, p.failsWith)
			}
			p.res = r.(workflows.DecisionResult)
		},
	}, arg)
	return p
}

func (w *world) signal(name string, arg any) { w.env.SignalWorkflow(name, arg) }

func (w *world) run(lines ...order.Line) workflows.OrderResult {
	w.t.Helper()
	if len(lines) == 0 {
		lines = []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}
	}
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{
		OrderID: "ord-1", CustomerID: "ACME-001", PONumber: "PO-77", Lines: lines, RequestedBy: buyer, TimeScale: w.timeScale})
	require.True(w.t, w.env.IsWorkflowCompleted(), "workflow did not complete")
	for _, p := range w.pending {
		require.True(w.t, p.done, "update %s got no answer", p.name)
	}
	require.NoError(w.t, w.env.GetWorkflowError())
	var res workflows.OrderResult
	require.NoError(w.t, w.env.GetWorkflowResult(&res))
	return res
}

func (w *world) details() workflows.Details {
	w.t.Helper()
	v, err := w.env.QueryWorkflow(workflows.QueryDetails)
	require.NoError(w.t, err)
	var d workflows.Details
	require.NoError(w.t, v.Get(&d))
	return d
}

// answerSurveys answers, a minute from now (once the deliveries signalled
// with it have opened their surveys), every survey still open: each
// shipment's, or the order's one survey.
func (w *world) answerSurveys(s workflows.SurveyAnsweredSignal) {
	w.at(time.Minute, func() {
		d := w.details()
		if len(d.Surveys) == 0 {
			w.signal(workflows.SignalSurveyAnswered, s)
			return
		}
		for _, sv := range d.Surveys {
			if !sv.Closed && sv.Answer == nil {
				s.ShipmentID = sv.ShipmentID
				w.signal(workflows.SignalSurveyAnswered, s)
			}
		}
	})
}

// deliverAll signals proof of delivery for both warehouses' shipments.
func (w *world) deliverAll() {
	for _, wh := range []string{"WH-NORTH", "WH-SOUTH"} {
		w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: "SH-" + wh, EventID: "ev-" + wh})
	}
}

// prepaidAndPaid takes the order over the credit limit: the buyer accepts
// within the hour, finance switches it to prepayment at 2 h, the buyer
// pays it in full (BTX-1) at 3 h.
func (w *world) prepaidAndPaid() {
	w.terms.CreditLimit = eur(1_300_000)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditPrepay, Reason: "new customer"}, "")
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", mainTotal) })
}

func (w *world) pay(txn string, amount money.Money) {
	w.signal(workflows.SignalPayment, workflows.PaymentSignal{BankTransactionID: txn, Amount: amount, Reference: "INV-000001"})
}

// 2 pumps + 1 motor = 4980.00, less 3% = 4830.60 EUR: below every approval threshold.
var mainTotal = eur(483_060)

func TestMainPathCompletes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var accept *pending
	w.at(time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingAcceptance, d.Status)
		require.Equal(t, mainTotal, d.Quote.Total)
		accept = w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "")
	})
	w.at(2*24*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.Len(t, d.Shipments, 2)
		require.Equal(t, []string{"cancel ERP sales order SO-1 and release its reservation",
			"cancel shipment SH-WH-NORTH from WH-NORTH", "cancel shipment SH-WH-SOUTH from WH-SOUTH"}, d.Compensations)
		w.deliverAll()
		w.deliverAll() // a repeated webhook changes nothing
	})
	w.at(3*24*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
	})
	// Paid after the survey closed: no PAID in between (see paid_test.go).
	w.at(3*24*time.Hour+time.Hour, func() {
		w.pay("BTX-1", mainTotal)
		w.pay("BTX-1", mainTotal) // the same bank transaction twice is one payment
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Equal(t, order.StatusCreditCheck, accept.res.Status, "accept answers with where the order went")
	require.Equal(t, []order.Status{order.StatusQuoting, order.StatusAwaitingAcceptance, order.StatusCreditCheck,
		order.StatusConfirmed, order.StatusShipping, order.StatusInvoiced, order.StatusAwaitingPayment, order.StatusCompleted},
		w.statuses())
	// Mails go out beside the main path, each retried on its own, so they
	// may reach the mail system in any order (under -race the confirmation
	// once came after a shipment mail): each goes out once.
	require.ElementsMatch(t, []mail.Kind{mail.KindQuote, mail.KindOrderConfirmed, mail.KindRepConfirmed, mail.KindShipmentBooked, mail.KindShipmentBooked,
		mail.KindSurvey, mail.KindSurvey, mail.KindInvoice}, w.mailKinds())
	for _, m := range w.mails {
		if m.Kind == mail.KindRepConfirmed {
			require.Equal(t, activities.AudienceRep, m.Audience, "the customer's rep hears the order is confirmed")
		}
	}
	require.Contains(t, w.actions(), "payment.exact")
	require.NotContains(t, w.actions(), "payment.overpayment")
	require.Empty(t, w.undos)
	d := w.details()
	require.Equal(t, mainTotal, *d.Paid)
	require.Equal(t, []workflows.ShipmentSurvey{
		{ShipmentID: "SH-WH-NORTH", State: "answered: 9", Answer: &workflows.SurveyAnsweredSignal{ShipmentID: "SH-WH-NORTH", Score: 9}, Closed: true},
		{ShipmentID: "SH-WH-SOUTH", State: "answered: 9", Answer: &workflows.SurveyAnsweredSignal{ShipmentID: "SH-WH-SOUTH", Score: 9}, Closed: true},
	}, d.Surveys, "a survey per delivered shipment")
	require.False(t, d.NeedsAttention)
	// Every record has its own seq number, so the store can apply each once
	// and keep the latest state whatever order they arrive in.
	p := w.projection()
	for i := 1; i < len(p); i++ {
		require.Greater(t, p[i].Seq, p[i-1].Seq)
	}
}

func TestQuoteRejected(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var reject *pending
	w.at(time.Hour, func() {
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: stranger, Reason: "no"}, workflows.ErrTypeForbidden)
		reject = w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.Equal(t, order.StatusQuoteRejected, reject.res.Status)
	require.Equal(t, []mail.Kind{mail.KindQuote, mail.KindQuoteRejected}, w.mailKinds())
	require.Equal(t, activities.AudienceRep, w.mails[1].Audience, "the sales rep follows up")
}

func TestQuoteExpiresAfterReminder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	res := w.run()
	require.Equal(t, order.StatusQuoteExpired, res.Status)
	require.Equal(t, []mail.Kind{mail.KindQuote, mail.KindQuoteReminder, mail.KindQuoteExpired}, w.mailKinds())
	require.Equal(t, activities.AudienceRep, w.mails[2].Audience)
}

func TestRevisionIsRepricedAndNumbered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var revise *pending
	w.at(time.Hour, func() {
		revise = w.update(workflows.UpdateRevise, workflows.ReviseInput{Actor: buyer, Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 1000}}}, "")
	})
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, 2, d.Quote.Revision)
		require.Equal(t, eur(19_400), d.Quote.Total, "1000 bolts at the contract price 0.20, less 3%")
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "changed our mind"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.Equal(t, []mail.Kind{mail.KindQuote, mail.KindQuote, mail.KindQuoteRejected}, w.mailKinds())
	require.Equal(t, order.StatusAwaitingAcceptance, revise.res.Status, "revise answers once revision 2 is out")
}

func TestApprovalRejectedEndsOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingApproval, d.Status)
		require.Equal(t, []order.ApprovalNeed{{Side: order.SideBuyer, Count: 1, Reason: d.ApprovalsNeeded[0].Reason}}, d.ApprovalsNeeded)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: approver, Approve: false, Comment: "over budget"}, "")
	})
	// 8 pumps: 10000.00 less 3% = 9700.00 < limit; 9 pumps = 10912.50 > 10000.00 purchasing limit.
	res := w.run(order.Line{SKU: "PUMP-200", Quantity: 9})
	require.Equal(t, order.StatusRejected, res.Status)
	require.Contains(t, w.mailKinds(), mail.KindApprovalRequest)
}

func TestDualApprovalNeedsTwoDistinctApprovers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var first, second *pending
	w.terms.PurchasingLimit = eur(0) // isolate the seller side
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		first = w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true}, "")
	})
	w.at(3*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingApproval, w.details().Status)
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr1, Approve: true}, workflows.ErrTypeInvalidState)
		second = w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: mgr2, Approve: true}, "")
	})
	w.at(4*time.Hour, func() {
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: buyer, Reason: "test over"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "test over"}, "")
	})
	// 21 pumps = 26250.00 less 3% = 25462.50 > 25000.00 dual-approval threshold.
	res := w.run(order.Line{SKU: "PUMP-200", Quantity: 21})
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, order.StatusAwaitingApproval, first.res.Status, "one of two approvals is not enough")
	require.NotEqual(t, order.StatusAwaitingApproval, second.res.Status)
	require.Contains(t, w.actions(), "approval.approved")
}

func TestApprovalReminderThenEscalation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(5*24*time.Hour, func() {
		require.Contains(t, w.actions(), "approval.escalated")
		w.update(workflows.UpdateApprove, workflows.ApproveInput{Actor: approver, Approve: false, Comment: "late no"}, "")
	})
	res := w.run(order.Line{SKU: "PUMP-200", Quantity: 9})
	require.Equal(t, order.StatusRejected, res.Status)
	kinds := w.mailKinds()
	require.Contains(t, kinds, mail.KindApprovalReminder)
	require.Contains(t, kinds, mail.KindCSAlert)
}

func TestCreditDeclined(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.CreditLimit = eur(1_300_000) // receivables 12000.00 + this order 4830.60 > 13000.00
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusCreditHold, d.Status)
		require.False(t, d.Exposure.WithinLimit)
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: cs, Decision: workflows.CreditDecline, Reason: "x"}, workflows.ErrTypeForbidden)
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: "maybe", Reason: "x"}, workflows.ErrTypeInvalidArgument)
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditDecline, Reason: "exposure too high"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCreditDeclined, res.Status)
	require.Contains(t, w.mailKinds(), mail.KindFinanceAlert)
	require.Empty(t, w.undos, "nothing outside was changed before the credit check")
}

func TestPrepaymentInvoicesFirstAndCancelUndoesInReverse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.CreditLimit = eur(1_300_000)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditPrepay, Reason: "new customer"}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusAwaitingPayment, d.Status)
		require.True(t, d.Prepayment)
		require.Empty(t, d.Shipments[0].ShipmentID, "nothing ships before the prepayment")
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: stranger, Reason: "x"}, workflows.ErrTypeForbidden)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: buyer, Reason: "budget cut"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, []string{"void-invoice inv-1", "cancel-sales-order SO-1"}, w.undos)
	require.Contains(t, w.mailKinds(), mail.KindOrderCancelled)
}

// Issue 8: a cancelled prepaid order gives the money back. Paid in full,
// shipping, cancelled by CS: the shipments are cancelled, the invoice
// voided, then the payment refunded to its payer, then the sales order
// cancelled.
func TestCancelledPrepaidOrderRefundsThePayment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.prepaidAndPaid()
	w.at(4*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status)
		require.Contains(t, d.Compensations, "refund payment BTX-1 of 4830.60 EUR to the payer")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer went bankrupt"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	require.Equal(t, []string{"cancel-shipment SH-WH-SOUTH", "cancel-shipment SH-WH-NORTH", "void-invoice inv-1",
		"refund BTX-1 4830.60 EUR (ord-1/refund/1)", "cancel-sales-order SO-1"}, w.undos)
}

// A prepaid order paid in two parts and cancelled by the buyer before it
// ships: each part is refunded, after the void.
func TestCancelledPartlyPaidOrderRefundsEachPayment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.CreditLimit = eur(1_300_000)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditPrepay, Reason: "new customer"}, "")
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(100_000)) })
	w.at(4*time.Hour, func() { w.pay("BTX-2", eur(50_000)) })
	w.at(5*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: buyer, Reason: "budget cut"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	require.Equal(t, []string{"void-invoice inv-1", "refund BTX-2 500.00 EUR (ord-1/refund/2)",
		"refund BTX-1 1000.00 EUR (ord-1/refund/1)", "cancel-sales-order SO-1"}, w.undos)
}

// Finance paid part of a payment back before the order was cancelled: the
// cancel refunds what is left of it, not the whole payment again.
func TestCancelRefundsWhatFinanceDidNotPayBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.terms.CreditLimit = eur(1_300_000)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: finance, Decision: workflows.CreditPrepay, Reason: "new customer"}, "")
	})
	w.at(3*time.Hour, func() { w.pay("BTX-1", eur(100_000)) })
	w.at(4*time.Hour, func() {
		w.update(workflows.UpdateRefund, workflows.RefundInput{Actor: finance, Amount: eur(20_000), BankTransactionID: "BTX-1", Reason: "paid twice by mistake"}, "")
	})
	w.at(5*time.Hour, func() {
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: buyer, Reason: "budget cut"}, "")
	})
	require.Equal(t, order.StatusCancelled, w.run().Status)
	require.Equal(t, []string{"refund BTX-1 200.00 EUR (ord-1/refund/2)", "void-invoice inv-1",
		"refund BTX-1 800.00 EUR (ord-1/refund/1)", "cancel-sales-order SO-1"}, w.undos)
}

func TestCSCancelWhileShippingUndoesEverythingInReverse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var cancel *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: buyer, Reason: "too late"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel}, workflows.ErrTypeInvalidArgument)
		cancel = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer called"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, []string{"cancel-shipment SH-WH-SOUTH", "cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, w.undos)
	require.Equal(t, order.StatusCancelled, cancel.res.Status, "the cancel action answers once compensation is done")
}

func TestFailedStepNeedsAttentionUntilCSRetries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var retry *pending
	w.reserveFailsOnce()
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention)
		require.Equal(t, "reserve stock", d.Failure.Step)
		require.Contains(t, d.Failure.Error, "insufficient stock")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: buyer, Action: workflows.ActionRetry, Reason: "x"}, workflows.ErrTypeForbidden)
		require.False(t, d.Failure.Skippable, "later steps need the reservation")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "x"}, workflows.ErrTypeInvalidState)
		retry = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "stock arrived"}, "")
	})
	w.at(3*time.Hour, func() {
		require.False(t, w.details().NeedsAttention)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "again"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "wrap up"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Contains(t, w.mailKinds(), mail.KindCSAlert)
	require.True(t, w.csAlerts()[0].Data.WaitsForCS, "the alert says the order waits for CS")
	require.Contains(t, retry.res.Message, "succeeded", "the retry action answers with the step's outcome")
	require.Subset(t, w.actions(), []string{"step.failed", "action.retry"})
	var sawAttention bool
	for _, r := range w.records {
		sawAttention = sawAttention || r.NeedsAttention
	}
	require.True(t, sawAttention, "NeedsAttention reached the projection")
}

// A buyer who accepts while the quote mail is still being retried has
// accepted: the quote was already AWAITING_ACCEPTANCE (the API and the UI
// showed it), so the answer must not be lost. Found by `orderflow bench`.
func TestAcceptWhileQuoteMailIsRetriedIsKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mailFails[mail.KindQuote] = 1 // the mail's first try fails; the retry waits a second
	var accept *pending
	w.at(500*time.Millisecond, func() {
		require.Equal(t, order.StatusAwaitingAcceptance, w.details().Status)
		require.Empty(t, w.mailKinds(), "the quote mail is still being retried")
		accept = w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "")
	})
	w.at(time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "the early acceptance took the order on (%s)", d.Waiting)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "end of test"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, order.StatusCreditCheck, accept.res.Status, "accept answers with where the order went")
	require.Contains(t, w.actions(), "quote.accepted")
	require.Contains(t, w.mailKinds(), mail.KindQuote, "the quote mail still went out (beside the order, which did not wait for it)")
}

// A CS retry that arrives while the CS alert mail is still being retried is
// the retry CS asked for: the order already showed NeedsAttention.
func TestRetryWhileCSAlertIsRetriedIsKept(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mailFails[mail.KindCSAlert] = 1
	calls := w.reserveFailsOnce()
	var retry *pending
	w.at(time.Hour, func() {
		w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "")
		// The reservation fails at once; the CS alert's first try fails and its retry waits a second.
		w.at(500*time.Millisecond, func() {
			d := w.details()
			require.True(t, d.NeedsAttention)
			require.NotContains(t, w.mailKinds(), mail.KindCSAlert, "the CS alert is still being retried")
			retry = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionRetry, Reason: "stock arrived"}, "")
		})
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.False(t, d.NeedsAttention, "the retry ran (%s)", d.Waiting)
		require.Equal(t, order.StatusShipping, d.Status)
		w.update(workflows.UpdateCancel, workflows.CancelInput{Actor: cs, Reason: "end of test"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Equal(t, 2, *calls, "the reservation ran again on CS's retry")
	require.Contains(t, retry.res.Message, "succeeded")
}

// An undo that cannot be done (the carrier will not cancel a shipment it has
// handed over) stops the cancellation until CS acts; CS skips it with a
// reason, and the remaining undos run.
func TestUndoThatCannotBeDoneIsSkippedByCS(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.carrierRefusesToCancel("SH-WH-SOUTH")
	var skip *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		require.Equal(t, order.StatusShipping, w.details().Status)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "customer went bankrupt"}, "")
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.True(t, d.NeedsAttention)
		require.Equal(t, "undo: cancel shipment SH-WH-SOUTH from WH-SOUTH", d.Failure.Step)
		require.True(t, d.Failure.Skippable)
		alerts := w.csAlerts()
		require.True(t, alerts[len(alerts)-1].Data.CanSkip, "the alert offers the skip")
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip}, workflows.ErrTypeInvalidArgument) // no reason
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: buyer, Action: workflows.ActionSkip, Reason: "x"}, workflows.ErrTypeForbidden)
		skip = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "goods collected back by our driver"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Contains(t, skip.res.Message, "Skipped undo: cancel shipment SH-WH-SOUTH")
	require.Equal(t, []string{"cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, w.undos,
		"the other undos ran, in reverse order, after the skip")
	acts := w.actions()
	require.Contains(t, acts, "action.skip")
	require.Contains(t, acts, "compensation.skipped")
	require.Less(t, slices.Index(acts, "compensation.skipped"), slices.Index(acts, "order.cancelled"))
}

func TestCSResendsTheLastMailOfAKind(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var resend *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer, Revision: 1}, "") })
	w.at(2*time.Hour, w.deliverAll)
	w.at(3*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: buyer, Action: workflows.ActionResend, Mail: mail.KindInvoice, Reason: "x"}, workflows.ErrTypeForbidden)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend, Mail: mail.KindDunning, Reason: "x"}, workflows.ErrTypeInvalidState)
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend, Mail: mail.KindInvoice}, workflows.ErrTypeInvalidArgument)
		resend = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend, Mail: mail.KindInvoice, Reason: "buyer's AP lost it"}, "")
	})
	w.at(4*time.Hour, func() {
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
		w.pay("BTX-1", mainTotal)
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	require.Contains(t, resend.res.Message, "Resent the invoice mail to buyer")
	var invoices []activities.SendMailInput
	for _, m := range w.mails {
		if m.Kind == mail.KindInvoice {
			invoices = append(invoices, m)
		}
	}
	require.Len(t, invoices, 2)
	require.NotEqual(t, invoices[0].Key, invoices[1].Key, "a resend is a new message, not a duplicate")
	require.Equal(t, invoices[0].Data, invoices[1].Data, "with the same content")
	require.Equal(t, invoices[0].Audience, invoices[1].Audience)
	require.Contains(t, w.actions(), "action.resend")
}

func TestFailedStepCancelledByCSUndoesNothingNotDone(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.reserve = func() (activities.ReserveResult, error) {
		return activities.ReserveResult{}, temporal.NewNonRetryableApplicationError("ERP says no", activities.ErrTypeRejected, nil)
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionCancel, Reason: "cannot fulfil"}, "")
	})
	res := w.run()
	require.Equal(t, order.StatusCancelled, res.Status)
	require.Empty(t, w.undos)
}

func TestDeliveryOverdueAlertsCSAndPollingFindsDelivery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	// Promised 2030-01-01; the test clock starts now, so it is long overdue
	// at the first poll. The webhooks never come; the poll finds the delivery.
	w.at(8*time.Hour, func() {
		d := w.details()
		require.True(t, d.DeliveryOverdue)
		require.Equal(t, order.StatusShipping, d.Status, "an overdue order keeps waiting")
		w.track = "delivered"
	})
	// Once overdue, the carrier is looked at daily (changeBoundedCadence).
	w.at(40*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status)
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 3, Comment: "late"})
		w.pay("BTX-1", eur(100_000))
		w.pay("BTX-2", eur(400_000))
	})
	w.env.SetStartTime(time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC))
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	acts := w.actions()
	require.Contains(t, acts, "delivery.overdue")
	require.Contains(t, acts, "payment.partial")
	require.Contains(t, acts, "payment.overpayment")
	cs := 0
	for _, m := range w.mails {
		if m.Kind == mail.KindCSAlert {
			cs++
			require.False(t, m.Data.WaitsForCS, "the order keeps going: %s", m.Data.Error)
		}
	}
	require.Equal(t, 3, cs, "one overdue alert and a detractor alert per delivery scored 3")
	rep := 0
	for _, m := range w.mails {
		if m.Kind == mail.KindRepDetractor {
			rep++
			require.Equal(t, activities.AudienceRep, m.Audience)
			require.Equal(t, 3, *m.Data.Score)
			require.Equal(t, "late", m.Data.Comment)
		}
	}
	require.Equal(t, 2, rep, "the rep hears of each detractor's answer")
	require.Contains(t, w.mailKinds(), mail.KindFinanceAlert, "the overpayment is flagged to finance")
}

// csAlerts returns the CS alert mails sent so far.
func (w *world) csAlerts() []activities.SendMailInput {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []activities.SendMailInput
	for _, m := range w.mails {
		if m.Kind == mail.KindCSAlert {
			out = append(out, m)
		}
	}
	return out
}

func TestCarrierExceptionAlertsCSAndTheOrderKeepsWaiting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	exc := workflows.ShipmentExceptionSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-exc-1", Detail: "consignee closed, second attempt tomorrow"}
	w.at(2*time.Hour, func() {
		w.signal(workflows.SignalShipmentException, exc)
		w.signal(workflows.SignalShipmentException, exc) // the carrier retries; one alert
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "an exception is not a failure: the order keeps waiting")
		require.False(t, d.NeedsAttention)
		require.Equal(t, "consignee closed, second attempt tomorrow", d.Shipments[1].Exception)
		require.Empty(t, d.Shipments[0].Exception)
		require.Contains(t, d.Waiting, "Carrier reports a problem with SH-WH-SOUTH: consignee closed")
		alerts := w.csAlerts()
		require.Len(t, alerts, 1)
		require.Contains(t, alerts[0].Data.Error, "SH-WH-SOUTH")
		require.False(t, alerts[0].Data.WaitsForCS)
		w.deliverAll()
	})
	w.at(4*time.Hour, func() {
		require.Equal(t, order.StatusAwaitingPayment, w.details().Status, "the second attempt delivered")
		w.answerSurveys(workflows.SurveyAnsweredSignal{Score: 9})
		w.pay("BTX-1", mainTotal)
	})
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	n := 0
	for _, a := range w.actions() {
		if a == "shipment.exception" {
			n++
		}
	}
	require.Equal(t, 1, n, "one audit entry for the exception")
}

func TestUnansweredSurveyClosesAndDunningRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, w.deliverAll)
	w.at(45*24*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)
	kinds := w.mailKinds()
	require.Contains(t, kinds, mail.KindSurveyReminder)
	require.Contains(t, kinds, mail.KindDunning)
	require.Contains(t, w.actions(), "survey.closed")
	for _, sv := range w.details().Surveys {
		require.Equal(t, "closed unanswered", sv.State, sv.ShipmentID)
		require.True(t, sv.Closed)
	}
	require.Len(t, w.details().Surveys, 2)
}

func TestTemporalCancellationCompensates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, w.env.CancelWorkflow)
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{OrderID: "ord-1", CustomerID: "ACME-001",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, RequestedBy: buyer})
	require.True(t, w.env.IsWorkflowCompleted())
	require.Equal(t, []string{"cancel-shipment SH-WH-SOUTH", "cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, w.undos)
	require.Equal(t, order.StatusCancelled, w.statuses()[len(w.statuses())-1])
}

// After a cancel from the Temporal UI the workflow still answers CS: an undo
// that cannot be done is skipped through an update, which must not fail
// because the workflow's context is cancelled.
func TestTemporalCancelledOrderStillAnswersCS(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.carrierRefusesToCancel("SH-WH-SOUTH")
	var skip *pending
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, w.env.CancelWorkflow)
	w.at(3*time.Hour, func() {
		require.True(t, w.details().NeedsAttention)
		skip = w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionSkip, Reason: "collected by hand"}, "")
	})
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{OrderID: "ord-1", CustomerID: "ACME-001",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}, {SKU: "MOTOR-7K", Quantity: 1}}, RequestedBy: buyer})
	require.True(t, w.env.IsWorkflowCompleted())
	require.NotNil(t, skip)
	require.True(t, skip.done, "the skip got an answer")
	require.Contains(t, skip.res.Message, "Skipped")
	require.Equal(t, []string{"cancel-shipment SH-WH-NORTH", "cancel-sales-order SO-1"}, w.undos)
	require.Equal(t, order.StatusCancelled, w.statuses()[len(w.statuses())-1])
	acts := w.actions()
	require.Contains(t, acts, "action.skip", "the skip is in the audit log")
	require.Equal(t, "order.cancelled", acts[len(acts)-1])
}

// A cancel from the Temporal UI while the reservation is being retried (its
// first answer was lost: the ERP did reserve) lets the call finish, so the
// sales order's undo is registered and run, and books nothing more.
func TestTemporalCancelDuringReservationUndoesIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	calls := 0
	w.reserve = func() (activities.ReserveResult, error) {
		calls++
		if calls == 1 {
			return activities.ReserveResult{}, temporal.NewApplicationError("erp: answer lost", activities.ErrTypeUnavailable)
		}
		return activities.ReserveResult{SalesOrderID: "SO-1", Shipments: []order.Shipment{{Warehouse: "WH-NORTH", Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}}}}, nil
	}
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(time.Hour+500*time.Millisecond, w.env.CancelWorkflow) // during the retry's backoff
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{OrderID: "ord-1", CustomerID: "ACME-001",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, RequestedBy: buyer})
	require.True(t, w.env.IsWorkflowCompleted())
	// The call in flight is abandoned: its undo, registered by the call's
	// idempotency key before it was made, finds whatever the ERP made.
	require.Equal(t, 1, calls, "the reservation call was abandoned")
	require.Equal(t, []string{"cancel-sales-order by key ord-1/sales-order"}, w.undos, "and its undo ran by key; no shipment was booked")
	require.Equal(t, order.StatusCancelled, w.statuses()[len(w.statuses())-1])
}

// Once the order's final status is recorded, a cancel from the Temporal UI
// (here while a CS resend still waits for the mail system) does not undo it.
func TestTemporalCancelAfterTheEndChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() {
		w.mailFails[mail.KindQuote] = 1000 // the mail system is down: the resend's answer waits
		w.update(workflows.UpdateAction, workflows.ActionInput{Actor: cs, Action: workflows.ActionResend, Mail: mail.KindQuote, Reason: "lost"}, "")
		w.at(time.Second, func() {
			w.update(workflows.UpdateReject, workflows.RejectInput{Actor: buyer, Reason: "too expensive"}, "")
		})
		w.at(5*time.Second, w.env.CancelWorkflow)
	})
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{OrderID: "ord-1", CustomerID: "ACME-001",
		Lines: []order.Line{{SKU: "PUMP-200", Quantity: 2}}, RequestedBy: buyer})
	require.True(t, w.env.IsWorkflowCompleted())
	require.NoError(t, w.env.GetWorkflowError())
	var res workflows.OrderResult
	require.NoError(t, w.env.GetWorkflowResult(&res))
	require.Equal(t, order.StatusQuoteRejected, res.Status)
	require.NotContains(t, w.mailKinds(), mail.KindOrderCancelled)
	require.NotContains(t, w.actions(), "order.cancelling")
}

func TestInvalidInputFailsFast(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.ExecuteWorkflow(workflows.OrderWorkflowName, workflows.OrderInput{OrderID: "ord-1", CustomerID: "ACME-001"})
	require.True(t, w.env.IsWorkflowCompleted())
	var ae *temporal.ApplicationError
	require.True(t, errors.As(w.env.GetWorkflowError(), &ae))
	require.Equal(t, workflows.ErrTypeInvalidArgument, ae.Type())
	require.True(t, slices.Equal(nil, w.statuses()))
}
