package api

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

//go:embed templates/head.html templates/survey.html templates/order.html templates/dashboard.html
var templateFiles embed.FS

var surveyTemplate = template.Must(template.ParseFS(templateFiles, "templates/survey.html", "templates/head.html"))

// maxSurveyToken bounds the path token before it reaches the database.
const maxSurveyToken = 200

// Page kinds of the survey template.
const (
	pageForm     = "form"
	pageThanks   = "thanks"
	pageClosed   = "closed"
	pageNotFound = "notfound"
	pageError    = "error"
)

// surveyPageData is what the survey template renders.
type surveyPageData struct {
	Kind    string
	Title   string
	OrderID string
	// ShipmentID and Warehouse name the delivery a survey per shipment
	// asks about (empty for an order surveyed whole).
	ShipmentID string
	Warehouse  string
	Scores     []int
	HasScore   bool
	Score      int
	Comment    string
	MaxComment int
	Error      string
}

func newSurveyPage(kind string, sv store.Survey) surveyPageData {
	d := surveyPageData{Kind: kind, OrderID: sv.OrderID, ShipmentID: sv.ShipmentID, Warehouse: sv.Warehouse, MaxComment: store.MaxSurveyComment,
		Scores: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	switch kind {
	case pageForm:
		d.Title = "How did we do?"
	case pageThanks:
		d.Title = "Thank you"
	case pageClosed:
		d.Title = "Survey closed"
	case pageNotFound:
		d.Title = "Survey not found"
	default:
		d.Title = "Something went wrong"
	}
	if sv.Score != nil {
		d.HasScore, d.Score = true, *sv.Score
	}
	return d
}

// renderSurvey writes a survey page. The headers keep the page self-contained
// and keep the token in its URL from leaking through a Referer.
func renderSurvey(w http.ResponseWriter, r *http.Request, status int, d surveyPageData) {
	writePage(w, r, status, surveyTemplate, d)
}

// writePage renders a buyer page (survey, order) with the headers every
// such page carries: no caching, no referrer, no framing, no scripts.
func writePage(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page", data); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("page", t.Name()).Msg("render page")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// surveyFail renders err as a page, with the status problemFor gives it.
func surveyFail(w http.ResponseWriter, r *http.Request, err error, d surveyPageData) {
	p := problemFor(err)
	if p.Status >= 500 {
		zerolog.Ctx(r.Context()).Error().Err(err).Int("status", p.Status).Msg("survey request failed")
	}
	switch p.Status {
	case http.StatusNotFound:
		d.Kind = pageNotFound
	case http.StatusGone:
		d.Kind = pageClosed
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		// Show the form again, saying which field is wrong.
		d.Kind = pageForm
		if len(p.Errors) > 0 {
			d.Error = fmt.Sprintf("Please check the field %q: %s.", p.Errors[0].Field, p.Errors[0].Reason)
		} else {
			d.Error = p.Detail
		}
	case http.StatusRequestEntityTooLarge:
		d.Kind = pageError
		d.Error = "Your answer is too long to send."
	default:
		d.Kind = pageError
	}
	d.Title = newSurveyPage(d.Kind, store.Survey{}).Title
	renderSurvey(w, r, p.Status, d)
}

// loadSurvey reads the survey the path token names; an overlong or unknown
// token is store.ErrNotFound.
func (s *server) loadSurvey(r *http.Request) (store.Survey, error) {
	token := mux.Vars(r)["token"]
	if len(token) > maxSurveyToken || checkID("token", token, true) != nil {
		return store.Survey{}, store.ErrNotFound
	}
	return s.store.SurveyByToken(r.Context(), token)
}

// surveyOpen reports whether a survey still takes an answer.
func (s *server) surveyOpen(sv store.Survey) bool {
	return sv.AnsweredAt == nil && !sv.Closed && !s.now().After(sv.ExpiresAt)
}

// surveyPage is GET /survey/{token}.
func (s *server) surveyPage(w http.ResponseWriter, r *http.Request) {
	sv, err := s.loadSurvey(r)
	switch {
	case err != nil:
		surveyFail(w, r, err, newSurveyPage(pageError, store.Survey{}))
	case sv.AnsweredAt != nil:
		renderSurvey(w, r, http.StatusOK, newSurveyPage(pageThanks, sv))
	case !s.surveyOpen(sv):
		renderSurvey(w, r, http.StatusGone, newSurveyPage(pageClosed, sv))
	default:
		renderSurvey(w, r, http.StatusOK, newSurveyPage(pageForm, sv))
	}
}

// parseSurveyForm reads the posted score and comment, naming the field at fault.
func parseSurveyForm(w http.ResponseWriter, r *http.Request) (score int, comment string, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return 0, "", tooLarge
		}
		return 0, "", badRequest("the form could not be read")
	}
	// The form has one score and one comment: a second value is a forged or
	// broken form, and taking either would be a guess.
	for _, field := range []string{"score", "comment"} {
		if len(r.PostForm[field]) > 1 {
			return 0, "", badRequest("the form has a field twice", order.FieldError{Field: field, Reason: "give it once"})
		}
	}
	raw := strings.TrimSpace(r.PostForm.Get("score"))
	score, perr := strconv.Atoi(raw)
	if raw == "" || perr != nil || score < 0 || score > 10 {
		return 0, "", badRequest("invalid score", order.FieldError{Field: "score", Reason: "choose a whole number from 0 to 10"})
	}
	comment = strings.TrimSpace(r.PostForm.Get("comment"))
	if !utf8.ValidString(comment) || strings.ContainsRune(comment, 0) || utf8.RuneCountInString(comment) > store.MaxSurveyComment {
		return 0, "", badRequest("invalid comment",
			order.FieldError{Field: "comment", Reason: fmt.Sprintf("at most %d characters of text", store.MaxSurveyComment)})
	}
	return score, comment, nil
}

