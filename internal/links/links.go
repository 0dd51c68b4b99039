// Package links signs and checks the links orderflow puts in buyer mails:
// each opens one page for one order, for one purpose (view the order,
// accept a quote revision), until it expires. A link carries what it
// allows, signed with HMAC-SHA256; it holds no secret of the order and
// cannot be turned into another order's or another action's link.
package links

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purpose is what a link lets its holder do.
type Purpose string

// The purposes.
const (
	View    Purpose = "view"    // see the order
	Accept  Purpose = "accept"  // see the order and accept one quote revision
	Approve Purpose = "approve" // see the order and approve or reject it (a buyer approver)
	// Reorder opens a quote request pre-filled with Lines, for the
	// customer; its OrderID is the customer workflow's id.
	Reorder Purpose = "reorder"
	// Unsubscribe opts To out of the customer's marketing mails; its
	// OrderID is the customer workflow's id.
	Unsubscribe Purpose = "unsubscribe"
)

// Line is a pre-filled line of a reorder link.
type Line struct {
	SKU      string `json:"s"`
	Quantity int64  `json:"q"`
}

// Link is what a link allows.
type Link struct {
	Purpose    Purpose `json:"p"`
	OrderID    string  `json:"o"`
	CustomerID string  `json:"c"`
	// To is who the mail went to: who acts when the link is used.
	To string `json:"t"`
	// Revision is the quote revision an accept link accepts.
	Revision int `json:"r,omitempty"`
	// Lines are a reorder link's pre-filled lines.
	Lines   []Line    `json:"l,omitempty"`
	Expires time.Time `json:"e"`
	// Nonce makes each link its own (a used accept link is recorded by it).
	Nonce string `json:"n"`
}

// MinKeyLen is the shortest key New accepts.
const MinKeyLen = 32

// Errors of Check; ErrExpired wraps ErrInvalid.
var (
	ErrInvalid = errors.New("link not valid")
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalid)
)

// Signer signs and checks links with one key.
type Signer struct{ key []byte }

// New returns a Signer for key (at least MinKeyLen bytes).
func New(key []byte) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("links: key is %d bytes, need at least %d", len(key), MinKeyLen)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign returns the link's token (URL-safe), with a fresh nonce.
func (s *Signer) Sign(l Link) (string, error) {
	switch {
	case l.Purpose != View && l.Purpose != Accept && l.Purpose != Approve && l.Purpose != Reorder && l.Purpose != Unsubscribe:
		return "", fmt.Errorf("links: unknown purpose %q", l.Purpose)
	case (l.Purpose == Reorder || l.Purpose == Unsubscribe) && l.To == "":
		return "", errors.New("links: a reorder or unsubscribe link names its recipient")
	case l.Purpose == Reorder && len(l.Lines) == 0:
		return "", errors.New("links: a reorder link carries its lines")
	case l.OrderID == "" || l.CustomerID == "" || l.Expires.IsZero():
		return "", errors.New("links: order, customer and expiry are required")
	case l.Purpose == Accept && l.Revision < 1:
		return "", errors.New("links: an accept link names its quote revision")
	}
	var n [12]byte
	if _, err := rand.Read(n[:]); err != nil {
		return "", err
	}
	l.Nonce = hex.EncodeToString(n[:])
	l.Expires = l.Expires.UTC().Truncate(time.Second)
	body, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(body)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p)), nil
}

// Check returns what token allows at now: ErrInvalid for a token this
// key did not sign, ErrExpired past its expiry.
func (s *Signer) Check(token string, now time.Time) (Link, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return Link{}, ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return Link{}, ErrInvalid
	}
	body, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Link{}, ErrInvalid
	}
	var l Link
	if err := json.Unmarshal(body, &l); err != nil || l.OrderID == "" || l.Nonce == "" {
		return Link{}, ErrInvalid
	}
	if !now.Before(l.Expires) {
		return l, ErrExpired
	}
	return l, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("orderflow link v1\x00"))
	m.Write([]byte(payload))
	return m.Sum(nil)
}
