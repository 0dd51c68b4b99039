package mail

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

func eur(minor int64) money.Money { return money.New(minor, "EUR") }

func sampleQuote() *order.Quote {
	return &order.Quote{
		Revision: 2,
		Lines: []order.PricedLine{
			{SKU: "BOLT-M8", Quantity: 500, ListPrice: eur(40), UnitPrice: eur(35), Contract: true, Total: eur(17500)},
			{SKU: "DRILL-PRO-18V", Quantity: 3, ListPrice: eur(24900), UnitPrice: eur(24900), Total: eur(74700)},
		},
		Subtotal:         eur(92200),
		DiscountBP:       750,
		Discount:         eur(6915),
		Total:            eur(85285),
		ValidUntil:       time.Date(2026, 12, 24, 15, 0, 0, 0, time.UTC),
		LeadTimeDays:     5,
		PaymentTermsDays: 30,
	}
}

func sampleInvoice() *order.Invoice {
	return &order.Invoice{
		InvoiceID: "inv_7f3a", Number: "INV-2026-00042", Amount: eur(85285),
		IssuedAt: time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC),
		DueDate:  order.DueDate(time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), 30),
	}
}

const docURL = "http://localhost:8080/documents/Zk3q8V0nR2xYb7cWm1pL4a"

func sampleCreditNote() *order.CreditNote {
	return &order.CreditNote{CreditNoteID: "cn_1", Number: "CN-2026-00007", InvoiceNumber: "INV-2026-00042",
		IssuedAt: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), Amount: eur(11900), Net: eur(10000), Tax: eur(1900),
		Lines: []order.Line{{SKU: "DRILL-PRO-18V", Quantity: 5}}, Reason: "5 drills arrived damaged"}
}

func base() Data {
	return Data{OrderID: "ord-8c1e", CustomerName: "Acme Tools GmbH", PONumber: "PO-4711",
		OrderURL: "http://localhost:8080/v1/orders/ord-8c1e"}
}

