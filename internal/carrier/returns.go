package carrier

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/orderflow/orderflow/internal/order"
)

// ReturnRequest asks the carrier to collect goods from the customer and
// bring them back to a warehouse.
type ReturnRequest struct {
	// Reference is our order id; the carrier's "returned" webhook echoes it.
	Reference string
	// RMA is the ERP's return authorisation, for the label.
	RMA string
	// Warehouse is where the goods go back to.
	Warehouse string
	Lines     []order.Line
}

// ReturnBooking is the carrier's answer to a return pickup booking.
type ReturnBooking struct {
	ReturnID       string
	TrackingNumber string
	PickupDate     time.Time
}

type returnBody struct {
	Reference string       `json:"reference"`
	RMA       string       `json:"rma,omitempty"`
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

type returnAnswer struct {
	ReturnID       string    `json:"return_id"`
	TrackingNumber string    `json:"tracking_number"`
	PickupDate     time.Time `json:"pickup_date"`
	Status         string    `json:"status"`
}

// BookReturn books a return pickup. The same idemKey with the same request
// returns the first booking. When the goods are back the carrier posts a
// signed "returned" event whose shipment_id is the ReturnID; Track follows
// a return like a shipment (StatusReturned at the end).
func (c *Client) BookReturn(ctx context.Context, idemKey string, r ReturnRequest) (ReturnBooking, error) {
	const op = "book return pickup"
	if idemKey == "" {
		return ReturnBooking{}, c.permanent(op, "no idempotency key")
	}
	var a returnAnswer
	err := c.http.Call(ctx, op, http.MethodPost, "/v1/returns", idemKey,
		returnBody{Reference: r.Reference, RMA: r.RMA, Warehouse: r.Warehouse, Lines: r.Lines}, &a)
	if err != nil {
		return ReturnBooking{}, err
	}
	if a.ReturnID == "" || a.TrackingNumber == "" || a.PickupDate.IsZero() {
		return ReturnBooking{}, c.permanent(op, "answer lacks return_id, tracking_number or pickup_date")
	}
	return ReturnBooking{ReturnID: a.ReturnID, TrackingNumber: a.TrackingNumber, PickupDate: a.PickupDate}, nil
}

// CancelReturn cancels a return pickup; cancelling one already cancelled
// succeeds, one whose goods are back is a permanent 409.
func (c *Client) CancelReturn(ctx context.Context, idemKey, returnID string) error {
	const op = "cancel return pickup"
	switch {
	case idemKey == "":
		return c.permanent(op, "no idempotency key")
	case returnID == "":
		return c.permanent(op, "no return id")
	}
	return c.http.Call(ctx, op, http.MethodPost, "/v1/returns/"+url.PathEscape(returnID)+"/cancel", idemKey, nil, nil)
}

// ReturnUndo is the carrier's answer to a return pickup cancelled by the
// key it was booked under.
type ReturnUndo struct {
	// Found is false when nothing was booked under the key: nothing to
	// cancel, a success; the carrier then refuses a later booking under it.
	Found bool `json:"found"`
	// ReturnID is the cancelled return pickup when Found.
	ReturnID string `json:"return_id,omitempty"`
}

// CancelReturnByKey cancels the return pickup booked under forwardKey (the
// key BookReturn was called with); idemKey is the cancel's own key.
func (c *Client) CancelReturnByKey(ctx context.Context, idemKey, forwardKey string) (ReturnUndo, error) {
	const op = "cancel return pickup by key"
	switch {
	case idemKey == "":
		return ReturnUndo{}, c.permanent(op, "no idempotency key")
	case forwardKey == "" || forwardKey == idemKey:
		return ReturnUndo{}, c.permanent(op, "the cancel needs the booking's idempotency key, and one of its own")
	}
	var out ReturnUndo
	body := struct {
		ForwardKey string `json:"forward_key"`
	}{forwardKey}
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/returns/cancel-by-key", idemKey, body, &out); err != nil {
		return ReturnUndo{}, err
	}
	if out.Found && out.ReturnID == "" {
		return ReturnUndo{}, c.permanent(op, "answer says found but names no return_id")
	}
	return out, nil
}
