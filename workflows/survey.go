package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// runSurvey is the NPS survey, beside invoicing and payment.
func (o *orderState) runSurvey(ctx workflow.Context) {
	defer func() { o.surveyClosed = true }()
	var res activities.OpenSurveyResult
	if err := workflow.ExecuteActivity(ownDatabase(ctx, "Open NPS survey"), a.OpenSurvey, activities.OpenSurveyInput{
		OrderID: o.in.OrderID, ExpiresAt: workflow.Now(ctx).Add(SurveyWindow)}).Get(ctx, &res); err != nil {
		o.logger.Error("open survey", "Error", err)
		o.d.SurveyState = "not sent: " + err.Error()
		return
	}
	o.d.SurveyState = "sent"
	o.notify(ctx, "survey", mail.KindSurvey, activities.AudienceBuyer, mail.Data{SurveyURL: res.URL})
	answered := func() bool { return o.surveyAnswer != nil }
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: SurveyReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "survey reminder"}}, answered)
	if err == nil && !ok {
		o.d.SurveyState = "reminded"
		o.notify(ctx, "survey-reminder", mail.KindSurveyReminder, activities.AudienceBuyer, mail.Data{SurveyURL: res.URL})
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: SurveyWindow - SurveyReminderAfter, TimerOptions: workflow.TimerOptions{Summary: "survey window"}}, answered)
	}
	if err != nil {
		return
	}
	if ok {
		s := o.surveyAnswer
		o.d.SurveyState = fmt.Sprintf("answered: %d", s.Score)
		o.record(ctx, order.System, "survey.answered", fmt.Sprintf("score %d", s.Score))
		if s.Score <= 6 {
			o.notify(ctx, "detractor", mail.KindCSAlert, activities.AudienceCS, mail.Data{Step: "NPS survey",
				Error: fmt.Sprintf("detractor score %d: %q", s.Score, s.Comment), Reason: "call the customer"})
		}
	} else {
		o.d.SurveyState = "closed unanswered"
		o.record(ctx, order.System, "survey.closed", "no answer within the window")
	}
	if err := workflow.ExecuteActivity(ownDatabase(ctx, "Close NPS survey"), a.CloseSurvey, activities.CloseSurveyInput{OrderID: o.in.OrderID}).Get(ctx, nil); err != nil {
		o.logger.Error("close survey", "Error", err)
	}
}
