package outbox

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/downstream"
	"github.com/orderflow/orderflow/internal/sim/schema"
	"github.com/orderflow/orderflow/internal/webhook"
)

//go:embed migrations/*.sql
var migrations embed.FS

// VersionTable records which outbox migrations ran.
const VersionTable = "sim_outbox_schema_version"

// EventIDHeader repeats the event id outside the signed body, so a receiver or
// a proxy log can tell deliveries of one event apart from another's.
const EventIDHeader = "Webhook-Id"

// ErrNotFound is returned by Requeue for an event id the sender never queued.
var ErrNotFound = errors.New("outbox event not found")

// Migrate creates the outbox table. Every simulator calls it from its own
// Migrate; running it again is harmless.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return schema.Apply(ctx, pool, migrations, VersionTable)
}

// Config says whose events an Outbox delivers, where, and how patiently.
type Config struct {
	// Sender names the simulator ("carriersim", "banksim"); it scopes the rows.
	Sender string
	// URL receives the POSTs. Empty means nobody listens yet: events are
	// queued and Run idles, so a later start with a URL delivers them.
	URL string
	// Secret signs every delivery.
	Secret []byte
	// HTTP sends the POSTs; the default times out after 10 s and does not
	// follow redirects (a redirected POST would arrive as a GET).
	HTTP *http.Client
	// Workers is how many deliveries Run makes at once (default 2).
	Workers int
	// PollInterval is how often an idle loop looks for due rows that another
	// process queued (default 1 s); events queued here call Wake instead.
	PollInterval time.Duration
	// MinBackoff is the wait after the first failure (default 500 ms); it
	// doubles with each further failure up to MaxBackoff (default 1 min).
	MinBackoff, MaxBackoff time.Duration
	// Lease is how long a claimed event is kept from other loops while its
	// POST runs; a process that dies mid-POST delays the event this long.
	// Default: the HTTP client's timeout plus 5 s.
	Lease time.Duration
	// MaxRejections is how many permanent 4xx answers mark an event failed
	// (default 3): a receiver mid-deploy may refuse briefly, one that keeps
	// refusing will not change its mind.
	MaxRejections int
}

func (c *Config) defaults() {
	if c.HTTP == nil {
		c.HTTP = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.MaxRejections <= 0 {
		c.MaxRejections = 3
	}
}

// Outbox queues and delivers one sender's webhook events.
type Outbox struct {
	pool *pgxpool.Pool
	cfg  Config
	log  zerolog.Logger

	mu   sync.Mutex
	wake chan struct{} // closed and replaced by Wake, so every waiting loop hears it
}

// New returns the outbox of cfg.Sender.
func New(pool *pgxpool.Pool, cfg Config, log zerolog.Logger) *Outbox {
	cfg.defaults()
	return &Outbox{
		pool: pool,
		cfg:  cfg,
		// The caller's logger names the simulator; sender and event_id say the rest.
		log:  log.With().Str("sender", cfg.Sender).Logger(),
		wake: make(chan struct{}),
	}
}

// DB is what Enqueue writes through: the caller's pgx.Tx, so that the event
// commits or rolls back with the state change it reports.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Enqueue queues event (marshalled to JSON) under eventID in db's transaction.
// Queuing the same eventID twice keeps the first. Call Wake after the commit
// to have it sent at once rather than at the next poll.
func (o *Outbox) Enqueue(ctx context.Context, db DB, eventID string, event any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return fmt.Errorf("outbox: encode event %s: %w", eventID, err)
	}
	now := time.Now()
	_, err = db.Exec(ctx, `
		INSERT INTO sim_outbox (sender, event_id, body, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (sender, event_id) DO NOTHING`,
		o.cfg.Sender, eventID, string(body), now)
	if err != nil {
		return fmt.Errorf("outbox: queue event %s: %w", eventID, err)
	}
	return nil
}

// Wake makes idle delivery loops look for due events now.
func (o *Outbox) Wake() {
	o.mu.Lock()
	close(o.wake)
	o.wake = make(chan struct{})
	o.mu.Unlock()
}

func (o *Outbox) wakeChan() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.wake
}

