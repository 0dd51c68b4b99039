package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/internal/webhook"
	"github.com/orderflow/orderflow/workflows"
)

// ProblemTypePrefix starts the "type" URI of every problem document; the rest
// is one of the slugs below, so clients may switch on it.
const ProblemTypePrefix = "urn:orderflow:problem:"

// Problem type slugs.
const (
	ProblemBadRequest      = "bad-request"
	ProblemUnauthorized    = "unauthorized"
	ProblemForbidden       = "forbidden"
	ProblemNotFound        = "not-found"
	ProblemMethod          = "method-not-allowed"
	ProblemConflict        = "conflict"
	ProblemGone            = "gone"
	ProblemTooLarge        = "body-too-large"
	ProblemMediaType       = "unsupported-media-type"
	ProblemValidation      = "validation"
	ProblemUnavailable     = "unavailable"
	ProblemInternal        = "internal"
	ProblemOrderFinished   = "order-finished"
	ProblemIdempotencyKey  = "idempotency-conflict"
	ProblemStaleSignature  = "stale-signature"
	ProblemRequestTimedOut = "timeout"
	// ProblemUnknownShipment: a carrier event names a shipment we have not booked (404).
	ProblemUnknownShipment = "unknown-shipment"
)

// problem is an RFC 7807 document.
type problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []order.FieldError `json:"errors,omitempty"`
}