// surveyAnswer is POST /survey/{token}. The first answer is stored and
// signalled to the order. If the signal fails the buyer is asked to submit
// again; any later submit, while the survey is open, signals the stored
// answer once more (the workflow ignores repeats), so no answer is lost.
func (s *server) surveyAnswer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sv, err := s.loadSurvey(r)
	if err != nil {
		surveyFail(w, r, err, newSurveyPage(pageError, store.Survey{}))
		return
	}
	if sv.AnsweredAt != nil {
		if !sv.Closed {
			if err := s.signalSurvey(ctx, sv); err != nil {
				surveyUnsignalled(w, r, err, sv)
				return
			}
		}
		renderSurvey(w, r, http.StatusOK, newSurveyPage(pageThanks, sv))
		return
	}
	if !s.surveyOpen(sv) {
		renderSurvey(w, r, http.StatusGone, newSurveyPage(pageClosed, sv))
		return
	}
	score, comment, err := parseSurveyForm(w, r)
	if err != nil {
		d := newSurveyPage(pageForm, sv)
		d.Comment = r.PostForm.Get("comment")
		if n, perr := strconv.Atoi(r.PostForm.Get("score")); perr == nil && n >= 0 && n <= 10 {
			d.HasScore, d.Score = true, n
		}
		surveyFail(w, r, err, d)
		return
	}
	answered, _, err := s.store.AnswerSurvey(ctx, sv.Token, score, comment, s.now().UTC())
	if err != nil {
		surveyFail(w, r, err, newSurveyPage(pageForm, sv))
		return
	}
	if err := s.signalSurvey(ctx, answered); err != nil {
		surveyUnsignalled(w, r, err, answered)
		return
	}
	renderSurvey(w, r, http.StatusOK, newSurveyPage(pageThanks, answered))
}

// signalSurvey hands the stored answer to the order's workflow.
func (s *server) signalSurvey(ctx context.Context, sv store.Survey) error {
	sig := workflows.SurveyAnsweredSignal{ShipmentID: sv.ShipmentID, Comment: sv.Comment, AnsweredAt: s.now().UTC()}
	if sv.Score != nil {
		sig.Score = *sv.Score
	}
	if sv.AnsweredAt != nil {
		sig.AnsweredAt = *sv.AnsweredAt
	}
	return s.temporal.SignalWorkflow(ctx, sv.OrderID, "", workflows.SignalSurveyAnswered, sig)
}

// surveyUnsignalled: the answer is stored but the order did not hear of it.
func surveyUnsignalled(w http.ResponseWriter, r *http.Request, err error, sv store.Survey) {
	zerolog.Ctx(r.Context()).Error().Err(err).Str("order_id", sv.OrderID).Msg("survey answer stored but not signalled")
	d := newSurveyPage(pageError, sv)
	d.Error = "We saved your answer but could not pass it on just now. Please submit the form again in a minute."
	renderSurvey(w, r, http.StatusServiceUnavailable, d)
}
