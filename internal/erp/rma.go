package erp

import (
	"context"
	"net/http"
	"net/url"

	"github.com/orderflow/orderflow/internal/order"
)

// RMARequest asks the ERP to authorise the return of lines of a sales order
// whose goods left the warehouse.
type RMARequest struct {
	OrderID      string       `json:"order_id"`
	SalesOrderID string       `json:"sales_order_id"`
	CustomerID   string       `json:"customer_id"`
	Lines        []order.Line `json:"lines"`
	Reason       string       `json:"reason,omitempty"`
}

// RMA is a return authorisation.
type RMA struct {
	RMAID        string `json:"rma_id"`
	SalesOrderID string `json:"sales_order_id"`
	// Status is "authorised", "received" or "cancelled".
	Status string       `json:"status"`
	Lines  []order.Line `json:"lines"`
}

// CreateRMA authorises a return. Retrying with the same idemKey and request
// returns the same RMA. Returning more of a SKU than the sales order
// delivered less what other RMAs take back (422 return_exceeds_delivered),
// a SKU it does not hold (422 sku_not_on_sales_order) or goods that never
// left the warehouse (409 not_delivered) are permanent errors.
func (c *Client) CreateRMA(ctx context.Context, idemKey string, r RMARequest) (RMA, error) {
	const op = "authorise return"
	if err := requireKey(op, idemKey); err != nil {
		return RMA{}, err
	}
	var out RMA
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/rmas", idemKey, r, &out); err != nil {
		return RMA{}, err
	}
	if out.RMAID == "" {
		return RMA{}, contractBreak(op, "the answer carries no rma_id")
	}
	return out, nil
}

// CancelRMA withdraws a return authorisation; cancelling a cancelled one
// succeeds, a received one is a permanent error (409 rma_received).
func (c *Client) CancelRMA(ctx context.Context, idemKey, rmaID string) error {
	const op = "cancel return authorisation"
	if err := requireKey(op, idemKey); err != nil {
		return err
	}
	return c.http.Call(ctx, op, http.MethodPost, "/v1/rmas/"+url.PathEscape(rmaID)+"/cancel", idemKey, nil, nil)
}

// CancelRMAByKey cancels the RMA authorised under forwardKey (the key
// CreateRMA was called with); idemKey is the cancel's own key. Undo.Found
// is false when no RMA was ever authorised under forwardKey.
func (c *Client) CancelRMAByKey(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "cancel return authorisation by key"
	return c.undoByKey(ctx, op, "/v1/rmas/cancel-by-key", idemKey, forwardKey,
		func(u Undo) bool { return u.RMAID != "" })
}

// ReceiveRMA books the returned goods in: they go back on hand in the
// warehouse they left from. Receiving twice succeeds; a cancelled RMA is a
// permanent error (409 rma_cancelled).
func (c *Client) ReceiveRMA(ctx context.Context, idemKey, rmaID string) (RMA, error) {
	const op = "receive returned goods"
	if err := requireKey(op, idemKey); err != nil {
		return RMA{}, err
	}
	var out RMA
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/rmas/"+url.PathEscape(rmaID)+"/receive", idemKey, nil, &out); err != nil {
		return RMA{}, err
	}
	return out, nil
}
