package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/orderflow/orderflow/internal/mail"
	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
	"github.com/orderflow/orderflow/internal/store"
	"github.com/orderflow/orderflow/workflows"
)

// Request bodies of the order updates.
type (
	acceptRequest struct {
		Revision int `json:"revision"`
	}
	reviseRequest struct {
		Lines []order.Line `json:"lines"`
		// DiscountBP, when present, asks for a discount: sales people only.
		DiscountBP *int64 `json:"discount_bp"`
		Reason     string `json:"reason"`
	}
	reasonRequest struct {
		Reason string `json:"reason"`
	}
	creditNoteRequest struct {
		Amount *money.Money `json:"amount"`
		Lines  []order.Line `json:"lines"`
		Reason string       `json:"reason"`
		// InvoiceNumber names the invoice of an order invoiced per
		// shipment; the order's only invoice without it.
		InvoiceNumber string `json:"invoice_number"`
	}
	writeOffRequest struct {
		Amount        *money.Money `json:"amount"`
		Reason        string       `json:"reason"`
		InvoiceNumber string       `json:"invoice_number"`
	}
	reshipRequest struct {
		ShipmentID string `json:"shipment_id"`
		Reason     string `json:"reason"`
	}
	returnRequest struct {
		Lines  []order.Line `json:"lines"`
		Reason string       `json:"reason"`
	}
	refundRequest struct {
		Amount            *money.Money `json:"amount"`
		BankTransactionID string       `json:"bank_transaction_id"`
		Reason            string       `json:"reason"`
	}
	approvalRequest struct {
		Approve *bool  `json:"approve"`
		Comment string `json:"comment"`
		// DelegationID names the delegation a colleague decides under;
		// without it, the first in force that fits the order.
		DelegationID string `json:"delegation_id"`
	}
	creditDecisionRequest struct {
		Decision workflows.CreditDecision `json:"decision"`
		Reason   string                   `json:"reason"`
	}
	actionRequest struct {
		Action workflows.Action `json:"action"`
		Reason string           `json:"reason"`
		Mail   mail.Kind        `json:"mail"`
	}
)

// checkText checks a free-text field: required or not, at most maxReasonLen
// characters of valid UTF-8 without control characters other than line
// breaks and tabs. It ends up in the audit log's PostgreSQL text, which
// cannot hold NUL.
func checkText(field, v string, required bool) *order.FieldError {
	switch {
	case required && strings.TrimSpace(v) == "":
		return &order.FieldError{Field: field, Reason: "required"}
	case !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxReasonLen:
		return &order.FieldError{Field: field, Reason: fmt.Sprintf("at most %d characters", maxReasonLen)}
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return &order.FieldError{Field: field, Reason: "no control characters"}
		}
	}
	return nil
}

