package erp

import (
	"context"
	"net/http"

	"github.com/orderflow/orderflow/internal/order"
)

// ReplacementOrderRequest asks the ERP for a replacement sales order: a
// reship of goods lost or damaged, from stock, linked to the sales order it
// replaces (Replaces), never invoiced.
type ReplacementOrderRequest struct {
	OrderID    string       `json:"order_id"`
	CustomerID string       `json:"customer_id"`
	Replaces   string       `json:"replaces"`
	Lines      []order.Line `json:"lines"`
	Reason     string       `json:"reason,omitempty"`
}

// CreateReplacementOrder creates a replacement sales order; its goods leave
// the warehouse at once (one reservation per warehouse, each one shipment,
// as for CreateSalesOrder). Retrying with the same idemKey and request
// returns the same order. Cancel it like any sales order (CancelSalesOrder,
// CancelSalesOrderByKey): its goods go back on hand. Not enough stock (409
// insufficient_stock), a SKU the original does not hold or more than it
// held (422) are permanent errors.
func (c *Client) CreateReplacementOrder(ctx context.Context, idemKey string, r ReplacementOrderRequest) (SalesOrder, error) {
	const op = "create replacement order"
	if err := requireKey(op, idemKey); err != nil {
		return SalesOrder{}, err
	}
	var out SalesOrder
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/replacement-orders", idemKey, r, &out); err != nil {
		return SalesOrder{}, err
	}
	if out.ID == "" {
		return SalesOrder{}, contractBreak(op, "the answer carries no sales_order_id")
	}
	return out, nil
}
