package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// A buyer invoiced per shipment reads what is left to pay on each
// invoice, while the rest travels and once all is delivered.
func TestBuyerDetailsPerShipment(t *testing.T) {
	usd := func(m int64) money.Money { return money.New(m, "USD") }
	due := time.Date(2027, 1, 16, 23, 59, 59, 0, time.UTC)
	d := &workflows.Details{
		Shipments: []order.Shipment{{Delivered: true, Invoice: "INV-1"}, {}},
		Invoices:  []order.Invoice{{Number: "INV-1", Amount: usd(139_000), DueDate: due}},
		Balances:  []workflows.InvoiceBalance{{Number: "INV-1", Open: usd(139_000)}},
		Paid:      ptrTo(usd(0)),
	}
	d.Invoice = &d.Invoices[0]
	require.Equal(t, "On its way: 1 of 2 shipment(s) delivered. Invoiced as delivered: invoice INV-1, 1390.00 USD to pay by 2027-01-16.",
		buyerDetails(order.StatusShipping, d, nil))

	d.Shipments[1] = order.Shipment{Delivered: true, Invoice: "INV-2"}
	d.Invoices = append(d.Invoices, order.Invoice{Number: "INV-2", Amount: usd(275_000), DueDate: due})
	d.Balances = []workflows.InvoiceBalance{{Number: "INV-1", Open: usd(0)}, {Number: "INV-2", Open: usd(275_000)}}
	d.Paid = ptrTo(usd(139_000))
	require.Equal(t, "2 invoices, one per shipment: invoice INV-1 paid; invoice INV-2, 2750.00 USD to pay by 2027-01-16. Pay each quoting its payment reference (RF…, on the invoice) or its invoice number.",
		buyerDetails(order.StatusAwaitingPayment, d, nil))
}

func ptrTo[T any](v T) *T { return &v }
