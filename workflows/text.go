package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/temporal"
)

// describeFailure says in one line, for staff, why a step failed: which
// system, which call, what it answered, and whether it was retried. budget
// is how long the step retried before it gave up. The raw error chain (with
// the worker's identity and Temporal's event ids) goes to the log only.
func describeFailure(err error, budget time.Duration) string {
	var (
		appErr  *temporal.ApplicationError
		timeout *temporal.TimeoutError
		f       activities.Failure
	)
	timedOut := errors.As(err, &timeout)
	what := ""
	permanent := false
	if errors.As(err, &appErr) {
		permanent = appErr.NonRetryable()
		if appErr.HasDetails() && appErr.Details(&f) == nil && f.System != "" {
			what = fmt.Sprintf("%s, %s: %s.", f.System, f.Call, f.Answer)
			permanent = permanent || f.Permanent
		} else {
			what = firstLine(appErr.Message()) + "."
		}
	}
	switch {
	case timedOut && what == "":
		return fmt.Sprintf("No answer within %s; retried until then without success.", inWords(budget))
	case timedOut:
		return fmt.Sprintf("%s Retried for %s without success.", what, inWords(budget))
	case what == "":
		return firstLine(err.Error()) + "."
	case permanent:
		return what + " Not retried: the same call would fail the same way."
	}
	return what
}

// firstLine is s up to its first line break, at most 300 characters.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return strings.TrimSuffix(s, ".")
}

// refusedLines returns the lines the ERP refused to price, when err is that
// refusal (activities.ErrTypeLinesRefused).
func refusedLines(err error) ([]order.FieldError, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeLinesRefused {
		return nil, false
	}
	var fields []order.FieldError
	if !appErr.HasDetails() || appErr.Details(&fields) != nil || len(fields) == 0 {
		fields = []order.FieldError{{Field: "lines", Reason: firstLine(appErr.Message())}}
	}
	return fields, true
}

// describeFields joins field errors for a sentence.
func describeFields(fields []order.FieldError) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

// inWords says a duration as people do: "14 days", "30 minutes", "6 hours".
func inWords(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return unit(int64(d/time.Second), "second")
	}
	return d.String()
}
