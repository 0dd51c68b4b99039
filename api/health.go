package api

import (
	"context"
	_ "embed"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/order"
)

// OpenAPI is the OpenAPI 3.0 document served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// readyTimeout bounds each dependency check of /readyz: a probe must answer
// quickly even when a dependency hangs.
const readyTimeout = 2 * time.Second

// healthz is GET /healthz: the process serves HTTP.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz is GET /readyz: PostgreSQL and Temporal both answer.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) error {
	checks := map[string]func(context.Context) error{
		"postgres": s.store.Ping,
		"temporal": func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		down []order.FieldError
	)
	for name, check := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := check(ctx); err != nil {
				zerolog.Ctx(r.Context()).Warn().Err(err).Str("dependency", name).Msg("not ready")
				mu.Lock()
				down = append(down, order.FieldError{Field: name, Reason: "unreachable"})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(down, func(a, b order.FieldError) int { return strings.Compare(a.Field, b.Field) })
	if len(down) > 0 {
		names := make([]string, len(down))
		for i, d := range down {
			names[i] = d.Field
		}
		return &apiError{status: http.StatusServiceUnavailable, slug: ProblemUnavailable,
			detail: "not ready: " + strings.Join(names, ", ") + " down", fields: down}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// serveOpenAPI is GET /openapi.yaml.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI)
}
