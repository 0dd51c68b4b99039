package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCSVSafe: text a spreadsheet would run as a formula is quoted;
// numbers, negative ones too, and plain text are left alone.
func TestCSVSafe(t *testing.T) {
	t.Parallel()
	require.Equal(t,
		[]string{"'=HYPERLINK(\"http://x\")", "-12", "-3.5", "'@SUM(A1)", "'+x", "WH-NORTH", "", "'-x"},
		csvSafe([]string{"=HYPERLINK(\"http://x\")", "-12", "-3.5", "@SUM(A1)", "+x", "WH-NORTH", "", "-x"}))
}
