package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

func TestSurvey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Surveys need no order row: their order id is only where the answer goes.
	_, err := e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord_SURVEYED", Token: "tok-open", ExpiresAt: e.now.Add(24 * time.Hour)})
	require.NoError(t, err)
	_, err = e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord_LATE", Token: "tok-expired", ExpiresAt: e.now.Add(-time.Minute)})
	require.NoError(t, err)
	_, err = e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord_CLOSED", Token: "tok-closed", ExpiresAt: e.now.Add(24 * time.Hour)})
	require.NoError(t, err)
	require.NoError(t, e.store.CloseSurvey(ctx, "ord_CLOSED", ""))
	_, err = e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord_SURVEYED", ShipmentID: "SHP-1", Warehouse: "WH-NORTH",
		Token: "tok-shipment", ExpiresAt: e.now.Add(24 * time.Hour)})
	require.NoError(t, err)

	get := func(token string) *responseRecorder {
		return e.do(req{method: http.MethodGet, path: "/survey/" + token})
	}
	post := func(token string, form url.Values) *responseRecorder {
		return e.do(req{method: http.MethodPost, path: "/survey/" + token, body: form.Encode(),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	}
	html := func(t *testing.T, w *responseRecorder, status int) string {
		t.Helper()
		require.Equal(t, status, w.Code, w.Body.String())
		require.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
		require.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), "the token in the URL must not leak")
		require.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'none'")
		body := w.Body.String()
		require.NotContains(t, body, "http://", "no external assets")
		require.NotContains(t, body, "https://", "no external assets")
		return body
	}

	t.Run("the form", func(t *testing.T) {
		body := html(t, get("tok-open"), http.StatusOK)
		require.Contains(t, body, "How likely are you to recommend us")
		for i := 0; i <= 10; i++ {
			require.Contains(t, body, `name="score" value="`+strconv.Itoa(i)+`"`)
		}
		require.Equal(t, 11, strings.Count(body, `type="radio" name="score"`))
		require.Contains(t, body, `name="comment"`)
		require.Contains(t, body, `<form method="post">`)
		require.Contains(t, body, "about the delivery of order ord_SURVEYED")
		require.Contains(t, html(t, get("tok-shipment"), http.StatusOK), "about delivery SHP-1 from WH-NORTH of order ord_SURVEYED",
			"a survey per delivery names its delivery")
	})

	t.Run("unknown, expired and closed surveys", func(t *testing.T) {
		require.Contains(t, html(t, get("tok-nope"), http.StatusNotFound), "Survey not found")
		require.Contains(t, html(t, get(strings.Repeat("t", 500)), http.StatusNotFound), "Survey not found")
		require.Contains(t, html(t, get("tok-expired"), http.StatusGone), "closed")
		require.Contains(t, html(t, get("tok-closed"), http.StatusGone), "closed")
		require.Contains(t, html(t, post("tok-expired", url.Values{"score": {"9"}}), http.StatusGone), "closed")
	})

	t.Run("an invalid answer shows the form again, naming the field, escaped", func(t *testing.T) {
		for _, score := range []string{"", "11", "-1", "7.5", "ten"} {
			body := html(t, post("tok-open", url.Values{"score": {score}, "comment": {`<script>alert("x")</script>`}}), http.StatusBadRequest)
			require.Contains(t, body, `field &#34;score&#34;`, "score %q", score)
			require.NotContains(t, body, "<script>")
			require.Contains(t, body, "&lt;script&gt;", "the comment is kept, escaped")
		}
		for _, form := range []url.Values{
			{"score": {"9", "3"}},
			{"score": {"9", "9"}},
			{"score": {"9"}, "comment": {"good", "bad"}},
		} {
			field := "score"
			if len(form["comment"]) > 1 {
				field = "comment"
			}
			body := html(t, post("tok-open", form), http.StatusBadRequest)
			require.Contains(t, body, `field &#34;`+field+`&#34;`, "form %v", form)
		}
		sv, err := e.store.SurveyByToken(ctx, "tok-open")
		require.NoError(t, err)
		require.Nil(t, sv.Score, "a form with a field twice is not an answer")
		body := html(t, post("tok-open", url.Values{"score": {"8"}, "comment": {strings.Repeat("é", 2001)}}), http.StatusBadRequest)
		require.Contains(t, body, `field &#34;comment&#34;`)
		require.Contains(t, body, `value="8" required checked`, "the chosen score is kept")
		require.Empty(t, e.calls("SignalWorkflow"))
	})

	t.Run("the first answer is stored and signalled once", func(t *testing.T) {
		e.tc.On("SignalWorkflow", mock.Anything, "ord_SURVEYED", "", workflows.SignalSurveyAnswered, mock.Anything).Return(nil).Once()
		body := html(t, post("tok-open", url.Values{"score": {"3"}, "comment": {"late & damaged"}}), http.StatusOK)
		require.Contains(t, body, "Thank you")
		require.Contains(t, body, "3 out of 10")

		sv, err := e.store.SurveyByToken(ctx, "tok-open")
		require.NoError(t, err)
		require.NotNil(t, sv.Score)
		require.Equal(t, 3, *sv.Score)
		require.Equal(t, "late & damaged", sv.Comment)
		require.Equal(t, []any{workflows.SurveyAnsweredSignal{Score: 3, Comment: "late & damaged", AnsweredAt: e.now}},
			e.signals("ord_SURVEYED", workflows.SignalSurveyAnswered))

		// A second submit keeps the first answer; it signals that stored
		// answer again (the workflow ignores repeats), never the new score.
		e.tc.On("SignalWorkflow", mock.Anything, "ord_SURVEYED", "", workflows.SignalSurveyAnswered, mock.Anything).Return(nil).Once()
		body = html(t, post("tok-open", url.Values{"score": {"10"}}), http.StatusOK)
		require.Contains(t, body, "3 out of 10")
		require.Contains(t, html(t, get("tok-open"), http.StatusOK), "Thank you")
		sigs := e.signals("ord_SURVEYED", workflows.SignalSurveyAnswered)
		require.Len(t, sigs, 2)
		require.Equal(t, sigs[0], sigs[1])
	})

	t.Run("an answer the order did not hear of is signalled on the next submit", func(t *testing.T) {
		_, err := e.store.CreateSurvey(ctx, store.NewSurvey{OrderID: "ord_FLAKY", Token: "tok-flaky", ExpiresAt: e.now.Add(24 * time.Hour)})
		require.NoError(t, err)
		e.tc.On("SignalWorkflow", mock.Anything, "ord_FLAKY", "", workflows.SignalSurveyAnswered, mock.Anything).
			Return(errors.New("temporal unavailable")).Once()
		body := html(t, post("tok-flaky", url.Values{"score": {"8"}}), http.StatusServiceUnavailable)
		require.Contains(t, body, "submit the form again")
		sv, err := e.store.SurveyByToken(ctx, "tok-flaky")
		require.NoError(t, err)
		require.Equal(t, 8, *sv.Score, "the answer is stored even though the signal failed")

		e.tc.On("SignalWorkflow", mock.Anything, "ord_FLAKY", "", workflows.SignalSurveyAnswered, mock.Anything).Return(nil).Once()
		require.Contains(t, html(t, post("tok-flaky", url.Values{"score": {"2"}}), http.StatusOK), "8 out of 10")
		sigs := e.signals("ord_FLAKY", workflows.SignalSurveyAnswered)
		require.Equal(t, 8, sigs[len(sigs)-1].(workflows.SurveyAnsweredSignal).Score)
	})

	t.Run("the access log names the route, never the token", func(t *testing.T) {
		var logged bool
		for _, l := range e.logs.lines(t) {
			if l["message"] == "request" && l["route"] == "/survey/{token}" {
				logged = true
			}
		}
		require.True(t, logged)
		for _, l := range e.logs.lines(t) {
			for k, v := range l {
				s, _ := v.(string)
				require.NotContains(t, s, "tok-open", "log field %s", k)
			}
		}
	})
}