// collect gathers the non-nil field errors into one 422, or nil.
func collect(errs ...*order.FieldError) error {
	var out []order.FieldError
	for _, e := range errs {
		if e != nil {
			out = append(out, *e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return invalid(out...)
}

// accept is POST /v1/orders/{id}/accept.
func (s *server) accept(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, nil, func(a order.Actor) (string, any, error) {
		var in acceptRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if in.Revision < 0 {
			return "", nil, invalidField("revision", "0 (the current revision) or a revision number")
		}
		return workflows.UpdateAccept, workflows.AcceptInput{Actor: a, Revision: in.Revision}, nil
	})
}

// revise is POST /v1/orders/{id}/revise.
func (s *server) revise(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, nil, func(a order.Actor) (string, any, error) {
		var in reviseRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var bp int64
		if in.DiscountBP != nil {
			if !a.Role.MayDiscount() {
				return "", nil, discountForbidden(a)
			}
			bp = *in.DiscountBP
		}
		var discount *order.FieldError
		if bp < 0 || bp > maxDiscountBP {
			discount = &order.FieldError{Field: "discount_bp", Reason: fmt.Sprintf("between 0 and %d basis points", maxDiscountBP)}
		}
		if err := collect(checkLines(in.Lines), discount, checkText("reason", in.Reason, false)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateRevise, workflows.ReviseInput{Actor: a, Lines: in.Lines, DiscountBP: bp, Reason: in.Reason}, nil
	})
}

// reject is POST /v1/orders/{id}/reject.
func (s *server) reject(w http.ResponseWriter, r *http.Request) error {
	return s.reasonUpdate(w, r, workflows.UpdateReject, func(a order.Actor, reason string) any {
		return workflows.RejectInput{Actor: a, Reason: reason}
	})
}

// cancel is POST /v1/orders/{id}/cancel.
func (s *server) cancel(w http.ResponseWriter, r *http.Request) error {
	return s.reasonUpdate(w, r, workflows.UpdateCancel, func(a order.Actor, reason string) any {
		return workflows.CancelInput{Actor: a, Reason: reason}
	})
}

// dispute is POST /v1/orders/{id}/dispute: the buyer or CS disputes the
// invoice, which pauses payment reminders.
func (s *server) dispute(w http.ResponseWriter, r *http.Request) error {
	return s.reasonUpdate(w, r, workflows.UpdateDispute, func(a order.Actor, reason string) any {
		return workflows.DisputeInput{Actor: a, Reason: reason}
	})
}

// resolve is POST /v1/orders/{id}/resolve: the dispute is settled.
func (s *server) resolve(w http.ResponseWriter, r *http.Request) error {
	return s.reasonUpdate(w, r, workflows.UpdateResolve, func(a order.Actor, reason string) any {
		return workflows.ResolveInput{Actor: a, Reason: reason}
	})
}

// creditNote is POST /v1/orders/{id}/credit-note: CS (up to the customer's
// limit) or finance credits an amount on the order's invoice.
func (s *server) creditNote(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleCS, order.RoleFinance}, func(a order.Actor) (string, any, error) {
		var in creditNoteRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var what *order.FieldError
		switch {
		case in.Amount != nil && len(in.Lines) > 0:
			what = &order.FieldError{Field: "lines", Reason: "credit an amount or lines, not both"}
		case len(in.Lines) > 0:
			what = order.ValidateLines(in.Lines)
		default:
			what = checkAmount(in.Amount)
		}
		if err := collect(what, checkText("reason", in.Reason, true), checkID("invoice_number", in.InvoiceNumber, false)); err != nil {
			return "", nil, err
		}
		cn := workflows.CreditNoteInput{Actor: a, Lines: in.Lines, Reason: in.Reason, InvoiceNumber: in.InvoiceNumber}
		if in.Amount != nil {
			cn.Amount = *in.Amount
		}
		return workflows.UpdateCreditNote, cn, nil
	})
}

// writeOff is POST /v1/orders/{id}/write-off: finance writes off what is
// left open on the invoice (all of it without an amount).
func (s *server) writeOff(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleFinance}, func(a order.Actor) (string, any, error) {
		var in writeOffRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var amount *order.FieldError
		if in.Amount != nil {
			amount = checkAmount(in.Amount)
		}
		if err := collect(amount, checkText("reason", in.Reason, true), checkID("invoice_number", in.InvoiceNumber, false)); err != nil {
			return "", nil, err
		}
		wo := workflows.WriteOffInput{Actor: a, Reason: in.Reason, InvoiceNumber: in.InvoiceNumber}
		if in.Amount != nil {
			wo.Amount = *in.Amount
		}
		return workflows.UpdateWriteOff, wo, nil
	})
}

// applyCredit is POST /v1/orders/{id}/apply-credit: finance applies part of
// the customer's credit balance to the order's invoice.
func (s *server) applyCredit(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleFinance}, func(a order.Actor) (string, any, error) {
		var in writeOffRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if err := collect(checkAmount(in.Amount), checkText("reason", in.Reason, true), checkID("invoice_number", in.InvoiceNumber, false)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateApplyCredit, workflows.ApplyCreditInput{Actor: a, Amount: *in.Amount, Reason: in.Reason,
			InvoiceNumber: in.InvoiceNumber}, nil
	})
}

