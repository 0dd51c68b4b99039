package carrier

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/order"
)

// System names the carrier in errors, logs and breaker metrics.
const System = "carrier"

// Shipment statuses as the carrier reports them in Tracking.Status.
const (
	StatusBooked    = "booked"
	StatusInTransit = "in_transit"
	StatusDelivered = "delivered"
	StatusCancelled = "cancelled"
	StatusException = "exception"
	// StatusReturned ends a return pickup: the goods are back.
	StatusReturned = "returned"
)

// Client calls the carrier's HTTP API.
type Client struct {
	http *downstream.Client
}

// New returns a client of the carrier at baseURL behind breaker b.
func New(baseURL string, b *downstream.Breaker) *Client {
	return &Client{http: downstream.NewClient(System, baseURL, b)}
}

// BookingRequest asks the carrier to move one warehouse's lines.
type BookingRequest struct {
	// Reference is our order id; the carrier's webhooks echo it.
	Reference string
	Warehouse string
	Lines     []order.Line
}

// Booking is the carrier's answer to a booking.
type Booking struct {
	ShipmentID     string
	TrackingNumber string
	PromisedDate   time.Time
	// Carrier is the service that moves the goods (parcel, freight), ""
	// when the carrier does not say.
	Carrier string
}

// Tracking is where a shipment stands.
type Tracking struct {
	ShipmentID     string
	TrackingNumber string
	// Status is one of the Status constants.
	Status       string
	PromisedDate time.Time
	// DeliveredAt is zero until the shipment is delivered.
	DeliveredAt time.Time
}

// Delivered reports whether the carrier has proof of delivery.
func (t Tracking) Delivered() bool { return t.Status == StatusDelivered }

type bookBody struct {
	Reference string       `json:"reference"`
	Warehouse string       `json:"warehouse"`
	Lines     []order.Line `json:"lines"`
}

type bookAnswer struct {
	ShipmentID     string    `json:"shipment_id"`
	TrackingNumber string    `json:"tracking_number"`
	PromisedDate   time.Time `json:"promised_date"`
	Status         string    `json:"status"`
	Carrier        string    `json:"carrier"`
}

type trackAnswer struct {
	ShipmentID     string    `json:"shipment_id"`
	TrackingNumber string    `json:"tracking_number"`
	Reference      string    `json:"reference"`
	Status         string    `json:"status"`
	PromisedDate   time.Time `json:"promised_date"`
	DeliveredAt    time.Time `json:"delivered_at"`
}

// Book books a shipment. The same idemKey with the same request returns the
// first booking; the key must be stable across retries of one step. A
// reship of the same order and warehouse is another booking under a key of
// its own.
func (c *Client) Book(ctx context.Context, idemKey string, r BookingRequest) (Booking, error) {
	const op = "book shipment"
	if idemKey == "" {
		return Booking{}, c.permanent(op, "no idempotency key")
	}
	var a bookAnswer
	err := c.http.Call(ctx, op, http.MethodPost, "/v1/shipments", idemKey,
		bookBody{Reference: r.Reference, Warehouse: r.Warehouse, Lines: r.Lines}, &a)
	if err != nil {
		return Booking{}, err
	}
	if a.ShipmentID == "" || a.TrackingNumber == "" || a.PromisedDate.IsZero() {
		// A 2xx without these is a broken contract; retrying would book again for nothing.
		return Booking{}, c.permanent(op, "answer lacks shipment_id, tracking_number or promised_date")
	}
	return Booking{ShipmentID: a.ShipmentID, TrackingNumber: a.TrackingNumber, PromisedDate: a.PromisedDate, Carrier: a.Carrier}, nil
}

// Cancel cancels a shipment; cancelling one already cancelled succeeds. A
// delivered shipment cannot be cancelled (a permanent 409).
func (c *Client) Cancel(ctx context.Context, idemKey, shipmentID string) error {
	const op = "cancel shipment"
	switch {
	case idemKey == "":
		return c.permanent(op, "no idempotency key")
	case shipmentID == "":
		return c.permanent(op, "no shipment id")
	}
	return c.http.Call(ctx, op, http.MethodPost, "/v1/shipments/"+url.PathEscape(shipmentID)+"/cancel", idemKey, nil, nil)
}

// Undo is the carrier's answer to a cancel named by the idempotency key of
// the booking, for a shipper that lost the booking's answer.
type Undo struct {
	// Found is false when nothing was ever booked under the key: nothing to
	// cancel, which is a success. The carrier then refuses any later booking
	// under that key (409 undone_by_key).
	Found bool `json:"found"`
	// ShipmentID is the cancelled shipment when Found.
	ShipmentID string `json:"shipment_id,omitempty"`
}

// CancelByKey cancels the shipment booked under forwardKey (the idempotency
// key Book was called with); idemKey is the cancel's own key. A delivered
// shipment cannot be cancelled (a permanent 409).
func (c *Client) CancelByKey(ctx context.Context, idemKey, forwardKey string) (Undo, error) {
	const op = "cancel shipment by key"
	switch {
	case idemKey == "":
		return Undo{}, c.permanent(op, "no idempotency key")
	case forwardKey == "" || forwardKey == idemKey:
		return Undo{}, c.permanent(op, "the cancel needs the booking's idempotency key, and one of its own")
	}
	var out Undo
	body := struct {
		ForwardKey string `json:"forward_key"`
	}{forwardKey}
	if err := c.http.Call(ctx, op, http.MethodPost, "/v1/shipments/cancel-by-key", idemKey, body, &out); err != nil {
		return Undo{}, err
	}
	if out.Found && out.ShipmentID == "" {
		return Undo{}, c.permanent(op, "answer says found but names no shipment_id")
	}
	return out, nil
}

// Track asks the carrier where a shipment stands.
func (c *Client) Track(ctx context.Context, shipmentID string) (Tracking, error) {
	const op = "track shipment"
	if shipmentID == "" {
		return Tracking{}, c.permanent(op, "no shipment id")
	}
	var a trackAnswer
	if err := c.http.Call(ctx, op, http.MethodGet, "/v1/shipments/"+url.PathEscape(shipmentID), "", nil, &a); err != nil {
		return Tracking{}, err
	}
	if a.Status == "" {
		return Tracking{}, c.permanent(op, "answer lacks status")
	}
	return Tracking{
		ShipmentID: a.ShipmentID, TrackingNumber: a.TrackingNumber, Status: a.Status,
		PromisedDate: a.PromisedDate, DeliveredAt: a.DeliveredAt,
	}, nil
}

// permanent is a failure found before or after the call that no retry fixes.
func (c *Client) permanent(op, detail string) error {
	return &downstream.Error{System: System, Op: op, Permanent: true, Detail: detail}
}
