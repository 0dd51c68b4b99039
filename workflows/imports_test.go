package workflows_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The workflow package speaks to the world through the activities and knows
// the domain; it imports no store, client or API package (STYLE.md: imports
// flow cmd → worker|api → workflows → activities → clients/store).
func TestWorkflowsImportOnlyActivitiesAndTheDomain(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{
		"github.com/orderflow/orderflow/activities":        true,
		"github.com/orderflow/orderflow/internal/order":    true,
		"github.com/orderflow/orderflow/internal/money":    true,
		"github.com/orderflow/orderflow/internal/customer": true, // the customer workflow's rules
		"github.com/orderflow/orderflow/internal/mail":     true, // mail kinds and template data, for now
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range parsed.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			if strings.HasPrefix(path, "github.com/orderflow/orderflow/") {
				require.True(t, allowed[path], "%s imports %s", f, path)
			}
		}
	}
}
