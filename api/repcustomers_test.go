package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
)

// repCustomersBody mirrors GET /v1/reps/{subject}/customers.
type repCustomersBody struct {
	Customers []struct {
		CustomerID             string     `json:"customer_id"`
		RepName                string     `json:"rep_name"`
		Insight                bool       `json:"insight"`
		Orders                 int        `json:"orders"`
		LastOrderAt            *time.Time `json:"last_order_at"`
		UsualIntervalDays      *float64   `json:"usual_interval_days"`
		NextExpectedAt         *time.Time `json:"next_expected_at"`
		NextExpectedSKU        string     `json:"next_expected_sku"`
		OpenQuotes             int        `json:"open_quotes"`
		OldestOpenQuoteAgeDays *int       `json:"oldest_open_quote_age_days"`
		Dormant                bool       `json:"dormant"`
		DormantSince           *time.Time `json:"dormant_since"`
		NPS                    *float64   `json:"nps"`
	} `json:"customers"`
	NextAfter string `json:"next_after"`
}

func (b repCustomersBody) ids() []string {
	var out []string
	for _, c := range b.Customers {
		out = append(out, c.CustomerID)
	}
	return out
}

// seedInsights gives ACME (Anna's) an active insight and INITECH (Anna's)
// a dormant one; GLOBEX (Ben's) has none.
func seedInsights(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	day := 24 * time.Hour
	last, next, since := e.now.Add(-20*day), e.now.Add(10*day), e.now.Add(-3*day)
	require.NoError(t, e.store.UpsertCustomerInsight(ctx, store.CustomerInsight{CustomerID: acme, Orders: 4,
		LastOrderAt: &last, UsualInterval: 30 * day, NextExpectedAt: &next, NextExpectedSKU: "GLOVES-L",
		OpenQuotes: 1, Version: 1, UpdatedAt: e.now}))
	require.NoError(t, e.store.UpsertCustomerInsight(ctx, store.CustomerInsight{CustomerID: "INITECH-003", Orders: 3,
		LastOrderAt: &last, UsualInterval: 6 * day, DormantSince: &since, Version: 1, UpdatedAt: e.now}))
}

func TestRepCustomers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedInsights(t, e)
	anna := e.tokenFor(order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep})
	get := func(path, token string) *repCustomersBody {
		w := e.do(req{method: http.MethodGet, path: path, token: token})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		b := decode[repCustomersBody](t, w)
		return &b
	}

	// The rep reads their own, as "me" or by subject: the dormant first.
	for _, path := range []string{"/v1/reps/me/customers", "/v1/reps/anna.rep@seller.example/customers"} {
		b := get(path, anna)
		require.Equal(t, []string{"INITECH-003", acme}, b.ids(), path)
	}
	b := get("/v1/reps/me/customers", anna)
	initech, ac := b.Customers[0], b.Customers[1]
	require.True(t, initech.Dormant)
	require.NotNil(t, initech.DormantSince)
	require.True(t, ac.Insight)
	require.False(t, ac.Dormant)
	require.Equal(t, "Anna Rep", ac.RepName)
	require.Equal(t, 4, ac.Orders)
	require.Equal(t, 30.0, *ac.UsualIntervalDays)
	require.Equal(t, "GLOVES-L", ac.NextExpectedSKU)
	require.NotNil(t, ac.NextExpectedAt)
	require.Equal(t, 1, ac.OpenQuotes)
	require.Nil(t, ac.NPS, "no survey answers")

	// dormant=true keeps the dormant; paging walks the list.
	require.Equal(t, []string{"INITECH-003"}, get("/v1/reps/me/customers?dormant=true", anna).ids())
	first := get("/v1/reps/me/customers?limit=1", anna)
	require.Equal(t, []string{"INITECH-003"}, first.ids())
	require.NotEmpty(t, first.NextAfter)
	require.Equal(t, []string{acme}, get("/v1/reps/me/customers?limit=1&after="+first.NextAfter, anna).ids())

	// A customer without an insight is listed with empty fields.
	ben := get("/v1/reps/ben.rep@seller.example/customers", e.token(order.RoleSalesManager))
	require.Equal(t, []string{"GLOBEX-002"}, ben.ids())
	require.False(t, ben.Customers[0].Insight)
	require.Nil(t, ben.Customers[0].LastOrderAt)
	require.Nil(t, ben.Customers[0].NextExpectedAt)

	// A sales admin reads any rep's too.
	require.Equal(t, []string{"INITECH-003", acme}, get("/v1/reps/anna.rep@seller.example/customers", e.token(order.RoleSalesAdmin)).ids())

	// A rep may not read another rep's; other roles none.
	w := e.do(req{method: http.MethodGet, path: "/v1/reps/ben.rep@seller.example/customers", token: anna})
	requireProblem(t, w, http.StatusForbidden)
	for _, role := range []order.Role{order.RoleFinance, order.RoleCS, order.RoleBuyer} {
		w := e.do(req{method: http.MethodGet, path: "/v1/reps/me/customers", token: e.token(role)})
		requireProblem(t, w, http.StatusForbidden)
	}

	// Bad parameters name the parameter at fault.
	for q, field := range map[string]string{"dormant=yes": "dormant", "limit=0": "limit", "owner=x": "owner"} {
		w := e.do(req{method: http.MethodGet, path: "/v1/reps/me/customers?" + q, token: anna})
		p := requireProblem(t, w, http.StatusBadRequest)
		require.Equal(t, []string{field}, p.fields(), q)
	}
	p := requireProblem(t, e.do(req{method: http.MethodGet, path: "/v1/reps/me/customers?after=xyz", token: anna}), http.StatusUnprocessableEntity)
	require.Equal(t, []string{"after"}, p.fields())
}
