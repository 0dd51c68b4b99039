package api

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzSubMinor(f *testing.F) {
	for _, s := range [][2]int64{{0, 0}, {100, math.MinInt64}, {math.MinInt64, 1}, {math.MaxInt64, -1}, {-1, math.MaxInt64}, {-2, math.MaxInt64}, {5, 7}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b int64) {
		want := new(big.Int).Sub(big.NewInt(a), big.NewInt(b))
		d, ok := subMinor(a, b)
		require.Equal(t, want.IsInt64(), ok, "%d - %d", a, b)
		if ok {
			require.Equal(t, want.Int64(), d)
		}
	})
}