// apiError is an error a handler has already classified. Err, when set, is the
// cause: it is logged, never shown.
type apiError struct {
	status int
	slug   string
	detail string
	fields []order.FieldError
	err    error
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s: %s", e.status, e.slug, e.detail)
	for _, f := range e.fields {
		msg += "; " + f.Error()
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *apiError) Unwrap() error { return e.err }

func badRequest(detail string, fields ...order.FieldError) error {
	return &apiError{status: http.StatusBadRequest, slug: ProblemBadRequest, detail: detail, fields: fields}
}

func invalid(fields ...order.FieldError) error {
	return &apiError{status: http.StatusUnprocessableEntity, slug: ProblemValidation,
		detail: "the request breaks a rule; see errors", fields: fields}
}

func invalidField(field, reason string) error {
	return invalid(order.FieldError{Field: field, Reason: reason})
}

func forbidden(detail string) error {
	return &apiError{status: http.StatusForbidden, slug: ProblemForbidden, detail: detail}
}

func notFound(detail string) error {
	return &apiError{status: http.StatusNotFound, slug: ProblemNotFound, detail: detail}
}

func conflict(detail string) error {
	return &apiError{status: http.StatusConflict, slug: ProblemConflict, detail: detail}
}

func unavailable(detail string, cause error) error {
	return &apiError{status: http.StatusServiceUnavailable, slug: ProblemUnavailable, detail: detail, err: cause}
}

// problemFor maps any error a handler returns to what the client sees. It is
// the only place in the package that chooses a status for an error; handlers
// either return the sentinels of the packages below them or an *apiError.
func problemFor(err error) problem {
	mk := func(status int, slug, detail string, fields ...order.FieldError) problem {
		return problem{Type: ProblemTypePrefix + slug, Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
	}
	var (
		ae       *apiError
		tooLarge *http.MaxBytesError
		fe       *order.FieldError
		appErr   *temporal.ApplicationError
		nf       *serviceerror.NotFound
		started  *serviceerror.WorkflowExecutionAlreadyStarted
		unav     *serviceerror.Unavailable
		exhaust  *serviceerror.ResourceExhausted
		deadline *serviceerror.DeadlineExceeded
		updTime  *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	switch {
	case errors.As(err, &ae):
		return mk(ae.status, ae.slug, ae.detail, ae.fields...)
	case errors.As(err, &tooLarge):
		return mk(http.StatusRequestEntityTooLarge, ProblemTooLarge,
			fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit))
	case errors.Is(err, auth.ErrInvalidToken):
		return mk(http.StatusUnauthorized, ProblemUnauthorized, "the bearer token is missing, malformed, expired or not signed by us")
	case errors.Is(err, webhook.ErrStale):
		return mk(http.StatusBadRequest, ProblemStaleSignature, "the signature timestamp is outside the accepted window; sign again and resend")
	case errors.Is(err, webhook.ErrBadSignature):
		return mk(http.StatusUnauthorized, ProblemUnauthorized, "the "+webhook.SignatureHeader+" header does not sign this body")
	case errors.As(err, &fe):
		return mk(http.StatusUnprocessableEntity, ProblemValidation, "the request breaks a rule; see errors", *fe)
	case errors.Is(err, store.ErrIdempotencyConflict):
		return mk(http.StatusConflict, ProblemIdempotencyKey, "this Idempotency-Key was used with a different request body")
	case errors.Is(err, store.ErrDuplicate):
		return mk(http.StatusConflict, ProblemConflict, "another request changed the same record at the same time; read it again and retry")
	case errors.Is(err, store.ErrPaymentMatched):
		return mk(http.StatusConflict, ProblemConflict, "the payment is already applied to another invoice")
	case errors.Is(err, store.ErrFollowUpClosed):
		return mk(http.StatusConflict, ProblemConflict, "the follow-up was closed already, by someone else or with another note")
	case errors.Is(err, store.ErrSurveyClosed):
		return mk(http.StatusGone, ProblemGone, "the survey is closed")
	case errors.Is(err, store.ErrNotFound):
		return mk(http.StatusNotFound, ProblemNotFound, "not found")
	case errors.As(err, &appErr):
		switch appErr.Type() {
		case workflows.ErrTypeForbidden:
			return mk(http.StatusForbidden, ProblemForbidden, appErr.Message())
		case workflows.ErrTypeInvalidState:
			return mk(http.StatusConflict, ProblemConflict, appErr.Message())
		case workflows.ErrTypeInvalidArgument:
			// A workflow that names the fields at fault (a revision line
			// the ERP refuses) passes them as the error's details.
			var fields []order.FieldError
			if appErr.HasDetails() {
				_ = appErr.Details(&fields)
			}
			return mk(http.StatusUnprocessableEntity, ProblemValidation, appErr.Message(), fields...)
		}
	case errors.As(err, &nf):
		if strings.Contains(nf.Error(), "already completed") {
			return mk(http.StatusConflict, ProblemOrderFinished, "order is finished")
		}
		return mk(http.StatusNotFound, ProblemNotFound, "not found")
	case errors.As(err, &started):
		return mk(http.StatusConflict, ProblemConflict, "the order's workflow already ran")
	case errors.As(err, &unav), errors.As(err, &exhaust):
		return mk(http.StatusServiceUnavailable, ProblemUnavailable, "a backing service is unavailable; retry later")
	case errors.As(err, &deadline), errors.As(err, &updTime), errors.Is(err, context.DeadlineExceeded):
		return mk(http.StatusServiceUnavailable, ProblemRequestTimedOut,
			"the order did not answer in time; the request may still take effect, check the order before retrying")
	case errors.Is(err, context.Canceled):
		return mk(http.StatusServiceUnavailable, ProblemUnavailable, "the request was cancelled")
	}
	return mk(http.StatusInternalServerError, ProblemInternal, "an internal error occurred; quote the request id when reporting it")
}

// fail writes err as a problem document and logs it: 5xx at error level with
// the cause, 4xx at debug level.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.Instance = instance(r)
	p.RequestID = requestID(r.Context())
	l := zerolog.Ctx(r.Context())
	switch {
	case p.Status >= 500 && !errors.Is(err, context.Canceled):
		l.Error().Err(err).Int("status", p.Status).Msg("request failed")
	default:
		l.Debug().Err(err).Int("status", p.Status).Msg("request refused")
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// instance names the request a problem is about. The survey's and the
// documents' paths hold their secret tokens, so their problems name only
// the route.
func instance(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/survey/") {
		return "/survey/{token}"
	}
	if strings.HasPrefix(r.URL.Path, "/documents/") {
		return "/documents/{token}"
	}
	return r.URL.Path
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