// Requeue puts a delivered or failed event back in the queue, due now: the
// simulators use it to send a duplicate on purpose, or to retry an event a
// receiver refused before it was fixed.
//
// It counts as an attempt: the outcome of a POST of the event still in
// flight is recorded only while attempts is what its claim made it, so that
// outcome cannot mark the requeued event delivered again unsent.
func (o *Outbox) Requeue(ctx context.Context, eventID string) error {
	tag, err := o.pool.Exec(ctx, `
		UPDATE sim_outbox
		SET status = 'pending', attempts = attempts + 1, rejections = 0, next_attempt_at = $3, delivered_at = NULL
		WHERE sender = $1 AND event_id = $2`,
		o.cfg.Sender, eventID, time.Now())
	if err != nil {
		return fmt.Errorf("outbox: requeue event %s: %w", eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("outbox: requeue event %s: %w", eventID, ErrNotFound)
	}
	o.Wake()
	return nil
}

// Counts is how many of a sender's events are in each state.
type Counts struct {
	Pending, Delivered, Failed int
}

// Counts counts the sender's events by state.
func (o *Outbox) Counts(ctx context.Context) (Counts, error) {
	rows, err := o.pool.Query(ctx, `
		SELECT status, count(*) FROM sim_outbox WHERE sender = $1 GROUP BY status`, o.cfg.Sender)
	if err != nil {
		return Counts{}, fmt.Errorf("outbox: count events: %w", err)
	}
	var c Counts
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		switch status {
		case "pending":
			c.Pending = n
		case "delivered":
			c.Delivered = n
		case "failed":
			c.Failed = n
		}
		return nil
	})
	if err != nil {
		return Counts{}, fmt.Errorf("outbox: count events: %w", err)
	}
	return c, nil
}

// Pending is how many of the sender's events still wait for a 2xx.
func (o *Outbox) Pending(ctx context.Context) (int, error) {
	var n int
	err := o.pool.QueryRow(ctx, `
		SELECT count(*) FROM sim_outbox WHERE sender = $1 AND status = 'pending'`, o.cfg.Sender).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("outbox: count pending events: %w", err)
	}
	return n, nil
}

// Run delivers due events with Config.Workers loops until ctx ends, then
// returns nil. An event being sent when ctx ends stays pending.
func (o *Outbox) Run(ctx context.Context) error {
	if o.cfg.URL == "" {
		o.log.Warn().Msg("no webhook URL configured: events are queued, not sent")
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	for range o.cfg.Workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				wake := o.wakeChan()
				if err := o.deliverDue(ctx); err != nil && ctx.Err() == nil {
					o.log.Error().Err(err).Msg("webhook delivery loop")
				}
				o.sleep(ctx, wake, o.cfg.PollInterval)
			}
		})
	}
	wg.Wait()
	return nil
}