// reship is POST /v1/orders/{id}/reship: CS replaces a lost or damaged
// shipment from stock.
func (s *server) reship(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleCS}, func(a order.Actor) (string, any, error) {
		var in reshipRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if err := collect(checkText("shipment_id", in.ShipmentID, true), checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateReship, workflows.ReshipInput{Actor: a, ShipmentID: strings.TrimSpace(in.ShipmentID), Reason: in.Reason}, nil
	})
}

// returnGoods is POST /v1/orders/{id}/return: CS takes delivered goods
// back (RMA, pickup; the credit note and any refund follow the goods).
func (s *server) returnGoods(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleCS}, func(a order.Actor) (string, any, error) {
		var in returnRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if err := collect(order.ValidateLines(in.Lines), checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateReturn, workflows.ReturnInput{Actor: a, Lines: in.Lines, Reason: in.Reason}, nil
	})
}

// checkAmount checks a money amount in a request body.
func checkAmount(m *money.Money) *order.FieldError {
	switch {
	case m == nil:
		return &order.FieldError{Field: "amount", Reason: "required: {\"minor\": …, \"currency\": …}"}
	case m.Minor <= 0 || m.Minor > MaxPaymentMinor:
		return &order.FieldError{Field: "amount.minor", Reason: fmt.Sprintf("between 1 and %d minor units", int64(MaxPaymentMinor))}
	case !money.ValidCurrency(m.Currency):
		return &order.FieldError{Field: "amount.currency", Reason: "an ISO 4217 code"}
	}
	return nil
}

// refund is POST /v1/orders/{id}/refund: finance pays money back to the
// payer of one of the order's payments.
func (s *server) refund(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleFinance}, func(a order.Actor) (string, any, error) {
		var in refundRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if err := collect(checkAmount(in.Amount), checkText("bank_transaction_id", in.BankTransactionID, false),
			checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateRefund, workflows.RefundInput{Actor: a, Amount: *in.Amount,
			BankTransactionID: strings.TrimSpace(in.BankTransactionID), Reason: in.Reason}, nil
	})
}

// reasonUpdate runs an update whose body is only a required reason.
func (s *server) reasonUpdate(w http.ResponseWriter, r *http.Request, name string, input func(order.Actor, string) any) error {
	return s.runUpdate(w, r, nil, func(a order.Actor) (string, any, error) {
		var in reasonRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		if err := collect(checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return name, input(a, in.Reason), nil
	})
}

// approve is POST /v1/orders/{id}/approvals.
func (s *server) approve(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdateOn(w, r, nil, func(a order.Actor, rec store.OrderRecord) (string, any, error) {
		var in approvalRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var missing *order.FieldError
		if in.Approve == nil {
			missing = &order.FieldError{Field: "approve", Reason: "required: true or false"}
		}
		if err := collect(missing, checkText("comment", in.Comment, false), checkID("delegation_id", in.DelegationID, false)); err != nil {
			return "", nil, err
		}
		d, err := s.onBehalfOf(r.Context(), a, rec, in.DelegationID)
		if err != nil {
			return "", nil, err
		}
		return workflows.UpdateApprove, workflows.ApproveInput{Actor: a, Approve: *in.Approve, Comment: in.Comment, OnBehalfOf: d}, nil
	})
}

// creditDecision is POST /v1/orders/{id}/credit-decision: finance only.
func (s *server) creditDecision(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleFinance}, func(a order.Actor) (string, any, error) {
		var in creditDecisionRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var decision *order.FieldError
		switch in.Decision {
		case workflows.CreditOverride, workflows.CreditDecline, workflows.CreditPrepay:
		default:
			decision = &order.FieldError{Field: "decision", Reason: "one of override, decline, prepay"}
		}
		if err := collect(decision, checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateCreditDecision, workflows.CreditDecisionInput{Actor: a, Decision: in.Decision, Reason: in.Reason}, nil
	})
}

