package document

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"time"

	"github.com/orderflow/orderflow/internal/money"
)

//go:embed templates/document.html
var templateFS embed.FS

var page = template.Must(template.New("document").Funcs(template.FuncMap{
	"amount":  func(m money.Money) string { return Decimal(m) },
	"date":    func(t time.Time) string { return date(t) },
	"percent": func(bp int64) string { return basisPoints(bp) + " %" },
	"inc":     func(i int) int { return i + 1 },
}).ParseFS(templateFS, "templates/document.html"))

// HTML renders the document as a self-contained printable page: the style
// is inline and print-ready (A4), there are no scripts and no external
// assets, so the page shows and prints the same offline.
func (d Document) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := page.ExecuteTemplate(&buf, "page", d); err != nil {
		return nil, fmt.Errorf("HTML of %s: %w", d.Title(), err)
	}
	return buf.Bytes(), nil
}
