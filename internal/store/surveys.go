package store

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/order"
)

// MaxSurveyComment bounds the survey's free-text comment, in characters.
const MaxSurveyComment = 2000

// NewSurvey is one NPS survey to open: of an order, or of one delivered
// shipment of it (the fulfilment scenario: its warehouse, carrier and
// products). ShipmentID "" is the one survey of an order surveyed whole.
type NewSurvey struct {
	OrderID    string
	ShipmentID string
	CustomerID string
	Warehouse  string
	Carrier    string
	SKUs       []string
	// Token is the link's secret; ExpiresAt ends the window.
	Token     string
	ExpiresAt time.Time
}

// CreateSurvey creates an NPS survey, reachable by token until its expiry.
// An order has one survey per shipment (or one in all): when it has that
// survey already, the stored one is returned, with its own token, so a
// retried activity mails the same link.
func (s *Store) CreateSurvey(ctx context.Context, n NewSurvey) (Survey, error) {
	what := fmt.Sprintf("create survey of order %q", n.OrderID)
	if n.ShipmentID != "" {
		what += fmt.Sprintf(" shipment %q", n.ShipmentID)
	}
	switch {
	case n.OrderID == "" || n.Token == "":
		return Survey{}, fmt.Errorf("%s: order id and token are required", what)
	case n.ExpiresAt.IsZero():
		return Survey{}, fmt.Errorf("%s: no expiry", what)
	}
	// Conflicts on the order and shipment only: a token that collides with
	// another survey must fail, not be mistaken for this one.
	_, err := s.pool.Exec(ctx, `
		INSERT INTO surveys (token, order_id, shipment_id, customer_id, warehouse, carrier, skus, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (order_id, shipment_id) DO NOTHING`,
		n.Token, n.OrderID, n.ShipmentID, n.CustomerID, n.Warehouse, n.Carrier, nonNil(n.SKUs), n.ExpiresAt)
	if err != nil {
		return Survey{}, dbError(what, err)
	}
	sv, err := scanSurvey(s.pool.QueryRow(ctx, `
		SELECT `+surveyColumns+`
		FROM surveys
		WHERE order_id = $1 AND shipment_id = $2`, n.OrderID, n.ShipmentID))
	if err != nil {
		return Survey{}, dbError(what+": read back", err)
	}
	return sv, nil
}

// surveyColumns are what scanSurvey reads, in its order.
const surveyColumns = `token, order_id, shipment_id, customer_id, warehouse, carrier, skus,
	created_at, expires_at, score, comment, answered_at, closed`

// SurveyByToken returns the survey a link points to; ErrNotFound for an
// unknown token.
func (s *Store) SurveyByToken(ctx context.Context, token string) (Survey, error) {
	sv, err := scanSurvey(s.pool.QueryRow(ctx, `
		SELECT `+surveyColumns+`
		FROM surveys
		WHERE token = $1`, token))
	if err != nil {
		return Survey{}, dbError("survey by token", err)
	}
	return sv, nil
}

// AnswerSurvey stores the buyer's answer. The first answer wins: a repeat
// returns the stored answer with fresh=false and no error, so a double submit
// shows the buyer the same thank-you page. A survey that is closed, or whose
// expiry is before at, gives ErrSurveyClosed; a score outside 0..10 or an
// overlong comment is an *order.FieldError.
func (s *Store) AnswerSurvey(ctx context.Context, token string, score int, comment string, at time.Time) (sv Survey, fresh bool, err error) {
	const what = "answer survey"
	if score < 0 || score > 10 {
		return Survey{}, false, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "score", Reason: fmt.Sprintf("%d is not between 0 and 10", score)})
	}
	if utf8.RuneCountInString(comment) > MaxSurveyComment {
		return Survey{}, false, fmt.Errorf("%s: %w", what, &order.FieldError{Field: "comment", Reason: fmt.Sprintf("at most %d characters", MaxSurveyComment)})
	}
	at = orNow(at)
	err = s.inTx(ctx, what, func(tx pgx.Tx) error {
		sv, err = scanSurvey(tx.QueryRow(ctx, `
			UPDATE surveys SET score = $2, comment = $3, answered_at = $4
			WHERE token = $1 AND answered_at IS NULL AND NOT closed AND $4 <= expires_at
			RETURNING `+surveyColumns,
			token, score, comment, at))
		if err != nil {
			return err
		}
		if score <= order.DetractorScore {
			return openDetractorFollowUp(ctx, tx, sv, at)
		}
		return nil
	})
	if err == nil {
		return sv, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Survey{}, false, dbError(what, err)
	}
	// Nothing updated: tell an earlier answer from a closed or unknown survey.
	sv, err = s.SurveyByToken(ctx, token)
	switch {
	case err != nil:
		return Survey{}, false, fmt.Errorf("%s: %w", what, err)
	case sv.AnsweredAt != nil:
		return sv, false, nil
	case sv.Closed:
		return Survey{}, false, fmt.Errorf("%s of order %s: %w", what, sv.OrderID, ErrSurveyClosed)
	default:
		return Survey{}, false, fmt.Errorf("%s of order %s: expired at %s: %w",
			what, sv.OrderID, sv.ExpiresAt.Format(time.RFC3339), ErrSurveyClosed)
	}
}

// CloseSurvey closes an order's survey (of one shipment, or "" for the
// order's one survey), answered or not; closing twice is
// harmless. ErrNotFound when the order has no survey.
func (s *Store) CloseSurvey(ctx context.Context, orderID, shipmentID string) error {
	what := fmt.Sprintf("close survey of order %q", orderID)
	if shipmentID != "" {
		what += fmt.Sprintf(" shipment %q", shipmentID)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE surveys SET closed = true WHERE order_id = $1 AND shipment_id = $2`, orderID, shipmentID)
	if err != nil {
		return dbError(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// scanSurvey reads the columns every survey query selects, in their order.
func scanSurvey(row pgx.Row) (Survey, error) {
	var sv Survey
	var score *int16
	err := row.Scan(&sv.Token, &sv.OrderID, &sv.ShipmentID, &sv.CustomerID, &sv.Warehouse, &sv.Carrier, &sv.SKUs,
		&sv.CreatedAt, &sv.ExpiresAt, &score, &sv.Comment, &sv.AnsweredAt, &sv.Closed)
	if score != nil {
		v := int(*score)
		sv.Score = &v
	}
	sv.CreatedAt, sv.ExpiresAt = sv.CreatedAt.UTC(), sv.ExpiresAt.UTC()
	if sv.AnsweredAt != nil {
		t := sv.AnsweredAt.UTC()
		sv.AnsweredAt = &t
	}
	return sv, err
}