func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	balance := eur(40000)
	credit := eur(1250)
	shipments := []order.Shipment{
		{Warehouse: "HAM", Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 500}}},
		{Warehouse: "MUC", Lines: []order.Line{{SKU: "DRILL-PRO-18V", Quantity: 3}}},
	}
	booked := order.Shipment{Warehouse: "HAM", Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 500}},
		ShipmentID: "shp_1", TrackingNumber: "1Z999AA10123456784", PromisedDate: time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)}
	needs := []order.ApprovalNeed{
		{Side: order.SideBuyer, Count: 1, Reason: "total 852.85 EUR exceeds the purchasing limit 500.00 EUR"},
		{Side: order.SideSeller, Count: 2, Reason: "total 852.85 EUR exceeds the dual-approval threshold 800.00 EUR"},
	}
	with := func(f func(*Data)) Data { d := base(); f(&d); return d }

	tests := []struct {
		kind        Kind
		data        Data
		subjectHas  []string
		textHas     []string
		textHasNone []string
	}{
		{KindQuote, with(func(d *Data) { d.Quote = sampleQuote(); d.AcceptURL = "http://localhost:8080/o/acc-tok" }),
			[]string{"ord-8c1e", "revision 2", "852.85 EUR", "PO-4711"},
			[]string{"Acme Tools GmbH", "BOLT-M8", "500", "0.35 EUR", "175.00 EUR", "contract price",
				"DRILL-PRO-18V", "249.00 EUR", "922.00 EUR", "7.50%", "-69.15 EUR", "852.85 EUR",
				"2026-12-24", "5 days", "30 days net", "http://localhost:8080/v1/orders/ord-8c1e",
				"Accept it online: http://localhost:8080/o/acc-tok"}, nil},
		{KindQuote, with(func(d *Data) {
			q := sampleQuote()
			q.Net, q.TaxRateBP, q.Tax, q.Total = q.Total, 1900, eur(16204), eur(101489)
			d.Quote = q
		}),
			[]string{"1014.89 EUR"},
			[]string{"Net", "852.85 EUR", "VAT 19.00%", "162.04 EUR", "1014.89 EUR"}, []string{"reverse charge"}},
		{KindQuote, with(func(d *Data) {
			q := sampleQuote()
			q.Net, q.Tax, q.ReverseCharge = q.Total, eur(0), true
			d.Quote = q
		}),
			[]string{"852.85 EUR"},
			[]string{"VAT: reverse charge", "0.00 EUR", "Reverse charge: VAT is accounted for by the customer."}, []string{"VAT 0"}},
		{KindQuoteReminder, with(func(d *Data) { d.Quote = sampleQuote(); d.AcceptURL = "http://localhost:8080/o/acc" }),
			[]string{"ord-8c1e", "2026-12-24"},
			[]string{"852.85 EUR", "2026-12-24", "Accept it online: http://localhost:8080/o/acc", "http://localhost:8080/v1/orders/ord-8c1e"}, nil},
		{KindQuoteExpired, with(func(d *Data) { d.Quote = sampleQuote() }),
			[]string{"ord-8c1e", "Acme Tools GmbH", "expired"},
			[]string{"expired on 2026-12-24", "852.85 EUR", "PO-4711", "contact the buyer"}, nil},
		{KindQuoteRejected, with(func(d *Data) { d.Quote = sampleQuote(); d.Reason = "found a cheaper supplier" }),
			[]string{"ord-8c1e", "rejected", "Acme Tools GmbH"},
			[]string{"found a cheaper supplier", "852.85 EUR", "contact the buyer"}, nil},
		{KindApprovalRequest, with(func(d *Data) { d.Quote = sampleQuote(); d.Needs = needs; d.ApproveURL = "http://localhost:8080/o/apr" }),
			[]string{"Approval needed", "ord-8c1e", "852.85 EUR"},
			[]string{"1 buyer-side approver", "purchasing limit 500.00 EUR", "2 seller-side approvers (distinct people)",
				"dual-approval threshold", "Approve or reject it here: http://localhost:8080/o/apr"}, nil},
		{KindApprovalReminder, with(func(d *Data) { d.Quote = sampleQuote(); d.Needs = needs[1:] }),
			[]string{"Reminder", "ord-8c1e", "approval"},
			[]string{"2 seller-side approvers", "852.85 EUR", "7.50%"}, []string{"buyer-side"}},
		{KindOrderConfirmed, with(func(d *Data) { d.Quote = sampleQuote(); d.Shipments = shipments }),
			[]string{"ord-8c1e", "confirmed", "PO-4711"},
			[]string{"2 shipments", "warehouse HAM", "BOLT-M8", "warehouse MUC", "DRILL-PRO-18V", "852.85 EUR"}, nil},
		{KindRepConfirmed, with(func(d *Data) { d.Quote = sampleQuote(); d.Shipments = shipments }),
			[]string{"ord-8c1e", "confirmed", "Acme Tools GmbH", "852.85 EUR"},
			[]string{"2 warehouses", "warehouse HAM", "DRILL-PRO-18V", "Nothing to do"}, nil},
		{KindRepApproval, with(func(d *Data) { d.Quote = sampleQuote(); d.Needs = needs }),
			[]string{"ord-8c1e", "waits for approval", "Acme Tools GmbH"},
			[]string{"1 buyer-side approver(s): total 852.85 EUR exceeds the purchasing limit 500.00 EUR", "2 seller-side approver(s)", "852.85 EUR", "follow up"}, nil},
		{KindShipmentBooked, with(func(d *Data) { d.Shipment = &booked }),
			[]string{"ord-8c1e", "HAM", "1Z999AA10123456784"},
			[]string{"Tracking number: 1Z999AA10123456784", "Promised delivery: 2026-12-09", "BOLT-M8"}, nil},
		{KindShipmentBooked, with(func(d *Data) { d.Shipment = &booked; d.Reason = "This shipment replaces SHP-1 (lost), at no charge." }),
			[]string{"ord-8c1e", "HAM"},
			[]string{"is booked with the carrier.\nThis shipment replaces SHP-1 (lost), at no charge.", "Tracking number: 1Z999AA10123456784"}, nil},
		{KindReturnAuthorised, with(func(d *Data) {
			d.RMA, d.Reason = "RMA-000001", "wrong model"
			d.Shipment = &order.Shipment{Warehouse: "HAM", ShipmentID: "RET-1", TrackingNumber: "1ZRET", PromisedDate: booked.PromisedDate,
				Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 100}}}
		}),
			[]string{"ord-8c1e", "return RMA-000001 authorised", "pickup on 2026-12-09"},
			[]string{"authorised the return RMA-000001 for your order ord-8c1e (wrong model)", "collects these goods on 2026-12-09, tracking number 1ZRET",
				"BOLT-M8                   100", "mark the parcel with RMA-000001", "warehouse HAM", "credit note", "refunded"}, nil},
		{KindInvoice, with(func(d *Data) { d.Invoice = sampleInvoice() }),
			[]string{"INV-2026-00042", "ord-8c1e", "852.85 EUR", "2026-12-31"},
			[]string{"Invoice number:     INV-2026-00042", "Amount due:         852.85 EUR",
				"Due date:           2026-12-31", "Payment reference:  RF36 INV2 0260 0042", "Invoice date:       2026-12-01"}, nil},
		{KindInvoice, with(func(d *Data) {
			inv := sampleInvoice()
			inv.Net, inv.Tax, inv.Amount = eur(85285), eur(16204), eur(101489)
			d.Invoice = inv
		}),
			[]string{"1014.89 EUR"},
			[]string{"Net amount:         852.85 EUR", "VAT:                162.04 EUR", "Amount due:         1014.89 EUR"}, []string{"reverse charge"}},
		{KindInvoice, with(func(d *Data) {
			inv := sampleInvoice()
			inv.Net, inv.Tax = inv.Amount, eur(0)
			q := sampleQuote()
			q.ReverseCharge = true
			d.Invoice, d.Quote = inv, q
		}),
			[]string{"852.85 EUR"},
			[]string{"VAT:                0.00 EUR (reverse charge: VAT is accounted for by the customer)"}, nil},
		{KindSurvey, with(func(d *Data) { d.SurveyURL = "http://localhost:8080/survey/tok_5d2b" }),
			[]string{"ord-8c1e"},
			[]string{"http://localhost:8080/survey/tok_5d2b", "0 (not at all) to 10"}, nil},
		{KindSurveyReminder, with(func(d *Data) { d.SurveyURL = "http://localhost:8080/survey/tok_5d2b" }),
			[]string{"Reminder", "ord-8c1e"},
			[]string{"http://localhost:8080/survey/tok_5d2b", "only reminder"}, nil},
		{KindSurvey, with(func(d *Data) {
			d.SurveyURL = "http://localhost:8080/survey/tok_5d2c"
			d.Shipment = &order.Shipment{Warehouse: "HAM", Carrier: "parcel", ShipmentID: "shp_1", Lines: []order.Line{{SKU: "BOLT-M8", Quantity: 500}}}
		}),
			[]string{"your delivery from HAM", "ord-8c1e"},
			[]string{"delivery shp_1 of order ord-8c1e has arrived by parcel", "BOLT-M8", "after this delivery", "http://localhost:8080/survey/tok_5d2c"}, nil},
		{KindSurveyReminder, with(func(d *Data) {
			d.SurveyURL = "http://localhost:8080/survey/tok_5d2c"
			d.Shipment = &order.Shipment{Warehouse: "HAM", ShipmentID: "shp_1"}
		}),
			[]string{"Reminder", "your delivery from HAM", "ord-8c1e"},
			[]string{"your delivery shp_1 of order ord-8c1e went", "http://localhost:8080/survey/tok_5d2c"}, nil},
		{KindRepDetractor, with(func(d *Data) {
			score := 4
			d.Score, d.Comment = &score, "two drills arrived broken"
			d.Shipment = &order.Shipment{Warehouse: "HAM", Carrier: "parcel", ShipmentID: "shp_1"}
		}),
			[]string{"Detractor", "ord-8c1e", "Acme Tools GmbH", "scored 4"},
			[]string{"delivery shp_1 from HAM (parcel)", "4 out of 10", "two drills arrived broken", "GET /v1/worklists/followups", "POST /v1/followups/{id}/close"}, nil},
		{KindInvoice, with(func(d *Data) { d.Invoice = sampleInvoice(); d.DocumentURL = docURL }),
			[]string{"INV-2026-00042"},
			[]string{"View or print the invoice: " + docURL, "Import it into your AP system (UBL 2.1): " + docURL + "/ubl"}, nil},
		{KindInvoice, with(func(d *Data) { d.Invoice = sampleInvoice() }),
			[]string{"INV-2026-00042"}, nil, []string{"View or print", "UBL", "/documents/"}},
		{KindDunning, with(func(d *Data) { d.Invoice = sampleInvoice(); d.Balance = &balance; d.DaysOverdue = 14 }),
			[]string{"Friendly reminder", "INV-2026-00042", "ord-8c1e", "2026-12-31"},
			[]string{"friendly reminder", "14 days overdue", "crossed with this mail", "Open balance:       400.00 EUR",
				"Invoice amount:     852.85 EUR", "Due date:           2026-12-31 (14 days overdue)",
				"Payment reference:  RF36 INV2 0260 0042", "please ignore this reminder"},
			[]string{"View or print", "final", "finance", "Second notice"}},
		{KindDunning, with(func(d *Data) {
			d.Invoice = sampleInvoice()
			d.Balance = &balance
			d.DaysOverdue = 1
			d.DocumentURL = docURL
		}),
			[]string{"Friendly reminder"},
			[]string{"1 day overdue", "View or print the invoice: " + docURL, docURL + "/ubl"}, []string{"1 days"}},
		{KindDunningSecond, with(func(d *Data) { d.Invoice = sampleInvoice(); d.Balance = &balance; d.DaysOverdue = 28 }),
			[]string{"Second notice", "INV-2026-00042", "28 days overdue"},
			[]string{"not yet received payment", "28 days overdue", "the open balance\nis 400.00 EUR",
				"Open balance:       400.00 EUR", "Please transfer the open balance of 400.00 EUR now",
				"contact our accounts team", "Payment reference:  RF36 INV2 0260 0042"},
			[]string{"View or print", "friendly", "Final notice", "late fee", "interest"}},
		{KindDunningSecond, with(func(d *Data) { d.Invoice = sampleInvoice(); d.Balance = &balance; d.DocumentURL = docURL }),
			[]string{"Second notice", "is overdue"},
			[]string{"View or print the invoice: " + docURL}, nil},
		{KindDunningFinal, with(func(d *Data) {
			d.Invoice = sampleInvoice()
			d.Balance = &balance
			d.DaysOverdue = 45
			d.DocumentURL = docURL
		}),
			[]string{"Final notice", "INV-2026-00042", "400.00 EUR"},
			[]string{"despite our earlier reminders", "45 days overdue", "balance is 400.00 EUR",
				"Our finance team now handles this invoice and will contact you", "counts against your credit limit", "View or print the invoice: " + docURL},
			[]string{"late fee", "interest", "legal", "court", "friendly"}},
		{KindCreditNote, with(func(d *Data) {
			d.Invoice = sampleInvoice()
			d.CreditNote = sampleCreditNote()
			d.DocumentURL = "http://localhost:8080/documents/cn_9Qx"
		}),
			[]string{"Credit note CN-2026-00007", "ord-8c1e", "119.00 EUR", "INV-2026-00042"},
			[]string{"credit note on invoice INV-2026-00042", "Credit note number: CN-2026-00007", "Credit note date:   2026-12-05",
				"Credits invoice:    INV-2026-00042 (852.85 EUR)", "Net amount:         100.00 EUR", "VAT:                19.00 EUR",
				"Amount credited:    119.00 EUR", "Reason:             5 drills arrived damaged", "DRILL-PRO-18V", "credit balance",
				"View or print the credit note: http://localhost:8080/documents/cn_9Qx",
				"Import it into your AP system (UBL 2.1): http://localhost:8080/documents/cn_9Qx/ubl"}, nil},
		{KindCreditNote, with(func(d *Data) {
			cn := sampleCreditNote()
			cn.Net, cn.Tax, cn.Lines, cn.Reason, cn.InvoiceNumber = money.Money{}, money.Money{}, nil, "", ""
			d.Invoice, d.CreditNote = sampleInvoice(), cn
		}),
			[]string{"Credit note CN-2026-00007", "INV-2026-00042"},
			[]string{"Amount credited:    119.00 EUR", "Credits invoice:    INV-2026-00042"},
			[]string{"Net amount", "Reason:", "Credited lines", "View or print", "/ubl"}},
		{KindOrderCancelled, with(func(d *Data) { d.Reason = "ordered twice by mistake" }),
			[]string{"ord-8c1e", "cancelled"},
			[]string{"ordered twice by mistake", "PO-4711"}, nil},
		{KindCSAlert, with(func(d *Data) {
			d.Step = "reserve-stock"
			d.Error = "erp: create sales order: HTTP 422: SKU DRILL-PRO-18V is discontinued (permanent: retrying cannot help)"
			d.WaitsForCS = true
		}),
			[]string{"Needs attention", "ord-8c1e", "reserve-stock"},
			[]string{"Step:   reserve-stock", "SKU DRILL-PRO-18V is discontinued", "waiting for you", "retry the step",
				"cancel the order with compensation", "/v1/orders/ord-8c1e/actions"}, []string{"skip", "keeps going"}},
		{KindCSAlert, with(func(d *Data) {
			d.Step = "undo: cancel shipment SHP-1 from WH-SOUTH"
			d.Error = "carrier: shipment already handed over"
			d.WaitsForCS, d.CanSkip = true, true
		}),
			[]string{"Needs attention", "undo: cancel shipment SHP-1"},
			[]string{"retry the step", "skip the step, giving a reason", "cancel the order"}, nil},
		{KindCSAlert, with(func(d *Data) {
			d.Step = "delivery"
			d.Error = "DELIVERY_OVERDUE: shipment SHP-1 was promised for 2026-12-01"
		}),
			[]string{"Needs attention", "ord-8c1e", "delivery"},
			[]string{"Step:   delivery", "DELIVERY_OVERDUE", "keeps going"}, []string{"waiting for you", "retry the step"}},
		{KindCSAlert, with(func(d *Data) { d.Reason = "detractor: NPS score 3, \"late and damaged\"" }),
			[]string{"Needs attention", "ord-8c1e"},
			[]string{"NPS score 3", "contact the customer"}, []string{"Step:", "retry the step"}},
		{KindFinanceAlert, with(func(d *Data) {
			d.Reason = "credit limit exceeded"
			d.Exposure = &order.Exposure{OpenReceivables: eur(900000), OpenOrders: eur(150000), ThisOrder: eur(85285),
				Total: eur(1135285), Limit: eur(1000000), WithinLimit: false}
		}),
			[]string{"credit hold", "ord-8c1e", "Acme Tools GmbH"},
			[]string{"9000.00 EUR", "1500.00 EUR", "852.85 EUR", "11352.85 EUR", "10000.00 EUR", "(exceeded)",
				"prepayment", "/v1/orders/ord-8c1e/credit-decision"}, nil},
		{KindFinanceAlert, with(func(d *Data) {
			d.Reason = "overpayment: credit balance to refund or allocate"
			d.Balance = &credit
			d.Invoice = sampleInvoice()
		}),
			[]string{"overpayment", "ord-8c1e"},
			[]string{"Amount: 12.50 EUR", "INV-2026-00042", "allocate"}, []string{"credit-decision"}},
		{KindFinanceAlert, Data{Reason: "unmatched payment: reference \"XYZ\" matches no invoice", Balance: &credit},
			[]string{"unmatched payment"},
			[]string{"a payment needs a decision", "XYZ", "12.50 EUR"}, []string{"Order:"}},
	}
	covered := map[Kind]bool{}
	for _, tt := range tests {
		covered[tt.kind] = true
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			subject, text, err := Render(tt.kind, tt.data)
			require.NoError(t, err)
			require.NotContains(t, subject, "\n")
			for _, s := range tt.subjectHas {
				require.Contains(t, subject, s, "subject")
			}
			for _, s := range tt.textHas {
				require.Contains(t, text, s, "text:\n%s", text)
			}
			for _, s := range tt.textHasNone {
				require.NotContains(t, text, s, "text:\n%s", text)
			}
			// Template accidents a reader would notice.
			for _, bad := range []string{"<no value>", "<nil>", "%!", "0001-01-01", "{{", "\n\n\n"} {
				require.NotContains(t, subject+"\n"+text, bad, "text:\n%s", text)
			}
			require.True(t, strings.HasSuffix(text, "\n") && !strings.HasSuffix(text, "\n\n"))
			if testing.Verbose() {
				t.Logf("Subject: %s\n\n%s", subject, text)
			}
		})
	}
	for _, k := range Kinds() {
		require.True(t, covered[k], "kind %s has no render test", k)
	}
}