// Drain delivers until no event of the sender is pending, waiting out the
// backoff of events that fail, and returns nil then; when ctx ends first it
// returns an error wrapping ctx's. It may run beside Run.
func (o *Outbox) Drain(ctx context.Context) error {
	if o.cfg.URL == "" {
		return errors.New("outbox: drain: no webhook URL configured")
	}
	for {
		wake := o.wakeChan()
		if err := o.deliverDue(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		n, err := o.Pending(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("outbox: drain %s: events still pending: %w", o.cfg.Sender, ctx.Err())
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		// Either backing off or claimed by another loop: look again soon.
		o.sleep(ctx, wake, min(o.cfg.PollInterval, 50*time.Millisecond))
	}
}

// sleep waits up to d, or until the next due attempt if that comes sooner,
// or until Wake, or until ctx ends.
func (o *Outbox) sleep(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	var next *time.Time
	err := o.pool.QueryRow(ctx, `
		SELECT min(next_attempt_at) FROM sim_outbox WHERE sender = $1 AND status = 'pending'`,
		o.cfg.Sender).Scan(&next)
	if err == nil && next != nil {
		// Leased rows count with their lease's end. A due time already past is
		// a row that came due since the last look, or one another loop is
		// claiming this instant: look again very soon.
		d = min(d, max(time.Until(*next), 10*time.Millisecond))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// deliverDue delivers due events one by one until none is left to claim.
func (o *Outbox) deliverDue(ctx context.Context) error {
	for ctx.Err() == nil {
		found, err := o.deliverOne(ctx)
		if err != nil {
			return err
		}
		if !found {
			return nil
		}
	}
	return ctx.Err()
}

// deliverOne claims one due event, POSTs it and records the outcome.
//
// The claim is a short statement of its own, not a transaction held open
// over the POST: the receiver is often orderflow's API in the same process,
// on the same connection pool, and it needs a connection to store the event;
// loops that held connections while waiting for it could starve it. The
// claim leases the row instead (next_attempt_at moves past the POST's
// timeout), so no other loop takes it meanwhile, and a process that dies
// mid-POST leaves it to be picked up when the lease runs out.
func (o *Outbox) deliverOne(ctx context.Context) (found bool, err error) {
	var (
		id                   int64
		eventID, body        string
		attempts, rejections int
	)
	now := time.Now()
	err = o.pool.QueryRow(ctx, `
		UPDATE sim_outbox
		SET attempts = attempts + 1, next_attempt_at = $3
		WHERE id = (
			SELECT id FROM sim_outbox
			WHERE sender = $1 AND status = 'pending' AND next_attempt_at <= $2
			ORDER BY next_attempt_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, event_id, body, attempts, rejections`,
		o.cfg.Sender, now, now.Add(o.lease())).Scan(&id, &eventID, &body, &attempts, &rejections)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox: claim event: %w", err)
	}

	status, detail, postErr := o.post(ctx, eventID, []byte(body))
	if postErr != nil && ctx.Err() != nil {
		// Shutting down: hand the event back as it was, due at once.
		if _, err := o.pool.Exec(context.WithoutCancel(ctx), `
			UPDATE sim_outbox SET attempts = attempts - 1, next_attempt_at = $3
			WHERE id = $1 AND attempts = $2 AND status = 'pending'`, id, attempts, time.Now()); err != nil {
			o.log.Warn().Err(err).Str("event_id", eventID).Msg("release claim; it is retried when its lease ends")
		}
		return true, ctx.Err()
	}
	// An answer that came is recorded even while shutting down.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now = time.Now()
	log := o.log.With().Str("event_id", eventID).Int("attempt", attempts).Logger()

	// Every update is guarded by attempts: should this POST have outlasted its
	// lease and another loop claimed the row, the later claim's outcome wins.
	switch {
	case postErr == nil && status >= 200 && status <= 299:
		_, err = o.pool.Exec(ctx, `
			UPDATE sim_outbox
			SET status = 'delivered', last_status = $3, last_error = '', delivered_at = $4
			WHERE id = $1 AND attempts = $2`, id, attempts, status, now)
		log.Debug().Int("status", status).Msg("webhook delivered")

	case postErr == nil && downstream.PermanentStatus(status):
		rejections++
		if rejections >= o.cfg.MaxRejections {
			_, err = o.pool.Exec(ctx, `
				UPDATE sim_outbox
				SET status = 'failed', rejections = $3, last_status = $4, last_error = $5
				WHERE id = $1 AND attempts = $2`, id, attempts, rejections, status, detail)
			log.Error().Int("status", status).Str("answer", detail).
				Msg("webhook refused by the receiver; giving up on this event")
			break
		}
		wait := o.backoff(attempts)
		_, err = o.pool.Exec(ctx, `
			UPDATE sim_outbox
			SET rejections = $3, last_status = $4, last_error = $5, next_attempt_at = $6
			WHERE id = $1 AND attempts = $2`, id, attempts, rejections, status, detail, now.Add(wait))
		log.Warn().Int("status", status).Str("answer", detail).Dur("retry_in", wait).Msg("webhook refused by the receiver")

	default:
		var lastStatus *int
		if postErr == nil {
			lastStatus = &status
		} else {
			detail = postErr.Error()
		}
		wait := o.backoff(attempts)
		_, err = o.pool.Exec(ctx, `
			UPDATE sim_outbox
			SET last_status = $3, last_error = $4, next_attempt_at = $5
			WHERE id = $1 AND attempts = $2`, id, attempts, lastStatus, detail, now.Add(wait))
		log.Warn().Int("status", status).Str("error", detail).Dur("retry_in", wait).Msg("webhook delivery failed")
	}
	if err != nil {
		// The lease runs out and the event is sent again: at least once.
		return true, fmt.Errorf("outbox: record delivery of %s: %w", eventID, err)
	}
	return true, nil
}

// lease is how long a claim keeps other loops off a row: longer than a POST
// can take.
func (o *Outbox) lease() time.Duration {
	if o.cfg.Lease > 0 {
		return o.cfg.Lease
	}
	if t := o.cfg.HTTP.Timeout; t > 0 {
		return t + 5*time.Second
	}
	return time.Minute
}

// backoff is MinBackoff doubled per earlier failure, capped at MaxBackoff.
func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.MinBackoff
	for i := 1; i < attempts && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.cfg.MaxBackoff)
}

// post sends one signed delivery and returns the status and the start of the
// answer's body.
func (o *Outbox) post(ctx context.Context, eventID string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("build request to %s: %w", o.cfg.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "orderflow-"+o.cfg.Sender)
	req.Header.Set(EventIDHeader, eventID)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(o.cfg.Secret, time.Now(), body))
	resp, err := o.cfg.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}
