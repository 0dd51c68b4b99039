package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
)

// as sends a request with a token minted for actor.
func (x *sys) as(a order.Actor, method, path string, body any) answer {
	x.t.Helper()
	tok, err := x.s.Tokens.Mint(a, time.Hour)
	require.NoError(x.t, err)
	return x.call(method, x.s.APIURL+path, "", body, map[string]string{"Authorization": "Bearer " + tok})
}

// Issue 9, four eyes, through the API and the workflow: an order over
// Acme's purchasing limit and the dual-approval threshold needs a buyer
// approver and two sales managers. The approver who accepted may not
// approve, not even through a colleague; a manager out of office has a
// sales rep decide for him under a delegation.
func TestFourEyesAndDelegationThroughTheAPI(t *testing.T) {
	t.Parallel()
	x := start(t)
	cfo := order.Actor{Subject: "cfo@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"}
	ann := order.Actor{Subject: "ann@acme", Role: order.RoleBuyerApprover, CustomerID: "ACME-001"}
	pat := order.Actor{Subject: "pat@acme", Role: order.RoleBuyer, CustomerID: "ACME-001"}
	mia := order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	max := order.Actor{Subject: "max@seller", Role: order.RoleSalesManager}
	rita := order.Actor{Subject: "rita@seller", Role: order.RoleSalesRep}

	// 21 pumps: 25462.50 EUR net, over both thresholds.
	id := x.createQuote("e2e-four-eyes", order.Line{SKU: "PUMP-200", Quantity: 21})
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)
	a := x.as(cfo, http.MethodPost, "/v1/orders/"+id+"/accept", map[string]any{"revision": 1})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusAwaitingApproval, 30*time.Second)

	approve := func(who order.Actor) answer {
		return x.as(who, http.MethodPost, "/v1/orders/"+id+"/approvals", map[string]any{"approve": true, "comment": "ok"})
	}
	a = approve(cfo)
	require.Equal(t, http.StatusForbidden, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "cfo@acme accepted the quote")

	// cfo hands his approvals to pat; pat's approval would be cfo's.
	a = x.as(cfo, http.MethodPost, "/v1/delegations", map[string]any{"to": "pat@acme", "until": time.Now().Add(7 * 24 * time.Hour), "reason": "away"})
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	a = approve(pat)
	require.Equal(t, http.StatusForbidden, a.status, "%s", a.body)
	require.Contains(t, string(a.body), "cfo@acme accepted the quote")

	// max is away: rita decides for him.
	a = x.as(max, http.MethodPost, "/v1/delegations", map[string]any{"to": "rita@seller", "until": time.Now().Add(7 * 24 * time.Hour), "reason": "trade fair"})
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	var dlg struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(a.body, &dlg))

	require.Equal(t, http.StatusOK, approve(ann).status)
	require.Equal(t, http.StatusOK, approve(mia).status)
	a = approve(rita)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	// max, back early, does not decide a second time.
	a = approve(max)
	require.Equal(t, http.StatusConflict, a.status, "%s", a.body)

	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	require.NotEmpty(t, v.Live.Shipments)
	x.waitAudit(id, "for max@seller, out of office until")
	var staff struct {
		Live struct {
			AcceptedBy order.Actor `json:"accepted_by"`
			Approvals  []struct {
				Actor      order.Actor  `json:"actor"`
				OnBehalfOf *order.Actor `json:"on_behalf_of"`
				Delegation string       `json:"delegation"`
			} `json:"approvals"`
		} `json:"live"`
	}
	a = x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleCS, nil)
	require.NoError(t, json.Unmarshal(a.body, &staff))
	require.Equal(t, cfo, staff.Live.AcceptedBy)
	require.Len(t, staff.Live.Approvals, 3)
	last := staff.Live.Approvals[2]
	require.Equal(t, rita, last.Actor)
	require.Equal(t, max, *last.OnBehalfOf)
	require.Equal(t, dlg.ID, last.Delegation)
}

// Issue 9, discount authority per rep: a sales manager gives rita a 2 %
// authority; her 5 % discount for Acme (standing 3 %) then waits for a
// manager, naming her and her authority, and a manager's approval moves
// the order on.
func TestRepDiscountAboveTheirOwnAuthorityNeedsAManager(t *testing.T) {
	t.Parallel()
	x := start(t)
	mia := order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	a := x.as(mia, http.MethodPut, "/v1/reps/rita@seller", map[string]any{"name": "Rita", "discount_authority_bp": 200})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)

	a = x.call(http.MethodPost, x.s.APIURL+"/v1/quotes", order.RoleSalesRep, map[string]any{"customer_id": "ACME-001", "po_number": "PO-REP",
		"discount_bp": 500, "lines": []order.Line{{SKU: "VALVE-50", Quantity: 2}}}, map[string]string{"Idempotency-Key": "e2e-rep-discount"})
	require.Equal(t, http.StatusCreated, a.status, "%s", a.body)
	id, _ := a.json(t)["id"].(string)
	x.accept(id)
	x.waitStatus(id, order.StatusAwaitingApproval, 30*time.Second)
	var staff struct {
		Live struct {
			Quote struct {
				DiscountBP          int64  `json:"discount_bp"`
				DiscountBy          string `json:"discount_by"`
				DiscountAuthorityBP int64  `json:"discount_authority_bp"`
			} `json:"quote"`
			ApprovalsNeeded []order.ApprovalNeed `json:"approvals_needed"`
		} `json:"live"`
	}
	a = x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleCS, nil)
	require.NoError(t, json.Unmarshal(a.body, &staff))
	require.Equal(t, int64(500), staff.Live.Quote.DiscountBP)
	require.Equal(t, "rita@seller", staff.Live.Quote.DiscountBy)
	require.Equal(t, int64(200), staff.Live.Quote.DiscountAuthorityBP)
	require.Len(t, staff.Live.ApprovalsNeeded, 1)
	require.Equal(t, "discount 5.00% exceeds rita@seller's authority 2.00%", staff.Live.ApprovalsNeeded[0].Reason)

	a = x.as(mia, http.MethodPost, "/v1/orders/"+id+"/approvals", map[string]any{"approve": true, "comment": "key account"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusShipping, time.Minute)
}