func TestRenderRefusesMissingData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind Kind
		data Data
		want string
	}{
		{KindQuote, base(), "Data.Quote"},
		{KindQuote, Data{Quote: sampleQuote()}, "Data.OrderID"},
		{KindInvoice, base(), "Data.Invoice"},
		{KindDunning, base(), "Data.Invoice"},
		{KindDunning, Data{OrderID: "o", Invoice: sampleInvoice()}, "Data.Balance"},
		{KindDunningSecond, Data{OrderID: "o", Invoice: sampleInvoice()}, "Data.Balance"},
		{KindDunningFinal, base(), "Data.Invoice"},
		{KindCreditNote, Data{OrderID: "o", Invoice: sampleInvoice()}, "Data.CreditNote"},
		{KindCreditNote, Data{OrderID: "o", CreditNote: sampleCreditNote()}, "Data.Invoice"},
		{KindSurvey, base(), "Data.SurveyURL"},
		{KindApprovalRequest, base(), "Data.Needs"},
		{KindOrderConfirmed, base(), "Data.Shipments"},
		{KindShipmentBooked, base(), "Data.Shipment"},
		{KindCSAlert, base(), "Data.Step, Error or Reason"},
		{KindFinanceAlert, base(), "Data.Reason or Exposure"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.want, func(t *testing.T) {
			t.Parallel()
			_, _, err := Render(tt.kind, tt.data)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, string(tt.kind))
		})
	}
}

