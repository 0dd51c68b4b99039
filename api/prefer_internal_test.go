package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPreferAsync(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		headers []string
		want    bool
	}{
		{nil, false},
		{[]string{"respond-async"}, true},
		{[]string{"Respond-Async"}, true},
		{[]string{" respond-async ; foo=bar"}, true},
		{[]string{"wait=10, respond-async"}, true},
		{[]string{"return=minimal", "respond-async"}, true},
		{[]string{"respond-async=1"}, true},
		{[]string{"return=minimal"}, false},
		{[]string{"respond-asynchronously"}, false},
		{[]string{"x-respond-async"}, false},
		{[]string{""}, false},
	} {
		h := http.Header{}
		for _, v := range tc.headers {
			h.Add("Prefer", v)
		}
		require.Equal(t, tc.want, preferAsync(h), "%q", tc.headers)
	}
}
