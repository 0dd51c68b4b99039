package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/workflows"
)

// TestEachDeliveryIsSurveyed: a shipment's survey goes out the moment it is
// delivered, while the other still travels, tied to its warehouse, carrier
// and products; a detractor's answer alerts CS and mails the rep; the
// other survey closes unanswered after its window, and only then does the
// paid order complete.
func TestEachDeliveryIsSurveyed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.at(time.Hour, func() { w.update(workflows.UpdateAccept, workflows.AcceptInput{Actor: buyer}, "") })
	w.at(2*time.Hour, func() {
		w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: "SH-WH-NORTH", EventID: "ev-n"})
	})
	w.at(3*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusShipping, d.Status, "the other shipment still travels")
		require.Equal(t, []workflows.ShipmentSurvey{{ShipmentID: "SH-WH-NORTH", State: "sent"}}, d.Surveys)
		w.signal(workflows.SignalSurveyAnswered, workflows.SurveyAnsweredSignal{ShipmentID: "SH-WH-NORTH", Score: 4, Comment: "two pumps scratched"})
		w.signal(workflows.SignalSurveyAnswered, workflows.SurveyAnsweredSignal{ShipmentID: "SH-WH-NORTH", Score: 10}) // the first answer counts
		w.signal(workflows.SignalSurveyAnswered, workflows.SurveyAnsweredSignal{ShipmentID: "SH-UNKNOWN", Score: 0})
	})
	w.at(24*time.Hour, func() {
		w.signal(workflows.SignalDelivered, workflows.DeliveredSignal{ShipmentID: "SH-WH-SOUTH", EventID: "ev-s"})
	})
	w.at(2*24*time.Hour, func() { w.pay("BTX-1", mainTotal) })
	w.at(3*24*time.Hour, func() {
		d := w.details()
		require.Equal(t, order.StatusPaid, d.Status, "paid, but a survey is open")
		require.Contains(t, d.Waiting, "the NPS survey of each delivery")
	})
	start := time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC)
	w.env.SetStartTime(start)
	res := w.run()
	require.Equal(t, order.StatusCompleted, res.Status)

	d := w.details()
	require.Len(t, d.Surveys, 2)
	north, south := d.Surveys[0], d.Surveys[1]
	require.Equal(t, "answered: 4", north.State)
	require.Equal(t, "two pumps scratched", north.Answer.Comment)
	require.Equal(t, "closed unanswered", south.State)
	require.True(t, north.Closed && south.Closed)
	require.Empty(t, d.SurveyState, "no order-wide survey")

	// Opened per shipment with its scenario.
	require.Len(t, w.surveysOpened, 2)
	require.Equal(t, "SH-WH-NORTH", w.surveysOpened[0].ShipmentID)
	require.Equal(t, "WH-NORTH", w.surveysOpened[0].Warehouse)
	require.Equal(t, "ACME-001", w.surveysOpened[0].CustomerID)
	require.Equal(t, []string{"PUMP-200"}, w.surveysOpened[0].SKUs)
	require.Equal(t, []string{"MOTOR-7K"}, w.surveysOpened[1].SKUs)

	var surveys, reminders, repDetractor, csDetractor []activities.SendMailInput
	for _, m := range w.mails {
		switch {
		case m.Kind == mail.KindSurvey:
			surveys = append(surveys, m)
		case m.Kind == mail.KindSurveyReminder:
			reminders = append(reminders, m)
		case m.Kind == mail.KindRepDetractor:
			repDetractor = append(repDetractor, m)
		case m.Kind == mail.KindCSAlert && m.Key == "ord-1/mail/detractor-SH-WH-NORTH":
			csDetractor = append(csDetractor, m)
		}
	}
	require.Len(t, surveys, 2, "one survey mail per delivery")
	require.Equal(t, "SH-WH-NORTH", surveys[0].Data.Shipment.ShipmentID)
	require.Equal(t, "http://x/survey/tokSH-WH-NORTH", surveys[0].Data.SurveyURL)
	require.Len(t, reminders, 1, "only the unanswered survey is reminded")
	require.Equal(t, "SH-WH-SOUTH", reminders[0].Data.Shipment.ShipmentID)
	require.Len(t, csDetractor, 1)
	require.Len(t, repDetractor, 1)
	require.Equal(t, activities.AudienceRep, repDetractor[0].Audience)
	require.Equal(t, 4, *repDetractor[0].Data.Score)

	// Completed only once the south survey's window (14 days from its
	// delivery) was over.
	var completedAt time.Time
	for _, r := range w.projection() {
		if r.Action == "order.completed" {
			completedAt = r.At
		}
	}
	require.False(t, completedAt.Before(start.Add(24*time.Hour+workflows.SurveyWindow)), "completed at %s", completedAt)
	require.Contains(t, w.actions(), "survey.answered")
	require.Contains(t, w.actions(), "survey.closed")
}
