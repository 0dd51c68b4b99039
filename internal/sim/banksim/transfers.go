package banksim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/sim/idempotency"
	"github.com/orderflow/orderflow/internal/sim/jsonapi"
)

// TransferExecuted is the status of every transfer the bank accepted: the
// simulated bank pays out at once.
const TransferExecuted = "executed"

// Payee is who a transfer pays.
type Payee struct {
	Name    string `json:"name"`
	Account string `json:"account,omitempty"`
}

// transferRequest is the body of POST /v1/transfers.
type transferRequest struct {
	To        Payee       `json:"to"`
	Amount    money.Money `json:"amount"`
	Reference string      `json:"reference,omitempty"`
	// RefundOf is the incoming payment paid back: a bank transaction id, or
	// a remittance part's id (webhook.PartTransactionID).
	RefundOf string `json:"refund_of,omitempty"`
}

func (t transferRequest) validate() *jsonapi.Error {
	bad := func(field, detail string) *jsonapi.Error {
		return &jsonapi.Error{Error: "invalid_request", Field: field, Detail: detail}
	}
	switch {
	case t.Amount.Minor <= 0 || t.Amount.Minor > 1_000_000_000_000:
		return bad("amount.minor", "1 to 10^12 minor units")
	case !money.ValidCurrency(t.Amount.Currency):
		return bad("amount.currency", "an ISO 4217 code such as EUR")
	case len(t.To.Name) > 140:
		return bad("to.name", "at most 140 characters")
	case t.RefundOf == "" && strings.TrimSpace(t.To.Name) == "":
		return bad("to.name", "required, unless refund_of names the payment paid back (its payer is paid)")
	case len(t.To.Account) > 34:
		return bad("to.account", "an IBAN, at most 34 characters")
	case t.RefundOf == "" && strings.TrimSpace(t.To.Account) == "":
		return bad("to.account", "required, unless refund_of names the payment paid back (it goes back to the account it came from)")
	case len(t.Reference) > 140:
		return bad("reference", "at most 140 characters")
	case len(t.RefundOf) > 255:
		return bad("refund_of", "at most 255 characters")
	}
	return nil
}

// Transfer is an outgoing transfer as the bank keeps it.
type Transfer struct {
	TransferID string      `json:"transfer_id"`
	Status     string      `json:"status"`
	To         Payee       `json:"to"`
	Amount     money.Money `json:"amount"`
	Reference  string      `json:"reference,omitempty"`
	// RefundOf is the id the instruction named (a transaction's or a
	// remittance part's).
	RefundOf   string    `json:"refund_of,omitempty"`
	ExecutedAt time.Time `json:"executed_at"`
}

func (s *Sim) handleTransfer(w http.ResponseWriter, r *http.Request) {
	if !idempotency.RequireKey(w, r) {
		return
	}
	var req transferRequest
	if !jsonapi.Decode(w, r, maxBody, &req) {
		return
	}
	if bad := req.validate(); bad != nil {
		jsonapi.WriteJSON(w, http.StatusBadRequest, bad)
		return
	}
	s.keys.Run(w, r, req, func(ctx context.Context, tx pgx.Tx) (int, any, error) {
		return s.transfer(ctx, tx, req)
	})
}

