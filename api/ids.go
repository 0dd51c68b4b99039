package api

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// OrderIDPrefix starts every order id the API mints.
const OrderIDPrefix = "ord_"

// crockford is Crockford's base32 alphabet: no I, L, O or U to misread.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idGen mints time-sortable ids: a 48-bit millisecond timestamp followed by 80
// random bits, 26 Crockford base32 characters, so ids sort by creation time
// as strings (ListOrders pages by id). Within one millisecond, or when the
// clock steps back, the previous id plus one is used, so one process never
// mints ids out of order.
type idGen struct {
	mu     sync.Mutex
	lastMS uint64
	last   [10]byte // the random part of the last id
}

func (g *idGen) next(now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := uint64(now.UnixMilli()) & (1<<48 - 1)
	if ms > g.lastMS {
		g.lastMS = ms
		_, _ = rand.Read(g.last[:])
	} else if !increment(g.last[:]) {
		// 2^80 ids in one millisecond: borrow the next one.
		g.lastMS++
		_, _ = rand.Read(g.last[:])
	}
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(g.lastMS>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(g.lastMS))
	copy(b[6:], g.last[:])
	return OrderIDPrefix + encode128(b)
}

// increment adds one to a big-endian number; false when it wrapped to zero.
func increment(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		b[i]++
		if b[i] != 0 {
			return true
		}
	}
	return false
}

// encode128 writes 128 bits as 26 base32 characters, most significant first
// (the first character carries only 3 bits).
func encode128(b [16]byte) string {
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