// Issue 9, tokens: a revoked token is refused from the next request on;
// the other tokens of the same person are not.
func TestRevokedTokenIsRefused(t *testing.T) {
	t.Parallel()
	x := start(t)
	cs := order.Actor{Subject: "sam@cs", Role: order.RoleCS}
	stolen, err := x.s.Tokens.Mint(cs, time.Hour)
	require.NoError(t, err)
	other, err := x.s.Tokens.Mint(cs, time.Hour)
	require.NoError(t, err)
	get := func(tok string) int {
		return x.call(http.MethodGet, x.s.APIURL+"/v1/orders", "", nil, map[string]string{"Authorization": "Bearer " + tok}).status
	}
	require.Equal(t, http.StatusOK, get(stolen))
	v, err := x.s.Tokens.VerifyToken(stolen)
	require.NoError(t, err)
	require.NoError(t, x.s.Store.RevokeToken(t.Context(), v.TokenID, "ops@seller", "laptop stolen", time.Now(), v.Expires))
	require.Equal(t, http.StatusUnauthorized, get(stolen))
	require.Equal(t, http.StatusOK, get(other))
}

// Issue 9, the terms catalog: a sales admin changes Acme's discount while
// an order waits for its answer. The quoted order keeps the terms it was
// priced under (version and hash in its details); a revision is priced
// under the terms in force.
func TestTermsChangeNeverAltersAQuotedOrder(t *testing.T) {
	t.Parallel()
	x := start(t)
	admin := order.Actor{Subject: "sue@seller", Role: order.RoleSalesAdmin}
	id := x.createQuote("e2e-terms-pin", order.Line{SKU: "VALVE-50", Quantity: 10})
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)
	type pinned struct {
		Live struct {
			Quote struct {
				Revision   int   `json:"revision"`
				DiscountBP int64 `json:"discount_bp"`
			} `json:"quote"`
			Terms order.Terms `json:"terms"`
		} `json:"live"`
	}
	read := func() pinned {
		var p pinned
		a := x.api(http.MethodGet, "/v1/orders/"+id+"?live=true", order.RoleCS, nil)
		require.NoError(t, json.Unmarshal(a.body, &p))
		return p
	}
	before := read()
	require.Equal(t, int64(300), before.Live.Quote.DiscountBP)
	require.Equal(t, 0, before.Live.Terms.Version)
	require.NotEmpty(t, before.Live.Terms.Hash)

	var current struct {
		InForce order.Terms `json:"in_force"`
	}
	mgr := order.Actor{Subject: "mia@seller", Role: order.RoleSalesManager}
	a := x.as(mgr, http.MethodGet, "/v1/customers/ACME-001/terms", nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.NoError(t, json.Unmarshal(a.body, &current))
	changed := current.InForce
	changed.DiscountBP = 800
	a = x.as(admin, http.MethodPut, "/v1/customers/ACME-001/terms", map[string]any{"terms": changed, "reason": "key account from today"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)

	after := read()
	require.Equal(t, before.Live.Quote, after.Live.Quote, "the standing quote is unchanged")
	require.Equal(t, before.Live.Terms.Hash, after.Live.Terms.Hash, "the order keeps the terms it was priced under")

	a = x.api(http.MethodPost, "/v1/orders/"+id+"/revise", order.RoleBuyer, map[string]any{
		"lines": []order.Line{{SKU: "VALVE-50", Quantity: 12}}, "reason": "two more"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitStatus(id, order.StatusAwaitingAcceptance, 30*time.Second)
	var revised pinned
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if revised = read(); revised.Live.Quote.Revision == 2 {
			break
		}
	}
	require.Equal(t, 2, revised.Live.Quote.Revision)
	require.Equal(t, int64(800), revised.Live.Quote.DiscountBP, "a revision is priced under the terms in force")
	require.Equal(t, 1, revised.Live.Terms.Version)
	require.NotEqual(t, before.Live.Terms.Hash, revised.Live.Terms.Hash)
}
