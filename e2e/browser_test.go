package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chromium is the path of Debian's headless-capable Chromium. Without it the
// browser tests skip on a developer's machine and fail in CI, where .ci/run
// installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

// browse runs headless Chromium on url with the given flags and returns
// what it printed (the DOM, for --dump-dom).
func browse(t *testing.T, url string, flags ...string) string {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir()}, flags...)
	out, err := exec.CommandContext(ctx, bin, append(args, url)...).Output()
	require.NoError(t, err, "chromium %v %s", flags, url)
	return string(out)
}

// A buyer opens the invoice from the link in the mail in a real browser:
// the page renders what the invoice says, and prints to a PDF.
func checkDocumentInBrowser(t *testing.T, link string, want ...string) {
	t.Helper()
	dom := browse(t, link, "--dump-dom")
	for _, w := range want {
		require.Contains(t, dom, w, "the rendered page")
	}
	pdf := filepath.Join(t.TempDir(), "invoice.pdf")
	browse(t, link, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
	b, err := os.ReadFile(pdf)
	require.NoError(t, err)
	require.True(t, len(b) > 1000 && string(b[:4]) == "%PDF", "the page prints to a PDF")
}