// transfer pays out. A refund (RefundOf) pays back an incoming payment, in
// its currency, to its payer unless another is named and to the account it
// came from unless another is given, and never more than the payment (or
// the remittance part named) brought in less the refunds made of it before
// (422 refund_exceeds_payment): the bank's own guard against paying twice.
func (s *Sim) transfer(ctx context.Context, tx pgx.Tx, req transferRequest) (int, any, error) {
	t := Transfer{TransferID: newID("TRF-"), Status: TransferExecuted, To: req.To, Amount: req.Amount,
		Reference: req.Reference, RefundOf: req.RefundOf, ExecutedAt: s.now()}
	t.To.Name, t.To.Account = strings.TrimSpace(t.To.Name), strings.TrimSpace(t.To.Account)
	var base *string
	if req.RefundOf != "" {
		txn, part, _ := strings.Cut(req.RefundOf, ":")
		var payer, currency string
		var paid int64
		err := tx.QueryRow(ctx, `
			SELECT payer, currency, amount_minor FROM banksim_transactions WHERE bank_transaction_id = $1 FOR UPDATE`,
			txn).Scan(&payer, &currency, &paid)
		if isNoRows(err) {
			return http.StatusUnprocessableEntity, jsonapi.Error{Error: "unknown_payment", Field: "refund_of",
				Detail: "no incoming payment " + txn}, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("lock payment %s: %w", txn, err)
		}
		if currency != req.Amount.Currency {
			return http.StatusUnprocessableEntity, jsonapi.Error{Error: "currency_mismatch", Field: "amount.currency",
				Detail: fmt.Sprintf("%s was paid in %s", req.RefundOf, currency)}, nil
		}
		// Never more than the payment brought in, all refunds of it
		// counted; for a part, also never more than the part brought in.
		var refunded, partRefunded int64
		if err := tx.QueryRow(ctx, `
			SELECT COALESCE(sum(amount_minor), 0), COALESCE(sum(amount_minor) FILTER (WHERE refund_of_part = $2), 0)
			FROM banksim_transfers WHERE refund_of = $1`, txn, req.RefundOf).Scan(&refunded, &partRefunded); err != nil {
			return 0, nil, fmt.Errorf("sum the refunds of %s: %w", req.RefundOf, err)
		}
		if exceeds := refundExceeds(req, txn, paid, refunded, currency); exceeds != nil {
			return http.StatusUnprocessableEntity, *exceeds, nil
		}
		if part != "" {
			var partPaid int64
			err := tx.QueryRow(ctx, `
				SELECT amount_minor FROM banksim_remittance_parts WHERE bank_transaction_id = $1 AND reference = $2`,
				txn, part).Scan(&partPaid)
			if isNoRows(err) {
				return http.StatusUnprocessableEntity, jsonapi.Error{Error: "unknown_payment", Field: "refund_of",
					Detail: fmt.Sprintf("payment %s has no remittance part %q", txn, part)}, nil
			}
			if err != nil {
				return 0, nil, fmt.Errorf("read remittance part %s: %w", req.RefundOf, err)
			}
			if exceeds := refundExceeds(req, req.RefundOf, partPaid, partRefunded, currency); exceeds != nil {
				return http.StatusUnprocessableEntity, *exceeds, nil
			}
		}
		if t.To.Name == "" {
			t.To.Name = payer
		}
		base = &txn
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO banksim_transfers (transfer_id, to_name, to_account, amount_minor, currency, reference,
			refund_of, refund_of_part, executed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.TransferID, t.To.Name, t.To.Account, t.Amount.Minor, t.Amount.Currency, t.Reference, base, req.RefundOf,
		t.ExecutedAt); err != nil {
		return 0, nil, fmt.Errorf("book transfer to %s: %w", t.To.Name, err)
	}
	s.log.Info().Str("transfer_id", t.TransferID).Str("to", t.To.Name).Stringer("amount", t.Amount).
		Str("refund_of", req.RefundOf).Msg("transfer executed")
	return http.StatusCreated, t, nil
}

// refundExceeds is the refusal of a refund of more than what brought in
// paid, less what was refunded of it, or nil when it fits.
func refundExceeds(req transferRequest, what string, paid, refunded int64, currency string) *jsonapi.Error {
	if req.Amount.Minor <= paid-refunded {
		return nil
	}
	return &jsonapi.Error{Error: "refund_exceeds_payment", Field: "amount.minor",
		Detail: fmt.Sprintf("%s brought in %s, %s of it paid back already", what,
			money.New(paid, currency), money.New(refunded, currency))}
}

// isNoRows reports whether a query found nothing.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// Transfers lists the outgoing transfers, oldest first; with refundOf, only
// those paying back that incoming payment (a transaction id lists the
// refunds of all its remittance parts too).
func (s *Sim) Transfers(ctx context.Context, refundOf string) ([]Transfer, error) {
	txn, part, _ := strings.Cut(refundOf, ":")
	rows, err := s.pool.Query(ctx, `
		SELECT transfer_id, to_name, to_account, amount_minor, currency, reference, refund_of_part, executed_at
		FROM banksim_transfers
		WHERE $1 = '' OR (refund_of = $1 AND ($2 = '' OR refund_of_part = $3))
		ORDER BY executed_at, transfer_id`, txn, part, refundOf)
	if err != nil {
		return nil, fmt.Errorf("banksim: list transfers: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Transfer, error) {
		t := Transfer{Status: TransferExecuted}
		err := row.Scan(&t.TransferID, &t.To.Name, &t.To.Account, &t.Amount.Minor, &t.Amount.Currency, &t.Reference,
			&t.RefundOf, &t.ExecutedAt)
		t.ExecutedAt = t.ExecutedAt.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("banksim: list transfers: %w", err)
	}
	return list, nil
}
