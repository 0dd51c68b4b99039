// Package auditseal seals the audit log at an interval and publishes its
// head: the latest seal's number and hash go to a log line ("audit chain
// head") and to the metrics, so that copies of the head live outside the
// database. A rewrite of the whole log and of its seals then still shows
// against a head published before it (orderflow audit verify --head N:HEX).
//
// Several processes may run it at once: the store makes their seals take
// turns, and a process that finds nothing new publishes the same head.
package auditseal

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/store"
)

// Store seals the audit log and reads its head: a *store.Store.
type Store interface {
	Seal(ctx context.Context) (store.AuditSeal, bool, error)
	AuditHead(ctx context.Context) (store.AuditHead, error)
}

// Metrics receives the published head: a *metrics.Metrics.
type Metrics interface {
	AuditHead(sealNo int64, hash string, sealed, unsealed int64)
}

// Once adds a seal when there is something new to seal, then publishes
// the head (log line and metrics; m may be nil) and returns it.
func Once(ctx context.Context, st Store, log zerolog.Logger, m Metrics) (store.AuditHead, error) {
	_, sealed, err := st.Seal(ctx)
	if err != nil {
		return store.AuditHead{}, err
	}
	head, err := st.AuditHead(ctx)
	if err != nil {
		return store.AuditHead{}, err
	}
	if m != nil {
		m.AuditHead(head.SealNo, head.Hash, head.Sealed, head.Unsealed)
	}
	log.Info().Int64("seal_no", head.SealNo).Str("hash", head.Hash).Int64("entries", head.Sealed).
		Int64("unsealed", head.Unsealed).Bool("new_seal", sealed).Str("head", head.Ref()).
		Msg("audit chain head")
	return head, nil
}

// Run seals and publishes at once and then every interval until ctx ends.
// A failed round is logged and retried at the next tick: sealing late
// weakens nothing that is already sealed.
func Run(ctx context.Context, st Store, every time.Duration, log zerolog.Logger, m Metrics) error {
	if every <= 0 {
		return fmt.Errorf("audit seal interval must be positive, got %s", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := Once(ctx, st, log, m); err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("audit seal failed; retrying at the next interval")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
