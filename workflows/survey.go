package workflows

import (
	"fmt"

	"github.com/orderflow/orderflow/activities"
	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/order"
	"go.temporal.io/sdk/workflow"
)

// ShipmentSurvey is the NPS survey of one delivered shipment: the
// fulfilment scenario (its warehouse, carrier and lines) the buyer scores.
type ShipmentSurvey struct {
	ShipmentID string `json:"shipment_id"`
	// State says in words where it stands: sent, reminded, answered: N,
	// closed unanswered, not sent: why.
	State  string                `json:"state"`
	Answer *SurveyAnsweredSignal `json:"answer,omitempty"`
	Closed bool                  `json:"closed"`
}

// How the order surveys the buyer, decided once (changeSurveyPerShipment).
const (
	surveyUndecided = iota
	// surveyWhole: one survey once everything is delivered.
	surveyWhole
	// surveyEach: one survey per delivered shipment.
	surveyEach
)

// surveysPerShipment reports whether the order surveys each delivered
// shipment, asking changeSurveyPerShipment the first time it is needed: at
// the first delivery, or where the one survey would start. An order that
// ran its one survey already (before continuing as new) keeps to it.
func (o *orderState) surveysPerShipment(ctx workflow.Context) bool {
	if o.surveyMode == surveyUndecided {
		o.surveyMode = surveyWhole
		if !o.surveyStarted && o.gate(ctx, changeSurveyPerShipment) {
			o.surveyMode = surveyEach
		}
	}
	return o.surveyMode == surveyEach
}

// surveyDelivered starts the survey of a shipment just delivered, when the
// order surveys each shipment; once per shipment.
func (o *orderState) surveyDelivered(ctx workflow.Context, s order.Shipment) {
	if !o.surveysPerShipment(ctx) || o.shipmentSurvey(s.ShipmentID) != nil {
		return
	}
	o.d.Surveys = append(o.d.Surveys, ShipmentSurvey{ShipmentID: s.ShipmentID, State: "opening"})
	workflow.Go(ctx, func(ctx workflow.Context) { o.runSurvey(ctx, &s) })
}

// shipmentSurvey is the survey of one shipment, nil when it has none.
func (o *orderState) shipmentSurvey(shipmentID string) *ShipmentSurvey {
	for i := range o.d.Surveys {
		if o.d.Surveys[i].ShipmentID == shipmentID {
			return &o.d.Surveys[i]
		}
	}
	return nil
}

// surveyOpen reports whether a survey is still under way.
func (o *orderState) surveyOpen() bool {
	if o.surveyMode == surveyEach {
		for _, s := range o.d.Surveys {
			if !s.Closed {
				return true
			}
		}
		return false
	}
	return o.surveyStarted && !o.surveyClosed
}

// surveysOver reports whether the order may complete as far as its
// surveys go: every shipment's survey closed, or the one survey.
func (o *orderState) surveysOver() bool {
	if o.surveyMode == surveyEach {
		return !o.surveyOpen()
	}
	return o.surveyClosed
}

// takeSurveyAnswer keeps the first answer of an open survey; an answer
// for a shipment goes to that shipment's survey.
func (o *orderState) takeSurveyAnswer(s SurveyAnsweredSignal) {
	if s.ShipmentID != "" {
		if sv := o.shipmentSurvey(s.ShipmentID); sv != nil && sv.Answer == nil && !sv.Closed {
			sv.Answer = &s
		}
		return
	}
	if o.surveyAnswer == nil && !o.surveyClosed {
		o.surveyAnswer = &s
	}
}

// runSurvey is one NPS survey beside invoicing and payment: of the shipment
// sh, or with sh nil the order's one survey (orders from before
// changeSurveyPerShipment), whose commands it keeps exactly.
func (o *orderState) runSurvey(ctx workflow.Context, sh *order.Shipment) {
	id, suffix := "", ""
	in := activities.OpenSurveyInput{OrderID: o.in.OrderID}
	if sh != nil {
		id, suffix = sh.ShipmentID, "-"+sh.ShipmentID
		in.ShipmentID, in.CustomerID, in.Warehouse, in.Carrier = sh.ShipmentID, o.in.CustomerID, sh.Warehouse, sh.Carrier
		for _, l := range sh.Lines {
			in.SKUs = append(in.SKUs, l.SKU)
		}
	}
	state := func(s string) {
		if sv := o.shipmentSurvey(id); sh != nil && sv != nil {
			sv.State = s
		} else {
			o.d.SurveyState = s
		}
	}
	answer := func() *SurveyAnsweredSignal {
		if sh != nil {
			return o.shipmentSurvey(id).Answer
		}
		return o.surveyAnswer
	}
	defer func() {
		if sh != nil {
			o.shipmentSurvey(id).Closed = true
		} else {
			o.surveyClosed = true
		}
	}()
	what, reminder, window := "survey", "survey reminder", "survey window"
	if sh != nil {
		what, reminder, window = "survey of shipment "+id, reminder+" of shipment "+id, window+" of shipment "+id
	}

	var res activities.OpenSurveyResult
	in.ExpiresAt = workflow.Now(ctx).Add(o.business(SurveyWindow))
	if err := o.ownWrite(ctx, o.lean, "Open NPS "+what, a.OpenSurvey, in, &res); err != nil {
		o.logger.Error("open survey", "ShipmentID", id, "Error", err)
		state("not sent: " + err.Error())
		return
	}
	state("sent")
	data := mail.Data{SurveyURL: res.URL, Shipment: sh}
	o.notify(ctx, "survey"+suffix, mail.KindSurvey, activities.AudienceBuyer, data)
	answered := func() bool { return answer() != nil }
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.business(SurveyReminderAfter), TimerOptions: workflow.TimerOptions{Summary: reminder}}, answered)
	if err == nil && !ok {
		state("reminded")
		o.notify(ctx, "survey-reminder"+suffix, mail.KindSurveyReminder, activities.AudienceBuyer, data)
		ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: o.business(SurveyWindow - SurveyReminderAfter), TimerOptions: workflow.TimerOptions{Summary: window}}, answered)
	}
	if err != nil {
		return
	}
	if ok {
		s := answer()
		state(fmt.Sprintf("answered: %d", s.Score))
		o.record(ctx, order.System, "survey.answered", fmt.Sprintf("%sscore %d", shipmentPrefix(id), s.Score))
		if s.Score <= order.DetractorScore {
			o.notify(ctx, "detractor"+suffix, mail.KindCSAlert, activities.AudienceCS, mail.Data{Step: "NPS " + what, Shipment: sh,
				Error: fmt.Sprintf("detractor score %d: %q", s.Score, s.Comment), Reason: "call the customer; a follow-up is open in GET /v1/worklists/followups"})
			if sh != nil {
				score := s.Score
				o.notify(ctx, "rep-detractor"+suffix, mail.KindRepDetractor, activities.AudienceRep, mail.Data{Shipment: sh, Score: &score, Comment: s.Comment})
			}
		}
	} else {
		state("closed unanswered")
		o.record(ctx, order.System, "survey.closed", shipmentPrefix(id)+"no answer within the window")
	}
	if err := o.ownWrite(ctx, o.lean, "Close NPS "+what, a.CloseSurvey,
		activities.CloseSurveyInput{OrderID: o.in.OrderID, ShipmentID: id}, nil); err != nil {
		o.logger.Error("close survey", "ShipmentID", id, "Error", err)
	}
}

// shipmentPrefix names the shipment in an audit reason, "" for the order.
func shipmentPrefix(id string) string {
	if id == "" {
		return ""
	}
	return "shipment " + id + ": "
}
