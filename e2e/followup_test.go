package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/internal/mailsink"
	"github.com/orderflow/orderflow/internal/order"
)

// TestDetractorFollowUpFromSurveyToNote: the buyer scores one delivery 3 on
// the survey page and the other 10. The detractor's answer opens a
// follow-up owned by the customer's rep, in CS's worklist and the rep's;
// CS and the rep are mailed; the rep closes it with a note, which the
// order's audit log keeps, and it leaves the list. The order completes once
// both surveys are answered.
func TestDetractorFollowUpFromSurveyToNote(t *testing.T) {
	t.Parallel()
	x := start(t)
	id := x.createQuote("e2e-detractor", twoWarehouses...)
	x.accept(id)
	v := x.waitStatus(id, order.StatusShipping, time.Minute)
	x.deliver(id, v.Live.Shipments)
	v = x.waitStatus(id, order.StatusAwaitingPayment, 30*time.Second)

	// Two survey mails, one per delivery; score the first 3, the second 10.
	var links []string
	for deadline := time.Now().Add(30 * time.Second); len(links) < 2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		links = links[:0]
		for _, m := range x.s.Mail.Messages(mailsink.Filter{OrderID: id, Kind: "survey"}) {
			if l := surveyLinkPattern.FindString(m.Text); l != "" && !m.Duplicate {
				links = append(links, l)
			}
		}
	}
	require.Len(t, links, 2, "a survey mail per delivery")
	for i, score := range []string{"3", "10"} {
		resp, err := x.http.PostForm(links[i], url.Values{"score": {score}, "comment": {"box " + score}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	// CS sees one open follow-up, owned by Acme's rep.
	type followUp struct {
		ID         int64  `json:"id"`
		OrderID    string `json:"order_id"`
		ShipmentID string `json:"shipment_id"`
		Score      int    `json:"score"`
		Comment    string `json:"comment"`
		Owner      string `json:"owner"`
	}
	var list struct {
		Items []followUp `json:"items"`
	}
	a := x.api(http.MethodGet, "/v1/worklists/followups?customer_id=ACME-001", order.RoleCS, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.NoError(t, json.Unmarshal(a.body, &list))
	var mine []followUp
	for _, f := range list.Items {
		if f.OrderID == id {
			mine = append(mine, f)
		}
	}
	require.Len(t, mine, 1, "one follow-up, for the detractor's delivery only: %s", a.body)
	fu := mine[0]
	require.Equal(t, 3, fu.Score)
	require.Equal(t, "box 3", fu.Comment)
	require.NotEmpty(t, fu.ShipmentID)
	require.Equal(t, "anna.rep@seller.example", fu.Owner)

	// CS and the rep were told.
	require.Contains(t, x.mailText(id, "rep-detractor"), "3 out of 10")
	require.Contains(t, x.mailText(id, "cs-alert"), "detractor score 3")

	// Another rep may not close it; its owner does, with a note.
	other := order.Actor{Subject: "ben.rep@seller.example", Role: order.RoleSalesRep}
	rep := order.Actor{Subject: "anna.rep@seller.example", Role: order.RoleSalesRep}
	path := fmt.Sprintf("/v1/followups/%d/close", fu.ID)
	a = x.as(other, http.MethodPost, path, map[string]any{"note": "not mine"})
	require.Equal(t, http.StatusForbidden, a.status, "%s", a.body)
	a = x.as(rep, http.MethodPost, path, map[string]any{"note": "called the buyer; a replacement box is on its way"})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	x.waitAudit(id, "called the buyer; a replacement box is on its way")

	a = x.as(rep, http.MethodGet, "/v1/worklists/followups", nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.NotContains(t, string(a.body), fmt.Sprintf(`"id":%d,`, fu.ID), "closed, off the list")

	x.pay(v)
	x.waitStatus(id, order.StatusCompleted, 30*time.Second)
}
