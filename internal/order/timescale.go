package order

import (
	"math"
	"time"
)

// TimeScale is the scale an order runs its business time at: business
// seconds per wall second. Anything that is not a finite number above 1
// (0, a value below 1, NaN, ±Inf) means real time, 1.
func TimeScale(s float64) float64 {
	if !(s > 1) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// Compress is a business duration on the clock of an order that runs at
// scale (see TimeScale): d/scale, at least a millisecond for a positive d
// so that a wait never becomes "no wait". At scale 1 it is d, unchanged.
func Compress(d time.Duration, scale float64) time.Duration {
	s := TimeScale(scale)
	if s == 1 {
		return d
	}
	c := time.Duration(float64(d) / s)
	if d > 0 && c < time.Millisecond {
		c = time.Millisecond
	}
	return c
}

// CompressDate moves a business date t that counts from from (the moment
// the date was made: a quote's pricing, an invoice's issue, a booking) onto
// the clock of an order that runs at scale: from + (t−from)/scale. At
// scale 1 it is t, unchanged; a zero t stays zero.
func CompressDate(from, t time.Time, scale float64) time.Time {
	if TimeScale(scale) == 1 || t.IsZero() || from.IsZero() {
		return t
	}
	return from.Add(Compress(t.Sub(from), scale))
}