// action is POST /v1/orders/{id}/actions: CS only.
func (s *server) action(w http.ResponseWriter, r *http.Request) error {
	return s.runUpdate(w, r, []order.Role{order.RoleCS}, func(a order.Actor) (string, any, error) {
		var in actionRequest
		if err := decodeJSON(w, r, &in); err != nil {
			return "", nil, err
		}
		var action, kind *order.FieldError
		switch in.Action {
		case workflows.ActionRetry, workflows.ActionSkip, workflows.ActionCancel:
			if in.Mail != "" {
				kind = &order.FieldError{Field: "mail", Reason: "only with action resend"}
			}
		case workflows.ActionResend:
			if !slices.Contains(mail.Kinds(), in.Mail) {
				kind = &order.FieldError{Field: "mail", Reason: fmt.Sprintf("required with resend: one of %v", mail.Kinds())}
			}
		default:
			action = &order.FieldError{Field: "action", Reason: "one of retry, skip, resend, cancel"}
		}
		if err := collect(action, kind, checkText("reason", in.Reason, true)); err != nil {
			return "", nil, err
		}
		return workflows.UpdateAction, workflows.ActionInput{Actor: a, Action: in.Action, Reason: in.Reason, Mail: in.Mail}, nil
	})
}

// runUpdate is the shape every order update shares: role check, visibility
// check, body (build), then the Temporal Update, waiting for its result.
//
// An optional Idempotency-Key header becomes the Update id, so a client that
// lost the answer may resend and get the first outcome instead of a second
// decision.
func (s *server) runUpdate(w http.ResponseWriter, r *http.Request, roles []order.Role,
	build func(order.Actor) (name string, arg any, err error)) error {
	return s.runUpdateOn(w, r, roles, func(a order.Actor, _ store.OrderRecord) (string, any, error) { return build(a) })
}

// runUpdateOn is runUpdate for a build that needs the order's record.
func (s *server) runUpdateOn(w http.ResponseWriter, r *http.Request, roles []order.Role,
	build func(order.Actor, store.OrderRecord) (name string, arg any, err error)) error {
	ctx := r.Context()
	actor := actorFrom(ctx)
	if len(roles) > 0 {
		if err := requireRole(actor, roles...); err != nil {
			return err
		}
	}
	rec, err := s.loadOrder(r)
	if err != nil {
		return err
	}
	name, arg, err := build(actor, rec)
	if err != nil {
		return err
	}
	opts := client.UpdateWorkflowOptions{
		WorkflowID:   rec.ID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	}
	if key := r.Header.Get(IdempotencyKeyHeader); key != "" {
		if !validIdempotencyKey(key) {
			return badRequest("bad Idempotency-Key header",
				order.FieldError{Field: IdempotencyKeyHeader, Reason: fmt.Sprintf("1 to %d printable ASCII characters", maxIdemKeyLen)})
		}
		sum := sha256.Sum256([]byte(actor.Subject + "\x00" + name + "\x00" + key))
		opts.UpdateID = "api-" + hex.EncodeToString(sum[:16])
	}
	res, err := s.update(ctx, rec, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// update sends an update to the order and waits for its answer.
func (s *server) update(ctx context.Context, rec store.OrderRecord, opts client.UpdateWorkflowOptions) (workflows.DecisionResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.updTimeout)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(ctx, opts)
	var res workflows.DecisionResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return workflows.DecisionResult{}, updateError(rec, err)
	}
	return res, nil
}

// sendUpdate is update for a page's action (no idempotency key: a page
// acts once, and the order refuses a second answer).
func (s *server) sendUpdate(ctx context.Context, rec store.OrderRecord, name string, arg any) error {
	_, err := s.update(ctx, rec, client.UpdateWorkflowOptions{WorkflowID: rec.ID, UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	return err
}

// updateError tells a finished order from a missing workflow; the rest is
// problemFor's.
func updateError(rec store.OrderRecord, err error) error {
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return fmt.Errorf("update order %s: %w", rec.ID, err)
	}
	if rec.Status.Terminal() || strings.Contains(nf.Error(), "already completed") {
		return &apiError{status: http.StatusConflict, slug: ProblemOrderFinished,
			detail: "order is finished", err: err}
	}
	return &apiError{status: http.StatusNotFound, slug: ProblemNotFound,
		detail: fmt.Sprintf("order %s has no running workflow", rec.ID), err: err}
}
