package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/auth"
	"github.com/orderflow/orderflow/internal/order"
)

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyActor
	keyRouteInfo
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// actorFrom returns the caller authenticated by requireToken.
func actorFrom(ctx context.Context) order.Actor {
	a, _ := ctx.Value(keyActor).(order.Actor)
	return a
}

// routeInfo is filled in by the router's middleware, which sees the matched
// route, and read by the access log, which wraps the router and does not.
type routeInfo struct {
	template string
	orderID  string
}

// validRequestID accepts a caller's id when it is short printable ASCII, so a
// hostile header cannot inject into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.status, s.wrote = http.StatusOK, true
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// outer wraps the whole router: request id, a request-scoped logger, the
// access log and panic recovery. It runs for unmatched routes too.
func (s *server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		info := &routeInfo{}
		l := s.log.With().Str("request_id", id).Logger()
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		ctx = context.WithValue(ctx, keyRouteInfo, info)
		ctx = l.WithContext(ctx)
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				l.Error().Str("panic", fmt.Sprint(v)).Bytes("stack", debug.Stack()).
					Str("method", r.Method).Str("route", info.template).Msg("handler panicked")
				if !rec.wrote {
					fail(rec, r, errors.New("panic"))
				}
			}
			ev := l.Info()
			if rec.status >= 500 {
				ev = l.Warn()
			}
			ev = ev.Str("method", r.Method).Str("route", info.template).Int("status", rec.status).
				Dur("duration", time.Since(start))
			if info.orderID != "" {
				ev = ev.Str("order_id", info.orderID)
			}
			ev.Msg("request")
		}()
		next.ServeHTTP(rec, r)
	})
}

// routeLogger runs inside the router, after matching, and tells the access
// log the route template and order id. Templates, not paths, are logged: the
// survey's path holds its secret token.
func routeLogger(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(keyRouteInfo).(*routeInfo); ok {
			if route := mux.CurrentRoute(r); route != nil {
				info.template, _ = route.GetPathTemplate()
			}
			if strings.HasPrefix(info.template, "/v1/orders/{id}") {
				info.orderID = mux.Vars(r)["id"]
				l := zerolog.Ctx(r.Context()).With().Str("order_id", info.orderID).Logger()
				r = r.WithContext(l.WithContext(r.Context()))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requireToken authenticates the bearer token and puts its actor in the context.
func (s *server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="orderflow"`)
			fail(w, r, &apiError{status: http.StatusUnauthorized, slug: ProblemUnauthorized,
				detail: "send Authorization: Bearer <token>"})
			return
		}
		a, err := s.tokens.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil && !errors.Is(err, auth.ErrInvalidToken) {
			// The revocation list could not be read: not the caller's fault.
			fail(w, r, &apiError{status: http.StatusServiceUnavailable, slug: ProblemUnavailable,
				detail: "the token could not be checked; retry later", err: err})
			return
		}
		if err != nil {
			// RFC 6750: a token was sent but is no good.
			w.Header().Set("WWW-Authenticate", `Bearer realm="orderflow", error="invalid_token"`)
			fail(w, r, &apiError{status: http.StatusUnauthorized, slug: ProblemUnauthorized,
				detail: "the bearer token is malformed, expired or not signed by us", err: err})
			return
		}
		l := zerolog.Ctx(r.Context()).With().Str("subject", a.Subject).Str("role", string(a.Role)).Logger()
		ctx := context.WithValue(r.Context(), keyActor, a)
		next.ServeHTTP(w, r.WithContext(l.WithContext(ctx)))
	})
}

// requireRole refuses callers whose role is not in roles.
func requireRole(a order.Actor, roles ...order.Role) error {
	if slices.Contains(roles, a.Role) {
		return nil
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return forbidden(fmt.Sprintf("role %s may not do this; it needs one of: %s", a.Role, strings.Join(names, ", ")))
}
