package mailsink

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Handler serves the messages to people and tests; see the package
// documentation for the routes.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /messages", s.serveList)
	mux.HandleFunc("DELETE /messages", s.serveClear)
	mux.HandleFunc("GET /messages/{id}", s.serveMessage)
	mux.HandleFunc("GET /messages/{id}/raw", s.serveRaw)
	mux.HandleFunc("GET /faults", s.serveFaults)
	mux.HandleFunc("PUT /faults", s.serveFaults)
	mux.HandleFunc("DELETE /faults", s.serveFaults)
	return mux
}

func filterOf(r *http.Request) Filter {
	q := r.URL.Query()
	return Filter{To: q.Get("to"), OrderID: q.Get("order"), Kind: q.Get("kind")}
}

// serveList answers the matching messages without their bodies, which the
// single-message route has; a list of a thousand bodies helps nobody.
func (s *Sink) serveList(w http.ResponseWriter, r *http.Request) {
	msgs := s.Messages(filterOf(r))
	for i := range msgs {
		msgs[i].Text = ""
	}
	writeJSON(w, http.StatusOK, msgs)
}

func (s *Sink) serveClear(w http.ResponseWriter, _ *http.Request) {
	if err := s.Clear(); err != nil {
		s.log.Error().Err(err).Msg("mail sink could not clear")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sink) lookup(w http.ResponseWriter, r *http.Request) (Message, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "message id must be a number"})
		return Message{}, false
	}
	m, ok := s.Message(id)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no message " + strconv.FormatInt(id, 10) + " (cleared, evicted or never received)"})
		return Message{}, false
	}
	return m, true
}

func (s *Sink) serveMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lookup(w, r)
	if !ok {
		return
	}
	// A browser following a link from the list asks for HTML first; curl
	// and tests get JSON.
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		render(w, messagePage, m)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Sink) serveRaw(w http.ResponseWriter, r *http.Request) {
	m, ok := s.lookup(w, r)
	if !ok {
		return
	}
	// text/plain rather than message/rfc822 so a browser shows it.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(m.Raw)
}

func (s *Sink) serveIndex(w http.ResponseWriter, r *http.Request) {
	msgs := s.Messages(filterOf(r))
	slices.Reverse(msgs)
	render(w, indexPage, msgs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		// Headers are gone; all we can do is end the page visibly.
		_, _ = w.Write([]byte("\n<p>page failed: " + template.HTMLEscapeString(err.Error()) + "</p>"))
	}
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"time": func(m Message) string { return m.ReceivedAt.Local().Format("2006-01-02 15:04:05") },
}

const style = `<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
.dup { color: #a60; font-size: .85em; }
pre { background: #f8f8f8; padding: 1em; white-space: pre-wrap; }
dt { font-weight: bold; float: left; clear: left; width: 8em; }
dd { margin-left: 9em; }
</style>`

var indexPage = template.Must(template.New("index").Funcs(funcs).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>orderflow mail sink</title>` + style + `</head><body>
<h1>Mail sink</h1>
<p>{{len .}} message{{if ne (len .) 1}}s{{end}}, newest first. Filter with <code>?to=&amp;order=&amp;kind=</code>; JSON at <a href="messages">messages</a>.</p>
{{if .}}<table>
<tr><th>Received</th><th>To</th><th>Kind</th><th>Order</th><th>Subject</th></tr>
{{range .}}<tr>
<td>{{time .}}</td>
<td>{{join .To ", "}}</td>
<td>{{.Kind}}</td>
<td>{{.OrderID}}</td>
<td><a href="messages/{{.ID}}">{{.Subject}}</a>{{if .Duplicate}} <span class="dup">(resent, same Message-ID)</span>{{end}}</td>
</tr>
{{end}}</table>
{{else}}<p>No mail yet.</p>{{end}}
</body></html>
`))

var messagePage = template.Must(template.New("message").Funcs(funcs).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title>` + style + `</head><body>
<p><a href="../">&larr; all mail</a> · <a href="{{.ID}}/raw">raw</a></p>
<h1>{{.Subject}}</h1>
<dl>
<dt>Received</dt><dd>{{time .}}</dd>
<dt>From</dt><dd>{{.From}}</dd>
<dt>To</dt><dd>{{join .To ", "}}</dd>
<dt>Kind</dt><dd>{{.Kind}}</dd>
<dt>Order</dt><dd>{{.OrderID}}</dd>
<dt>Message-ID</dt><dd>{{.MessageID}}{{if .Duplicate}} <span class="dup">(resent, same Message-ID)</span>{{end}}</dd>
{{with .ParseError}}<dt>Parse error</dt><dd>{{.}}</dd>{{end}}
</dl>
<pre>{{.Text}}</pre>
</body></html>
`))

// faults is the outage knob's body: {"refuse": true} refuses every mail
// with 421 until {"refuse": false} or DELETE /faults.
type faults struct {
	Refuse bool `json:"refuse"`
}

// serveFaults reads (GET), sets (PUT) or clears (DELETE) the simulated outage.
func (s *Sink) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		var f faults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "detail": `the body is {"refuse": true|false}: ` + err.Error()})
			return
		}
		s.SetRefusing(f.Refuse)
	case http.MethodDelete:
		s.SetRefusing(false)
	}
	writeJSON(w, http.StatusOK, faults{Refuse: s.Refusing()})
}
