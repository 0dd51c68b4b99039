package devserver

import (
	"context"
	"log/slog"

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
// log.Logger. The server's logging contract has no levels above Error that we
// want to act on: DPanic, Panic and Fatal are logged as errors and never exit,
// because an embedded server must not terminate the process that hosts it.
type serverLogger struct {
	l *slog.Logger
}

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
func (s serverLogger) Fatal(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// With returns a logger that adds tags to every record; the server builds one
// per component and shard, so this keeps them cheap.
func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	return serverLogger{l: slog.New(s.l.Handler().WithAttrs(tagAttrs(tags)))}
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