func TestRenderUnknownKind(t *testing.T) {
	t.Parallel()
	_, _, err := Render("fax", base())
	require.True(t, errors.Is(err, ErrUnknownKind), "got %v", err)
}

func TestRenderFoldsSubjectToOneLine(t *testing.T) {
	t.Parallel()
	d := base()
	d.PONumber = "PO-1\r\nBcc: victim@example.com"
	d.Quote = sampleQuote()
	subject, _, err := Render(KindQuote, d)
	require.NoError(t, err)
	require.NotContains(t, subject, "\n")
	require.NotContains(t, subject, "\r")
	require.Contains(t, subject, "PO-1 Bcc: victim@example.com")
}

func TestDunningKind(t *testing.T) {
	t.Parallel()
	require.Equal(t, KindDunning, DunningKind(1, false))
	require.Equal(t, KindDunning, DunningKind(0, false))
	require.Equal(t, KindDunningSecond, DunningKind(2, false))
	require.Equal(t, KindDunningSecond, DunningKind(5, false), "second notices until finance has the invoice")
	require.Equal(t, KindDunningFinal, DunningKind(5, true))
	require.Equal(t, KindDunningFinal, DunningKind(9, true))
}

func TestKindsInLifecycleOrder(t *testing.T) {
	t.Parallel()
	k := Kinds()
	require.Less(t, slices.Index(k, KindInvoice), slices.Index(k, KindDunning))
	require.Equal(t, []Kind{KindDunning, KindDunningSecond, KindDunningFinal}, k[slices.Index(k, KindDunning):slices.Index(k, KindDunning)+3])
	require.Contains(t, k, KindCreditNote)
}

// The rep's mail of a rejected or expired quote names the quote-lost
// follow-up only when the customer's workflow opens one.
func TestLostQuoteMailNamesTheFollowUpWhenThereIsOne(t *testing.T) {
	t.Parallel()
	for _, kind := range []Kind{KindQuoteRejected, KindQuoteExpired} {
		d := base()
		d.Quote = sampleQuote()
		d.Reason = "found a cheaper supplier"
		_, without, err := Render(kind, d)
		require.NoError(t, err)
		require.NotContains(t, without, "follow-up", kind)
		d.FollowUp = true
		_, with, err := Render(kind, d)
		require.NoError(t, err)
		require.Contains(t, with, "A quote-lost follow-up for it is in your worklist", kind)
		require.Contains(t, with, "POST /v1/followups/{id}/reopen", kind)
	}
}
