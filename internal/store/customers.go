package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// UpsertCustomer writes a customer's terms and replaces its contract prices,
// in one transaction so a pricing run never sees half of a change.
//
// Every amount must be in the terms' currency; a zero amount without a
// currency is taken as "none" (no purchasing limit, no dual approval).
func (s *Store) UpsertCustomer(ctx context.Context, t order.Terms) error {
	if err := validateTerms(t); err != nil {
		return fmt.Errorf("upsert customer %q: %w", t.CustomerID, err)
	}
	what := fmt.Sprintf("upsert customer %q", t.CustomerID)
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		if err := writeTerms(ctx, tx, t); err != nil {
			return err
		}
		if err := setContacts(ctx, tx, t.CustomerID, t.Contacts); err != nil {
			return dbError(what+": write contacts", err)
		}
		return nil
	})
}

// writeTerms writes a customer's terms and replaces its contract prices
// within tx (contacts are not terms: they stay).
func writeTerms(ctx context.Context, tx pgx.Tx, t order.Terms) error {
	skus := slices.Sorted(maps.Keys(t.ContractPrices))
	prices := make([]int64, len(skus))
	for i, sku := range skus {
		prices[i] = t.ContractPrices[sku].Minor
	}
	what := fmt.Sprintf("write terms of customer %q", t.CustomerID)
	_, err := tx.Exec(ctx, `
		INSERT INTO customers (id, name, buyer_email, rep_email, currency, credit_limit_minor,
			payment_terms_days, discount_bp, rep_discount_authority_bp, purchasing_limit_minor,
			dual_approval_threshold_minor, quote_validity_days, lead_time_days, vat_rate_bp, reverse_charge,
			credit_note_limit_cs_minor, vat_id, street, city, postcode, country,
			short_pay_tolerance_minor, short_pay_tolerance_bp, invoice_per_shipment)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		ON CONFLICT (id) DO UPDATE SET
			name = EXCLUDED.name,
			buyer_email = EXCLUDED.buyer_email,
			rep_email = EXCLUDED.rep_email,
			currency = EXCLUDED.currency,
			credit_limit_minor = EXCLUDED.credit_limit_minor,
			payment_terms_days = EXCLUDED.payment_terms_days,
			discount_bp = EXCLUDED.discount_bp,
			rep_discount_authority_bp = EXCLUDED.rep_discount_authority_bp,
			purchasing_limit_minor = EXCLUDED.purchasing_limit_minor,
			dual_approval_threshold_minor = EXCLUDED.dual_approval_threshold_minor,
			quote_validity_days = EXCLUDED.quote_validity_days,
			lead_time_days = EXCLUDED.lead_time_days,
			vat_rate_bp = EXCLUDED.vat_rate_bp,
			reverse_charge = EXCLUDED.reverse_charge,
			credit_note_limit_cs_minor = EXCLUDED.credit_note_limit_cs_minor,
			vat_id = EXCLUDED.vat_id,
			street = EXCLUDED.street,
			city = EXCLUDED.city,
			postcode = EXCLUDED.postcode,
			country = EXCLUDED.country,
			short_pay_tolerance_minor = EXCLUDED.short_pay_tolerance_minor,
			short_pay_tolerance_bp = EXCLUDED.short_pay_tolerance_bp,
			invoice_per_shipment = EXCLUDED.invoice_per_shipment,
			updated_at = now()`,
		t.CustomerID, t.CustomerName, t.BuyerEmail, t.RepEmail, t.Currency, t.CreditLimit.Minor,
		t.PaymentTermsDays, t.DiscountBP, t.RepDiscountAuthorityBP, t.PurchasingLimit.Minor,
		t.DualApprovalThreshold.Minor, t.QuoteValidityDays, t.LeadTimeDays, t.VATRateBP, t.ReverseCharge,
		t.CreditNoteLimitCS.Minor, t.VATID, t.Address.Street, t.Address.City, t.Address.Postcode, t.Address.Country,
		t.ShortPayTolerance.Minor, t.ShortPayToleranceBP, t.InvoicePerShipment)
	if err != nil {
		return dbError(what, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM contract_prices WHERE customer_id = $1`, t.CustomerID); err != nil {
		return dbError(what+": clear contract prices", err)
	}
	if len(skus) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO contract_prices (customer_id, sku, unit_price_minor, currency)
		SELECT $1, p.sku, p.minor, $4
		FROM unnest($2::text[], $3::bigint[]) AS p (sku, minor)`,
		t.CustomerID, skus, prices, t.Currency)
	if err != nil {
		return dbError(what+": write contract prices", err)
	}
	return nil
}

// validateTerms checks what the table's constraints would refuse less clearly,
// and the currencies, which the table cannot see.
func validateTerms(t order.Terms) error {
	if t.CustomerID == "" {
		return &order.FieldError{Field: "customer_id", Reason: "required"}
	}
	if !money.ValidCurrency(t.Currency) {
		return &order.FieldError{Field: "currency", Reason: fmt.Sprintf("%q is not an ISO 4217 code", t.Currency)}
	}
	if t.ShortPayToleranceBP < 0 || t.ShortPayToleranceBP > 10000 {
		return &order.FieldError{Field: "short_pay_tolerance_bp", Reason: "between 0 and 10000 basis points"}
	}
	if t.VATRateBP < 0 || t.VATRateBP > 10000 {
		return &order.FieldError{Field: "vat_rate_bp", Reason: "between 0 and 10000 basis points"}
	}
	if fe := order.ValidateContacts(t.Contacts); fe != nil {
		return fe
	}
	if c := t.Address.Country; c != "" && (len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
		return &order.FieldError{Field: "address.country", Reason: fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 code", c)}
	}
	amounts := []struct {
		field string
		m     money.Money
	}{
		{"credit_limit", t.CreditLimit},
		{"purchasing_limit", t.PurchasingLimit},
		{"dual_approval_threshold", t.DualApprovalThreshold},
		{"credit_note_limit_cs", t.CreditNoteLimitCS},
		{"short_pay_tolerance", t.ShortPayTolerance},
	}
	for sku, p := range t.ContractPrices {
		amounts = append(amounts, struct {
			field string
			m     money.Money
		}{"contract_prices." + sku, p})
	}
	for _, a := range amounts {
		if a.m.Currency != t.Currency && !(a.m.Currency == "" && a.m.Minor == 0) {
			return &order.FieldError{Field: a.field, Reason: fmt.Sprintf("%s is not in the terms' currency %s", a.m, t.Currency)}
		}
	}
	return nil
}

// Terms returns a customer's terms with its contract prices; ErrNotFound when
// the customer is unknown. Every amount is in the terms' currency.
func (s *Store) Terms(ctx context.Context, customerID string) (order.Terms, error) {
	// A version whose time has come is put in force first.
	if err := s.applyDueTerms(ctx, customerID, s.Now()); err != nil {
		return order.Terms{}, err
	}
	var t order.Terms
	var creditLimit, purchasingLimit, dualApproval, creditNoteLimit, tolerance int64
	var skus, currencies []string
	var prices []int64
	var contacts []byte
	var effectiveFrom *time.Time
	// One statement, so the prices belong to the same version of the terms
	// even while an upsert commits.
	err := s.pool.QueryRow(ctx, `
		SELECT c.id, c.name, c.buyer_email, c.rep_email, c.currency, c.credit_limit_minor,
			c.payment_terms_days, c.discount_bp, c.rep_discount_authority_bp,
			c.purchasing_limit_minor, c.dual_approval_threshold_minor, c.quote_validity_days,
			c.lead_time_days, c.vat_rate_bp, c.reverse_charge, c.credit_note_limit_cs_minor,
			c.vat_id, c.street, c.city, c.postcode, c.country,
			c.short_pay_tolerance_minor, c.short_pay_tolerance_bp, c.invoice_per_shipment,
			c.terms_version, c.terms_effective_from,
			ARRAY(SELECT p.sku FROM contract_prices p WHERE p.customer_id = c.id ORDER BY p.sku),
			ARRAY(SELECT p.unit_price_minor FROM contract_prices p WHERE p.customer_id = c.id ORDER BY p.sku),
			ARRAY(SELECT p.currency FROM contract_prices p WHERE p.customer_id = c.id ORDER BY p.sku),
			COALESCE((SELECT json_agg(json_build_object('name', k.name, 'email', k.email, 'roles', k.roles) ORDER BY k.position)
				FROM customer_contacts k WHERE k.customer_id = c.id), '[]')
		FROM customers c
		WHERE c.id = $1`, customerID).Scan(
		&t.CustomerID, &t.CustomerName, &t.BuyerEmail, &t.RepEmail, &t.Currency, &creditLimit,
		&t.PaymentTermsDays, &t.DiscountBP, &t.RepDiscountAuthorityBP,
		&purchasingLimit, &dualApproval, &t.QuoteValidityDays,
		&t.LeadTimeDays, &t.VATRateBP, &t.ReverseCharge, &creditNoteLimit,
		&t.VATID, &t.Address.Street, &t.Address.City, &t.Address.Postcode, &t.Address.Country,
		&tolerance, &t.ShortPayToleranceBP, &t.InvoicePerShipment,
		&t.Version, &effectiveFrom,
		&skus, &prices, &currencies, &contacts)
	if err != nil {
		return order.Terms{}, dbError(fmt.Sprintf("terms of customer %q", customerID), err)
	}
	if err := json.Unmarshal(contacts, &t.Contacts); err != nil {
		return order.Terms{}, fmt.Errorf("terms of customer %q: contacts: %w", customerID, err)
	}
	if len(t.Contacts) == 0 {
		t.Contacts = nil
	}
	if effectiveFrom != nil {
		t.EffectiveFrom = effectiveFrom.UTC()
	}
	t.CreditLimit = money.New(creditLimit, t.Currency)
	t.PurchasingLimit = money.New(purchasingLimit, t.Currency)
	t.DualApprovalThreshold = money.New(dualApproval, t.Currency)
	t.CreditNoteLimitCS = money.New(creditNoteLimit, t.Currency)
	t.ShortPayTolerance = money.New(tolerance, t.Currency)
	if len(skus) > 0 {
		t.ContractPrices = make(map[string]money.Money, len(skus))
		for i, sku := range skus {
			t.ContractPrices[sku] = money.New(prices[i], currencies[i])
		}
	}
	t.Hash = TermsHash(t)
	return t, nil
}

// SetContacts replaces a customer's contacts; ErrNotFound when there is no
// such customer.
func (s *Store) SetContacts(ctx context.Context, customerID string, contacts []order.Contact) error {
	what := fmt.Sprintf("set contacts of customer %q", customerID)
	if fe := order.ValidateContacts(contacts); fe != nil {
		return fmt.Errorf("%s: %w", what, fe)
	}
	return s.inTx(ctx, what, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR UPDATE`, customerID).Scan(&one); err != nil {
			return dbError(what, err)
		}
		if err := setContacts(ctx, tx, customerID, contacts); err != nil {
			return dbError(what, err)
		}
		return nil
	})
}

// setContacts replaces the customer's contacts within tx.
func setContacts(ctx context.Context, tx pgx.Tx, customerID string, contacts []order.Contact) error {
	if _, err := tx.Exec(ctx, `DELETE FROM customer_contacts WHERE customer_id = $1`, customerID); err != nil {
		return err
	}
	for i, c := range contacts {
		roles := make([]string, len(c.Roles))
		for j, r := range c.Roles {
			roles[j] = string(r)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO customer_contacts (customer_id, email, name, roles, position) VALUES ($1, $2, $3, $4, $5)`,
			customerID, c.Email, c.Name, roles, i); err != nil {
			return err
		}
	}
	return nil
}
