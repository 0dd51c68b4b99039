package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// Server log levels. While the server serves, its Warn and Error records
// reach the caller's logger; at Info it reports every shard, queue and
// membership change, which would bury the application's own logs. While it
// starts and stops, only Errors do: its services dial each other before all
// of them listen, and its internal workers fail to poll while the frontend
// goes away, each a Warn that says nothing is wrong.
const (
	servingLevel    = slog.LevelWarn
	transitionLevel = slog.LevelError
)

// levelHandler passes records at level and above to next. It sits under both
// the tag-based server logger and the slog.Logger the server asks for through
// SLog, so neither path leaks chatter.
type levelHandler struct {
	level *slog.LevelVar
	next  slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.level.Level() && h.next.Enabled(ctx, level)
}

func (h levelHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.level.Level() {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelHandler{level: h.level, next: h.next.WithAttrs(attrs)}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{level: h.level, next: h.next.WithGroup(name)}
}

// newLevelLogger returns a logger that forwards records at level and above to
// l, or discards everything when l is nil.
func newLevelLogger(l *slog.Logger, level *slog.LevelVar) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(levelHandler{level: level, next: l.Handler()})
}

// serverLogger adapts a slog.Logger to the Temporal server's tag-based
// log.Logger. DPanic, Panic and Fatal are logged as errors and never exit,
// because an embedded server must not terminate the process that hosts it.
//
// While the server is being built, though, a Fatal panics (see fatalLog):
// the server calls Fatal where it cannot go on, a listener it could not
// bind for one, and then carries on with a nil listener that crashes the
// process a moment later. buildServer recovers the panic as an error.
type serverLogger struct {
	l      *slog.Logger
	fatals *fatalLog
}

// fatalLog turns a Fatal into a panic while building is set.
type fatalLog struct {
	building atomic.Bool
}

// fatalPanic is what Fatal panics with while the server is being built.
type fatalPanic struct{ err error }

func (f *fatalLog) record(msg string, tags []tag.Tag) {
	if !f.building.Load() {
		return
	}
	var b strings.Builder
	b.WriteString(msg)
	for _, t := range tags {
		fmt.Fprintf(&b, " %s=%v", t.Key(), t.Value())
	}
	panic(fatalPanic{err: errors.New(b.String())})
}

func (p fatalPanic) Error() string { return p.err.Error() }

var (
	_ log.Logger      = serverLogger{}
	_ log.WithLogger  = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
)

func (s serverLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)  { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)  { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
}
func (s serverLogger) Panic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	if s.fatals != nil {
		s.fatals.record(msg, tags)
	}
}

// With returns a logger that adds tags to every record; the server builds one
// per component and shard, so this keeps them cheap.
func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	return serverLogger{l: slog.New(s.l.Handler().WithAttrs(tagAttrs(tags))), fatals: s.fatals}
}

// SLog hands the server our filtered slog.Logger for the parts of it that log
// through slog directly, instead of a wrapper around this adapter.
func (s serverLogger) SLog() *slog.Logger { return s.l }

func (s serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	// Check first: converting tags costs allocations, and almost every call
	// the server makes is below the threshold.
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.LogAttrs(ctx, level, msg, tagAttrs(tags)...)
}

func tagAttrs(tags []tag.Tag) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}
