package store

import (
	"context"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/internal/money"
	"github.com/orderflow/orderflow/internal/order"
)

// DemoCustomers returns the three customers of the demo data set, the same
// ones the ERP simulator seeds (its open receivables and prices match them).
// Each call returns fresh values the caller may change.
func DemoCustomers() []order.Terms {
	eur := func(minor int64) money.Money { return money.New(minor, "EUR") }
	usd := func(minor int64) money.Money { return money.New(minor, "USD") }
	return []order.Terms{
		{
			CustomerID:             "ACME-001",
			CustomerName:           "Acme Industrial GmbH",
			BuyerEmail:             "purchasing@acme.example",
			RepEmail:               "anna.rep@seller.example",
			Currency:               "EUR",
			CreditLimit:            eur(5_000_000),
			PaymentTermsDays:       30,
			DiscountBP:             300,
			RepDiscountAuthorityBP: 1000,
			PurchasingLimit:        eur(1_000_000),
			DualApprovalThreshold:  eur(2_500_000),
			QuoteValidityDays:      14,
			LeadTimeDays:           5,
			// 20 cents against the list price of 25.
			ContractPrices: map[string]money.Money{"BOLT-M8": eur(20)},
			// A German customer of a German seller: 19 % VAT.
			VATRateBP:         1900,
			CreditNoteLimitCS: eur(50_000),
			// A short payment of up to 5.00 EUR or 0.5 %, the smaller, is written off.
			ShortPayTolerance: eur(500), ShortPayToleranceBP: 50,
			VATID:   "DE811111111",
			Address: order.Address{Street: "Werkstraße 12", City: "Stuttgart", Postcode: "70565", Country: "DE"},
			// Each mail to the people it concerns.
			Contacts: []order.Contact{
				{Name: "Purchasing", Email: "purchasing@acme.example", Roles: []order.ContactRole{order.ContactPurchaser}},
				{Name: "Carla Fischer (CFO)", Email: "cfo@acme.example", Roles: []order.ContactRole{order.ContactApprover}},
				{Name: "Accounts payable", Email: "ap@acme.example", Roles: []order.ContactRole{order.ContactAccountsPayable}},
				{Name: "Goods receiving", Email: "goods-in@acme.example", Roles: []order.ContactRole{order.ContactReceiving}},
			},
		},
		{
			CustomerID:             "GLOBEX-002",
			CustomerName:           "Globex Corporation",
			BuyerEmail:             "procurement@globex.example",
			RepEmail:               "ben.rep@seller.example",
			Currency:               "EUR",
			CreditLimit:            eur(200_000),
			PaymentTermsDays:       14,
			DiscountBP:             0,
			RepDiscountAuthorityBP: 500,
			PurchasingLimit:        eur(0), // none: no buyer-side approval
			DualApprovalThreshold:  eur(0), // none: never two seller approvers
			QuoteValidityDays:      7,
			LeadTimeDays:           3,
			// Another EU country's business: reverse charge, no VAT charged.
			VATRateBP:         1900,
			ReverseCharge:     true,
			CreditNoteLimitCS: eur(10_000),
			ShortPayTolerance: eur(200), ShortPayToleranceBP: 20,
			// A French company: intra-EU, VAT id required for reverse charge.
			VATID:   "FR12345678901",
			Address: order.Address{Street: "18 rue de la Logistique", City: "Lyon", Postcode: "69007", Country: "FR"},
		},
		{
			CustomerID:             "INITECH-003",
			CustomerName:           "Initech Ltd",
			BuyerEmail:             "ap@initech.example",
			RepEmail:               "anna.rep@seller.example",
			Currency:               "USD",
			CreditLimit:            usd(10_000_000),
			PaymentTermsDays:       45,
			DiscountBP:             0,
			RepDiscountAuthorityBP: 500,
			PurchasingLimit:        usd(500_000),
			DualApprovalThreshold:  usd(2_000_000),
			QuoteValidityDays:      30,
			LeadTimeDays:           7,
			CreditNoteLimitCS:      usd(50_000),
			ShortPayTolerance:      usd(500), ShortPayToleranceBP: 50,
			// Deliveries from two warehouses are billed as each arrives.
			InvoicePerShipment: true,
			// A US company: no EU VAT id, no VAT charged (export).
			Address: order.Address{Street: "4120 Freidrich Lane", City: "Austin", Postcode: "78744", Country: "US"},
		},
	}
}

// DemoReps returns the sales reps of the demo data set: the customers'
// reps and the rep orderflow dev mints a token for.
func DemoReps() []Rep {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return []Rep{
		{Subject: "anna.rep@seller.example", Name: "Anna Rep", Email: "anna.rep@seller.example", DiscountAuthorityBP: 1000, UpdatedAt: at, UpdatedBy: "seed"},
		{Subject: "ben.rep@seller.example", Name: "Ben Rep", Email: "ben.rep@seller.example", DiscountAuthorityBP: 500, UpdatedAt: at, UpdatedBy: "seed"},
		{Subject: "rita.rep@seller.example", Name: "Rita Rep", Email: "rita.rep@seller.example", DiscountAuthorityBP: 500, UpdatedAt: at, UpdatedBy: "seed"},
	}
}

// DemoPayerAccounts are the accounts on file as paying for the demo
// customers (valid German IBANs, as GET /v1/customers/{id}/terms lists
// them): a payment from one of them without a usable reference is matched
// to the customer's open invoices by amount (docs/design.md, "Matching
// payments"). The scenario player pays with them.
var DemoPayerAccounts = map[string]string{
	"ACME-001":    "DE89370400440532013000",
	"GLOBEX-002":  "DE12500105170648489890",
	"INITECH-003": "DE77100100100123456789",
}

// SeedDemo upserts the demo customers and reps, and puts the demo payer
// accounts on file; running it again restores their terms and authorities.
func (s *Store) SeedDemo(ctx context.Context) error {
	for _, t := range DemoCustomers() {
		if err := s.UpsertCustomer(ctx, t); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		if acct := DemoPayerAccounts[t.CustomerID]; acct != "" {
			if _, err := s.AddPayerAccount(ctx, t.CustomerID, acct, PayerAccountSeed, "seed", nil); err != nil {
				return fmt.Errorf("seed demo data: %w", err)
			}
		}
	}
	for _, r := range DemoReps() {
		if _, err := s.UpsertRep(ctx, r); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	return nil
}
